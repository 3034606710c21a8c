"""Custom blocks in the pip-installed Ultralytics, without editing its files.

Ultralytics' ``parse_model`` decides a module's channels from fixed sets inside the function:
a block that is not in them gets its args verbatim and ``c2 = ch[f]``, so a block that changes
channels silently breaks the model. This module wraps ``ultralytics.nn.tasks.parse_model`` (the
name every model class calls) with a function that:

1. replaces each custom row by a built-in *placeholder* with the same channel behaviour
   (``Conv`` for base/repeat, ``Concat`` for concat, ``nn.Identity`` for c1/passthrough), so
   Ultralytics itself computes every layer's channels exactly as it would for its own blocks;
2. for ``c1`` rows, appends one temporary ``Detect`` row reading their inputs, whose convs tell
   the input channels; the row is dropped again afterwards;
3. swaps each placeholder for the real block, built with the arguments its rule defines.

It also captures Ultralytics' per-layer log lines, which hold the exact arguments passed to
every module (inspection reports them). This file imports nothing from YOLO Studio, so it can
be shipped next to a model to train it on a machine without the studio.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import threading

RULES = ("passthrough", "c1", "base", "repeat", "concat")
_PLACEHOLDER = {"base": "Conv", "repeat": "Conv", "concat": "Concat", "c1": "nn.Identity", "passthrough": "nn.Identity"}
_LOCK = threading.RLock()


PACKAGE = "yolo_studio_blocks"  # block files import as yolo_studio_blocks.<file>: checkpoints pickle that name


def infer_rule(param_names: list) -> str:
    """The channel rule implied by a constructor's parameter names (self excluded)."""
    if param_names[:3] == ["c1", "c2", "n"]:
        return "repeat"
    if param_names[:2] == ["c1", "c2"]:
        return "base"
    if param_names[:1] == ["c1"]:
        return "c1"
    return "passthrough"


def class_rule(cls) -> str:
    """A block class's channel rule: its ``channel_rule`` attribute, else inferred from ``__init__``."""
    import inspect

    declared = getattr(cls, "channel_rule", None)
    if declared is not None:
        return declared
    try:
        names = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]]
    except (TypeError, ValueError):
        names = []
    return infer_rule(names)


def register_block_folder(folder) -> None:
    """Make ``yolo_studio_blocks.<file>`` importable from ``folder`` (a namespace of block files)."""
    import importlib
    import sys
    import types
    from pathlib import Path

    folder = str(Path(folder).resolve())
    package = sys.modules.get(PACKAGE)
    if package is None:
        package = types.ModuleType(PACKAGE, "Custom blocks registered by YOLO Studio.")
        package.__path__ = []
        sys.modules[PACKAGE] = package
    if folder in package.__path__:
        package.__path__.remove(folder)
    package.__path__.insert(0, folder)  # the folder being loaded wins over others with the same file names
    importlib.invalidate_caches()


def blocks_of(module) -> dict:
    """``{name: (class, rule)}`` for the torch.nn.Module classes a block module defines."""
    import torch.nn as nn

    return {name: (obj, class_rule(obj)) for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__
            and not name.startswith("_")}


def load_block_folder(folder) -> dict:
    """Import every ``*.py`` of ``folder`` (not ``_*``) and return all their blocks."""
    from pathlib import Path

    register_block_folder(folder)
    found = {}
    for path in sorted(Path(folder).glob("*.py")):
        if not path.name.startswith("_"):
            found.update(blocks_of(import_block_file(path)))
    return found


def import_block_file(path):
    """Import ``path`` as ``yolo_studio_blocks.<stem>``: this file, even if another folder's file of
    the same name was imported before."""
    import importlib
    import sys
    from pathlib import Path

    path = Path(path).resolve()
    register_block_folder(path.parent)
    name = f"{PACKAGE}.{path.stem}"
    cached = sys.modules.get(name)
    if cached is not None and Path(getattr(cached, "__file__", "") or "").resolve() != path:
        del sys.modules[name]
    return importlib.import_module(name)


class HookUnsupported(RuntimeError):
    """The installed Ultralytics does not build models the way this hook expects."""


def _tasks():
    from ultralytics.nn import tasks

    return tasks


def check_supported() -> None:
    """Raise ``HookUnsupported`` with a plain reason if the mechanism cannot apply."""
    import inspect

    tasks = _tasks()
    import ultralytics

    version = getattr(ultralytics, "__version__", "?")
    parse_model = getattr(tasks, "parse_model", None)
    if parse_model is None:
        raise HookUnsupported(f"Ultralytics {version} has no nn.tasks.parse_model")
    original = getattr(parse_model, "__wrapped__", parse_model)
    params = list(inspect.signature(original).parameters)
    if params[:2] != ["d", "ch"]:
        raise HookUnsupported(f"Ultralytics {version} changed parse_model's signature to ({', '.join(params)})")
    for name in ("Conv", "Concat", "Detect"):
        if not hasattr(tasks, name):
            raise HookUnsupported(f"Ultralytics {version} no longer has the {name} module in nn.tasks")


def _depth_width(d: dict) -> tuple:
    depth, width = d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0)
    scales = d.get("scales")
    if scales:
        scale = d.get("scale") or next(iter(scales.keys()))
        depth, width, _ = scales[scale]
    return depth, width


def _resolve_args(args: list, d: dict) -> list:
    """String arguments resolved as parse_model does (header names, else Python literals)."""
    depth, width = _depth_width(d)
    names = {"nc": d.get("nc"), "reg_max": d.get("reg_max", 16), "end2end": d.get("end2end"),
             "kpt_shape": d.get("kpt_shape", 1.0), "depth": depth, "width": width, "scale": d.get("scale")}
    out = []
    for a in args:
        if isinstance(a, str):
            if a in names:
                a = names[a]
            else:
                with contextlib.suppress(ValueError, SyntaxError):
                    a = ast.literal_eval(a)
        out.append(a)
    return out


def _absolute(i: int, f: int) -> int:
    return f if f >= 0 else i + f


class _LayerLog(logging.Handler):
    """Collects parse_model's per-layer lines: ``{layer index: line}``."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = {}

    def emit(self, record):
        message = record.getMessage()
        head = message[:3].strip()
        if head.isdigit():
            self.lines[int(head)] = message


@contextlib.contextmanager
def _capture_layer_log():
    """Route Ultralytics' log to a collector (and nowhere else) for the duration."""
    logger = logging.getLogger("ultralytics")
    collector = _LayerLog()
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers = [collector]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield collector
    finally:
        logger.handlers, level, logger.propagate = saved[0], saved[1], saved[2]
        logger.setLevel(level)


class CustomParseModel:
    """A drop-in ``parse_model`` that also builds custom blocks; see the module doc."""

    def __init__(self, original, blocks: dict):
        self.__wrapped__ = original
        self.blocks = blocks  # name -> (class, rule)
        self.last_args = {}  # layer index -> resolved args of custom rows, for reports
        self.layer_lines = {}  # layer index -> Ultralytics' log line (built-in rows)
        self.built_upto = 0
        self._building = None  # custom row being constructed, while it is

    def __call__(self, d, ch, verbose=True):
        rows = list(d["backbone"]) + list(d["head"])
        custom = {i: self.blocks[r[2]] for i, r in enumerate(rows) if isinstance(r[2], str) and r[2] in self.blocks}
        with _LOCK, _capture_layer_log() as log:
            try:
                if not custom:
                    result = self.__wrapped__(d, ch, verbose=True)
                else:
                    result = self._build(d, ch, rows, custom)
            finally:  # the layer a build error happened in
                self.built_upto = self._building if self._building is not None else max(log.lines, default=-1) + 1
                self._building = None
                self.layer_lines = {i: line for i, line in log.lines.items() if i < len(rows) and i not in custom}
        if verbose:
            self._log_table(result[0])
        return result

    def _build(self, d, ch, rows, custom):
        import torch.nn as nn

        nb = len(d["backbone"])
        new_rows = [list(r) for r in rows]
        c1_rows = [i for i, (_, rule) in custom.items() if rule == "c1"]
        for i, (_cls, rule) in custom.items():
            f, _, _, args = rows[i]
            placeholder_args = [args[0]] if rule in ("base", "repeat") else ([1] if rule == "concat" else [])
            new_rows[i] = [f, 1, _PLACEHOLDER[rule], placeholder_args]
        if c1_rows:  # one temporary head reading every c1 row's input, to learn its channels
            new_rows.append([[_absolute(i, rows[i][0]) for i in c1_rows if i > 0] or [0], 1, "Detect", [1]])
        d1 = {k: v for k, v in d.items() if k not in ("backbone", "head")}
        d1["backbone"], d1["head"] = new_rows[:nb], new_rows[nb:]
        seq, save = self.__wrapped__(d1, ch, verbose=True)
        layers = list(seq)
        c1_channels = {}
        if c1_rows:
            recorder = layers.pop()
            inputs = iter(branch[0].conv.in_channels for branch in recorder.cv2)
            c1_channels = {i: (ch if i == 0 else next(inputs)) for i in c1_rows}
            save = sorted(x % i for i, r in enumerate(rows) for x in ([r[0]] if isinstance(r[0], int) else r[0])
                          if x != -1)
        depth, _ = _depth_width(d)
        self.last_args = {}
        for i, (cls, rule) in custom.items():
            f, n, _, args = rows[i]
            n = max(round(n * depth), 1) if n > 1 else n
            rest = _resolve_args(list(args), d)
            holder = layers[i]
            if rule in ("base", "repeat"):
                c1, c2 = holder.conv.in_channels, holder.conv.out_channels
                call = [c1, c2, n, *rest[1:]] if rule == "repeat" else [c1, c2, *rest[1:]]
                n = 1 if rule == "repeat" else n
            elif rule == "c1":
                call = [c1_channels[i], *rest]
            else:
                call = rest
            self._building = i
            module = nn.Sequential(*(cls(*call) for _ in range(n))) if n > 1 else cls(*call)
            self._building = None
            module.np = sum(x.numel() for x in module.parameters())
            module.i, module.f, module.type = i, f, f"{cls.__module__}.{cls.__qualname__}"
            layers[i] = module
            self.last_args[i] = call
        return nn.Sequential(*layers), save

    def _log_table(self, seq) -> None:
        logger = logging.getLogger("ultralytics")
        logger.info(f"\n{'':>3}{'from':>20}{'n':>3}{'params':>10}  {'module':<45}{'arguments':<30}")
        for m in seq:
            line = self.layer_lines.get(m.i)
            if line is None:
                n = len(m) if type(m).__name__ == "Sequential" else 1
                line = f"{m.i:>3}{m.f!s:>20}{n:>3}{m.np:10.0f}  {m.type:<45}{self.last_args.get(m.i, [])!s:<30}"
            logger.info(line)

    def layer_args(self, seq) -> dict:
        """``{layer index: args}`` as passed to each module (``None`` where unknown)."""
        out = {}
        for m in seq:
            if m.i in self.last_args:
                out[m.i] = self.last_args[m.i]
                continue
            line = self.layer_lines.get(m.i, "")
            text = line.split(m.type, 1)[1].strip() if m.type in line else ""
            try:
                out[m.i] = ast.literal_eval(text) if text else None
            except (ValueError, SyntaxError):
                out[m.i] = text or None
        return out


@contextlib.contextmanager
def installed(blocks: dict):
    """Use custom blocks for models built inside the ``with`` block; restores Ultralytics after.

    Yields the ``CustomParseModel`` so callers can read the resolved arguments of the last build.
    """
    check_supported()
    tasks = _tasks()
    with _LOCK:
        previous = tasks.parse_model
        wrapper = CustomParseModel(getattr(previous, "__wrapped__", previous), dict(blocks))
        tasks.parse_model = wrapper
        try:
            yield wrapper
        finally:
            tasks.parse_model = previous


def install(blocks: dict) -> CustomParseModel:
    """Use custom blocks for the rest of the process (a training process, a bundled train.py)."""
    check_supported()
    tasks = _tasks()
    current = tasks.parse_model
    original = getattr(current, "__wrapped__", current)
    merged = dict(getattr(current, "blocks", {}))
    merged.update(blocks)
    wrapper = CustomParseModel(original, merged)
    tasks.parse_model = wrapper
    return wrapper
