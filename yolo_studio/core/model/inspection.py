"""Inspection: build a model exactly as Ultralytics does and report every layer.

Per layer: index, from, effective repeats, module, the arguments Ultralytics passed, output
shape, params and GFLOPs; plus totals. A build or forward error is mapped to the layer that
caused it and returned as a ``BuildError``, never a raw traceback. Ultralytics' process-wide
state (class attributes its builds set, its logger, ``parse_model``) is restored afterwards,
and nothing is downloaded: a ``TorchVision`` row asking for pretrained weights is built without
them, with a note.
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
import traceback
from dataclasses import asdict, dataclass, field

from yolo_studio.compat import building, model_dict
from yolo_studio.core.errors import BuildError, CustomBlocksUnsupported

@dataclass
class LayerReport:
    index: int
    section: str
    from_: object
    repeats: int  # effective, after the scale's depth multiple
    module: str  # as written in the YAML
    args: object  # as Ultralytics passed them to the module
    out_shape: object = None  # [C, H, W] without the batch; a list for several outputs
    params: int = 0
    gflops: float = 0.0
    layout: str | None = None  # a custom block's argument layout (docs/CUSTOM_BLOCKS.md) and how it was chosen
    task: str | None = None  # the output row's: the task its head makes
    adapted: bool = False  # a head written for Ultralytics 8.0-8.3, adapted to today's protocol (compat/heads.py)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["from"] = d.pop("from_")
        return d


@dataclass
class InspectionReport:
    scale: str | None
    imgsz: int
    task: str
    model_class: str
    layers: list = field(default_factory=list)
    params: int = 0
    gflops: float = 0.0
    notes: list = field(default_factory=list)
    error: BuildError | None = None  # a forward error leaves layers with params but no shapes
    flops_counted: bool = True  # False in the early report ``inspect_dict`` hands ``on_shapes``
    tensor_shapes: dict = field(default_factory=dict)  # state-dict key -> shape (for the transfer report)


def model_task(d: dict, blocks: dict | None = None) -> tuple:
    """(task, model class name) for a model dict, decided by its last head module as Ultralytics does
    (a custom head's by what its class is)."""
    return building.task_and_class(d, blocks)


def _drop_pretrained(d: dict, notes: list) -> None:
    rows = d["backbone"] + d["head"]
    for i, row in enumerate(rows):
        args = row[3]
        if row[2] == "TorchVision" and len(args) > 2 and args[2] not in (None, "", False, "None"):
            notes.append(f"layer {i}: TorchVision '{args[1]}' is built without its pretrained weights "
                         f"('{args[2]}'): the studio never downloads. Train from scratch or load weights yourself.")
            args[2] = None


def _layer_in_traceback(exc: BaseException) -> int | None:
    """The model layer running when ``exc`` was raised (the innermost one)."""
    layer = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for name in ("m", "self"):
            obj = frame.f_locals.get(name)
            if obj is not None and hasattr(obj, "i") and hasattr(obj, "f") and hasattr(obj, "type"):
                with contextlib.suppress(TypeError, ValueError):
                    layer = int(obj.i)
                break
    return layer


_SIZES = re.compile(r"Expected size (\d+) but got size (\d+) for tensor number (\d+)")


def _size_mismatch(text: str, rows: list, layer: int | None, ran_at: int, imgsz: int) -> BuildError | None:
    """'Expected size 32 but got size 16' from a Concat, in the sizes the nodes show (at ``imgsz``; the
    build runs once at ``ran_at``) and naming the layers the inputs come from."""
    match = _SIZES.search(text)
    if match is None or layer is None or not 0 <= layer < len(rows):
        return None
    from yolo_studio.core.model.renumber import target

    first, other, k = (int(g) for g in match.groups())
    refs = rows[layer][0] if isinstance(rows[layer][0], list) else [rows[layer][0]]
    source = lambda i: f"input {i} (layer {target(layer, refs[i])})" if i < len(refs) else f"input {i}"  # noqa: E731
    size = lambda n: f"{n * imgsz // ran_at}×{n * imgsz // ran_at}"  # noqa: E731
    return BuildError(f"{rows[layer][2]} joins maps of different sizes: {source(0)} is {size(first)} but {source(k)} "
                      f"is {size(other)} at imgsz {imgsz}", layer,
                      "Concatenated maps must have the same height and width: read layers of the same stride, or "
                      "resample one (nn.Upsample to enlarge, a stride-2 Conv to shrink).")


def _explain(exc: BaseException, rows: list, layer: int | None, ran_at: int = 640, imgsz: int = 640) -> BuildError:
    """A ``BuildError`` a user can act on, for an exception raised while building or running ``rows``
    (at image size ``ran_at``; sizes are reported at ``imgsz``, the size the user inspects)."""
    from yolo_studio.core.model.memory_guard import OverBudget, sizes_text
    from yolo_studio.compat.ultralytics_hook import BlockLayoutError

    if isinstance(exc, BlockLayoutError):  # already says what was tried and the line to add
        return BuildError(exc.message, exc.layer, exc.hint)
    module = rows[layer][2] if layer is not None and 0 <= layer < len(rows) else None
    if isinstance(exc, OverBudget):
        at = f" at imgsz {ran_at}" if exc.from_image else ""
        needed, limit = sizes_text(exc.needed, exc.limit)
        return BuildError(f"{module or 'the model'} is too large to {'run' if exc.from_image else 'build'}{at}: "
                          f"{exc.what} would need {needed} of memory, more than the {limit} one measurement "
                          "may use", layer,
                          "Check this layer's arguments and what it reads: a channel count, expansion or repeat "
                          "far larger than meant, or a map enlarged again and again (nn.Upsample).")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    mismatch = _size_mismatch(text, rows, layer, ran_at, imgsz) if isinstance(exc, RuntimeError) else None
    if mismatch is not None:
        return mismatch
    if isinstance(exc, KeyError) and module is not None:
        return BuildError(f"unknown module '{module}'", layer, "Check the spelling, or add the block to the modules folder.")
    if isinstance(exc, IndexError) and module is not None:
        return BuildError(f"'from' {rows[layer][0]} points at a layer that does not exist ({text})", layer,
                          "A layer can only read layers above it; -1 is the previous layer.")
    if isinstance(exc, TypeError) and module is not None and "argument" in text:
        return BuildError(f"{module} does not accept these arguments: {text}", layer,
                          "Compare the args with the block's signature in the catalog.")
    if isinstance(exc, AssertionError) and module is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        check = frames[-1].line if frames else ""
        return BuildError(f"{module} refused its inputs or arguments: '{check}' failed", layer,
                          "Check the channels reaching this layer (its 'from') and its arguments.")
    if isinstance(exc, RuntimeError) and ("size" in text or "channels" in text or "shape" in text):
        return BuildError(f"{module or 'the model'} cannot run on its input: {text}", layer,
                          "The input's channels or size do not fit this layer; check 'from' and the channel rule.")
    return BuildError(f"{type(exc).__name__}: {text}", layer, "")


def _shape(out):
    if hasattr(out, "shape") and hasattr(out, "dim"):
        return list(out.shape[1:])
    if isinstance(out, (list, tuple)):
        return [_shape(o) for o in out]
    if isinstance(out, dict):
        return {k: _shape(v) for k, v in out.items()}
    return None


def build_model(d: dict, blocks: dict | None = None, ch: int = 3, imgsz: int = 640, budget=None):
    """Build the Ultralytics model for dict ``d`` (consumed), inside ``budget`` (a
    ``memory_guard.memory_budget``) if given.

    Returns (model, per-layer args, ``{layer: how its custom block was called}``)."""
    from yolo_studio.compat import ultralytics_hook
    from yolo_studio.core.model.catalog import studio_built_blocks

    blocks = {**studio_built_blocks(row[2] for row in d["backbone"] + d["head"]), **(blocks or {})}
    model_class = building.model_class(d, blocks)
    try:
        model_dict.check_supported()
    except model_dict.HookUnsupported as exc:
        if blocks:
            raise CustomBlocksUnsupported(
                f"custom blocks cannot be used with the installed Ultralytics: {exc}. The studio supports "
                "ultralytics 8.4.x; install that version or update YOLO Studio.") from None
        return _build_plain(model_class, d, ch, imgsz), {}, {}
    error = None
    with ultralytics_hook.installed(blocks or {}) as hook, budget or contextlib.nullcontext():
        hook.on_built = budget.attach if budget is not None else None
        try:
            model = model_class(d, ch=ch, verbose=False)
        except Exception as exc:
            layer = _layer_in_traceback(exc)
            if layer is None:
                layer = hook.built_upto
            error = _explain(exc, d["backbone"] + d["head"], layer, ultralytics_hook.PROBE_SIZE, imgsz)
            _release(exc)
    if error is not None:  # raised here, not in the handler: it must not keep the failed build as its context
        raise error
    return model, hook.layer_args(model.model), dict(hook.resolved)


def _release(exc: BaseException) -> None:
    """Let go of what a failed build's frames hold (the layers built so far, gigabytes for a model too
    large to build): a traceback keeps every frame's locals alive for as long as it is referenced."""
    traceback.clear_frames(exc.__traceback__)
    exc.__traceback__ = None


def _build_plain(model_class, d: dict, ch: int, imgsz: int = 640):
    """Build without the studio's hook (models without custom blocks on an unknown Ultralytics)."""
    from yolo_studio.compat.ultralytics_hook import PROBE_SIZE

    try:
        return model_class(d, ch=ch, verbose=False)
    except Exception as exc:
        raise _explain(exc, d["backbone"] + d["head"], _layer_in_traceback(exc), PROBE_SIZE, imgsz) from None


_ONE_AT_A_TIME = threading.RLock()  # builds change and restore Ultralytics' class attributes: one thread at a time


@contextlib.contextmanager
def ultralytics_build():
    """Around every model build in the studio's process: one at a time (Ultralytics' builds set class
    attributes, ``Detect.legacy``, ``Conv.default_act``...), those attributes restored after it. The
    snapshot is taken inside the lock, so a build on another thread never has its state restored
    half-way or saved as the one to restore."""
    with _ONE_AT_A_TIME, building.preserved_state():
        yield


class InspectionStopped(Exception):
    """``keep_going()`` said no while the GFLOPs were being counted."""


def inspect_dict(d: dict, *, scale: str | None = None, imgsz: int = 640, blocks: dict | None = None,
                 ch: int = 3, on_shapes=None, keep_going=None, memory_limit: int | None = None) -> InspectionReport:
    """Inspect a model dict (as ``ModelDocument.to_dict`` gives). Raises ``BuildError``.

    ``on_shapes(report)``, if given, receives an early copy of the report as soon as the shapes are
    known, before the GFLOPs are counted (``flops_counted`` False): counting them runs the model again
    under thop, which costs more than the plain forward pass. A designer shows shapes that much sooner.
    ``keep_going()``, if given, is asked before each layer of that counting pass; when it says no
    (a newer edit waits), ``InspectionStopped`` is raised.

    Building and running the model may take the process at most ``memory_limit`` bytes above its
    size (by default ``memory_guard.measuring_budget()``): a layer that would need more is reported
    as the model's error instead of being built."""
    import torch

    from yolo_studio.core.model.memory_guard import measuring_budget, memory_budget

    from yolo_studio.core.offline import ultralytics_settings_offline

    ultralytics_settings_offline()
    d = copy.deepcopy(d)
    if scale is None:
        scale = model_dict.chosen_scale(d)
    if scale is not None:
        if scale not in (d.get("scales") or {}):
            raise BuildError(f"scale '{scale}' is not defined in 'scales' (has: {', '.join(d.get('scales') or {})})",
                             None, "Pick one of the model's scales.")
        d["scale"] = scale
    if isinstance(d.get("channels"), int) and d["channels"] > 0:
        ch = d["channels"]  # e.g. grayscale models: build and feed that many input channels
    notes = []
    _drop_pretrained(d, notes)
    rows = copy.deepcopy(d["backbone"] + d["head"])
    nb = len(d["backbone"])
    task, class_name = model_task(d, blocks)
    budget = memory_budget(measuring_budget() if memory_limit is None else memory_limit)
    with ultralytics_build(), torch.no_grad():
        model, args, resolved = build_model(copy.deepcopy(d), blocks, ch, imgsz, budget)
        report = InspectionReport(scale, imgsz, task, class_name, notes=notes)
        for m in model.model:
            f, n, module, _ = rows[m.i]
            how = resolved.get(m.i)
            report.layers.append(LayerReport(m.i, "backbone" if m.i < nb else "head", f, model_dict.effective_repeats(n, d),
                                             module, args.get(m.i), None,
                                             sum(p.numel() for p in m.parameters()),
                                             layout=f"{how['layout']} ({how['how']})" if how else None))
            if how and how["note"]:
                notes.append(how["note"])
            if how and how.get("adapted"):
                report.layers[-1].adapted = True
        if report.layers:
            report.layers[-1].task = task
        report.params = sum(p.numel() for p in model.parameters())
        report.tensor_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        if on_shapes is not None:
            _profile(model, report, rows, imgsz, ch, budget, count_flops=False)
            early = copy.deepcopy(report)
            early.flops_counted = False
            on_shapes(early)
            if report.error is not None:  # counting would fail the same way
                return report
        stops = []
        if keep_going is not None:
            stops = [m.register_forward_pre_hook(lambda *_: None if keep_going() else _stop()) for m in model.model]
        _profile(model, report, rows, imgsz, ch, budget)
        for handle in stops:
            handle.remove()
    return report


def _stop():
    raise InspectionStopped


def _profile(model, report: InspectionReport, rows: list, imgsz: int, ch: int, budget,
             count_flops: bool = True) -> None:
    """One forward pass at ``imgsz``: output shapes from hooks and, if ``count_flops``, GFLOPs per
    layer from thop (whose counting makes the pass about twice as slow)."""
    import torch

    shapes = {}
    handles = [m.register_forward_hook(lambda mod, _in, out: shapes.__setitem__(mod.i, _shape(out)))
               for m in model.model]
    x = torch.zeros(1, ch, imgsz, imgsz)
    info = {}

    def run(layout):
        model.to(memory_format=layout)
        image = x.contiguous(memory_format=layout)
        if count_flops:
            import thop

            with budget:  # noqa: SIM117
                return thop.profile(model, inputs=(image,), verbose=False, ret_layer_info=True)[2]
        model.eval()  # as thop runs it (the model is built for this inspection only)
        with budget:
            model(image)
        return {}

    try:
        try:  # channels-last convolutions run about a third faster on a CPU; shapes are the same
            info = run(torch.channels_last)
        except InspectionStopped:
            raise
        except Exception:  # e.g. a block's x.view(): run as the model will train, where any error is real
            shapes.clear()
            info = run(torch.contiguous_format)
    except InspectionStopped:
        raise
    except Exception as exc:
        report.error = _explain(exc, rows, _layer_in_traceback(exc), imgsz, imgsz)
        _release(exc)
    finally:
        for h in handles:
            h.remove()
    per_layer = info.get("model", (0, 0, {}))[2] if info else {}
    for layer in report.layers:
        layer.out_shape = shapes.get(layer.index)
        ops = per_layer.get(str(layer.index), (0.0,))[0]
        layer.gflops = round(float(ops) * 2 / 1e9, 4)
    report.gflops = round(sum(layer.gflops for layer in report.layers), 3)
