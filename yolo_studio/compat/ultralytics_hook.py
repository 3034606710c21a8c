"""Custom blocks in the pip-installed Ultralytics, without editing its files.

Ultralytics' ``parse_model`` decides a module's channels from fixed sets inside the function:
a block that is not in them gets its args verbatim and ``c2 = ch[f]``, so a block that changes
channels silently breaks the model. That is why papers' repositories patch ``tasks.py``. This
module wraps ``ultralytics.nn.tasks.parse_model`` (the name every model class calls) instead:

1. Ultralytics builds the rows above the first custom row itself; one forward pass of a small
   image through them gives the custom row's real inputs (as many as its ``from`` lists);
2. the block is built with the argument layout its class declares, or the first layout read
   from its signature that constructs and runs on those inputs (``block_layouts``), and its
   output channels are *measured* from that run;
3. the custom row becomes an ``Index`` placeholder carrying the measured channels, and
   Ultralytics builds on to the next custom row; after the last one it builds the whole model,
   so every built-in layer gets exactly the channels Ultralytics computes, and each
   placeholder is swapped for its real block.

It also captures Ultralytics' per-layer log lines, which hold the exact arguments passed to
every module (inspection reports them). This file imports nothing from YOLO Studio, so it can
be shipped next to a model to train it on a machine without the studio (with the other files
``compat.SHIPPED`` names beside it).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import logging

if __package__:
    from . import block_layouts, fork_tasks, heads, measuring, model_dict
    from .block_loader import (LOCK as _LOCK, PACKAGE, blocks_of, import_block_file,  # noqa: F401
                               load_block_folder, register_block_folder)
else:  # shipped as plain files next to a bundle's train.py
    import block_layouts
    import fork_tasks
    import heads
    import measuring
    import model_dict
    from block_loader import (LOCK as _LOCK, PACKAGE, blocks_of, import_block_file,  # noqa: F401
                              load_block_folder, register_block_folder)

HookUnsupported, check_supported = model_dict.HookUnsupported, model_dict.check_supported
PROBE_SIZE = measuring.PROBE_SIZE


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


class BlockLayoutError(RuntimeError):
    """A custom row whose block could not be built on its real inputs; the message says what was tried."""

    def __init__(self, layer: int, message: str, hint: str):
        super().__init__(message)
        self.layer, self.message, self.hint = layer, message, hint


class CustomParseModel:
    """A drop-in ``parse_model`` that also builds custom blocks; see the module doc."""

    def __init__(self, original, blocks: dict):
        self.__wrapped__ = original
        self.blocks = blocks  # name -> (class, declared layout or None)
        self.last_args = {}  # layer index -> the arguments a custom block was built with
        self.resolved = {}  # layer index -> {"layout", "how", "args", "c_in", "c2", "note"}
        self.layer_lines = {}  # layer index -> Ultralytics' log line (built-in rows)
        self.built_upto = 0
        self.last_row = -1  # the model's output row (a custom one may be a head)
        self._channels = []  # the output channels of the rows above the one being built (parse_model's ch)
        self._building = None  # layer being built or measured, while it is
        self.on_built = None  # called with the layers (nn.Sequential) before the model first runs them

    def __call__(self, d, ch, verbose=True):
        self.last_args, self.resolved = {}, {}
        rows = list(d["backbone"]) + list(d["head"])
        self.last_row = len(rows) - 1
        custom = {i: self.blocks[r[2]] for i, r in enumerate(rows) if isinstance(r[2], str) and r[2] in self.blocks}
        custom.update({i: (cls, None) for i, cls in model_dict.torch_rows_to_place(rows, d).items() if i not in custom})
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
        if self.on_built is not None:
            self.on_built(result[0])
        return result

    def _build(self, d, ch, rows, custom):
        import torch
        import torch.nn as nn

        built = {}  # custom layer -> (module, output channels, output shape)
        shapes = []  # each layer's output shape on the probe image, for the rows measured so far
        ambient = torch.get_default_device()
        self.last_args, self.resolved = {}, {}
        while True:
            pending = [i for i in sorted(custom) if i not in built]
            if not pending:
                break
            upto = pending[0]
            # blocks are measured on the CPU even when the caller builds on the meta device (the transfer
            # report reads only the shapes of the weights): a block's forward may need real numbers
            with torch.no_grad(), torch.device("cpu"):
                self._measure(d, ch, rows, built, shapes, upto)
                self._channels = [measuring.channels_of(s) for s in shapes] or [ch]  # parse_model's ``ch``
                inputs = measuring.materialize(self._inputs(rows, upto, shapes, (1, ch, PROBE_SIZE, PROBE_SIZE)), "cpu")
                built[upto] = self._build_block(upto, rows[upto], custom[upto], d, inputs)
            if ambient.type == "meta":
                built[upto] = (built[upto][0].to("meta"), *built[upto][1:])
            shapes.append(built[upto][2])
        seq, _ = self._ultralytics_rows(d, ch, rows, built, len(rows))
        layers = list(seq)
        for i, (module, _c2, _shape) in built.items():
            f, _, name, _ = rows[i]
            cls = custom[i][0]
            module.np = sum(x.numel() for x in module.parameters())
            module.i, module.f, module.type = i, f, f"{cls.__module__}.{cls.__qualname__}"
            layers[i] = module
        save = sorted(x % i for i, r in enumerate(rows) for x in ([r[0]] if isinstance(r[0], int) else r[0])
                      if x != -1)
        return nn.Sequential(*layers), save

    def _measure(self, d, ch, rows, built, shapes, upto):
        """Extend ``shapes`` up to layer ``upto`` (exclusive): Ultralytics builds ``rows[:upto]`` and the
        new layers run once. They are built on PyTorch's meta device (no weights are initialised) and
        run there: no arithmetic, a fixed price per operation. The meta device's first use in a
        process costs over a second of imports, so until it has been used (``warm_meta_device``) a
        small model runs on the CPU instead, with zero weights (only shapes matter).
        A layer that cannot run on the meta device is measured on the CPU with a normal build."""
        import torch

        try:
            with torch.device("meta"):
                seq, _ = self._ultralytics_rows(d, ch, rows, built, upto)
            device = "meta"
            if not measuring.meta_ready() and sum(p.numel() for p in seq.parameters()) <= measuring.CPU_MEASURE_PARAMS:
                measuring.zeros_on_cpu(seq)
                device = "cpu"
            self._run(seq, rows, built, shapes, ch, upto, device)
            if device == "meta":
                measuring.set_meta_ready()
        except Exception:
            seq, _ = self._ultralytics_rows(d, ch, rows, built, upto)
            self._run(seq, rows, built, shapes, ch, upto, "cpu")

    def _ultralytics_rows(self, d, ch, rows, built, upto):
        """Ultralytics builds ``rows[:upto]``, each custom row an ``Index`` placeholder with its measured channels."""
        # a copy per pass: parse_model rewrites some rows' args in place (C2fAttn, Segment)
        new_rows = [[-1, 1, "Index", [built[i][1]]] if i in built else copy.deepcopy(list(r))
                    for i, r in enumerate(rows[:upto])]
        nb = len(d["backbone"])
        d1 = {k: v for k, v in d.items() if k not in ("backbone", "head")}
        d1["backbone"], d1["head"] = new_rows[:nb], new_rows[nb:]
        return self.__wrapped__(d1, ch, verbose=True)

    def _run(self, seq, rows, built, shapes, ch, upto, device):
        """Run the layers from ``len(shapes)`` to ``upto`` (exclusive), appending their output shapes."""
        layers = list(seq)
        image = (1, ch, PROBE_SIZE, PROBE_SIZE)
        start = len(shapes)
        try:
            for k in range(start, upto):
                self._building = k
                if k in built:
                    shapes.append(built[k][2])
                    continue
                module = layers[k]
                measuring.skip_batch_norm(module)  # a throwaway copy: uninitialised (CPU) or empty (meta) statistics
                was_training = module.training
                module.eval()
                shapes.append(measuring.shape_of(module(measuring.materialize(self._inputs(rows, k, shapes, image), device))))
                module.train(was_training)
        except Exception:
            del shapes[start:]
            raise
        self._building = None

    @staticmethod
    def _inputs(rows, k, outputs, image):
        """Layer ``k``'s input(s), as Ultralytics' forward passes them."""
        f = rows[k][0]
        if isinstance(f, int):
            return (image if k == 0 else outputs[k - 1]) if f == -1 else outputs[f]
        return [(image if k == 0 else outputs[k - 1]) if j == -1 else outputs[j] for j in f]

    def _build_block(self, i, row, block, d, x):
        """(module, measured output channels, its output) for custom row ``i`` on its real input(s) ``x``."""
        cls, declared = block
        f, n, name, args = row
        depth, width, max_channels = model_dict.multiples(d)
        if i == self.last_row and heads.is_head_class(cls):
            return self._build_head(i, row, block, d, x)
        if isinstance(declared, fork_tasks.ForkRule):
            return self._build_as_fork(i, row, block, d, x)
        n = max(round(n * depth), 1) if n > 1 else n
        c_in = [t.shape[1] for t in x] if isinstance(x, list) else x.shape[1]
        base = block_layouts.Row(c_in, model_dict.resolve_args(list(args), d), n, width, max_channels)
        self._building = i
        if hasattr(cls, "yaml_args"):
            plan = [(1, "yaml_args", "declared by its yaml_args classmethod")]
        elif declared is not None:
            plan = [(1, declared, "declared with channel_rule")]
        else:
            inherited = model_dict.inherited_layout(cls)
            plan = [(1, inherited, "as its Ultralytics parent class")] if inherited else []
            plan += [(tier, layout, "read from its signature" if tier == 1 else "the only layout that fits")
                     for tier, layout in block_layouts.candidates(cls, base) if layout != inherited]
        tried, found = [], []
        for tier in (1, 2):  # tier 2: layouts the names do not suggest, tried only when none of tier 1 fits
            for _, layout, how in (p for p in plan if p[0] == tier):
                row_ = block_layouts.Row(base.c_in, base.args, base.n, base.width, base.max_channels)
                call = None
                try:
                    call = cls.yaml_args(row_) if layout == "yaml_args" else block_layouts.call_for(layout, row_)
                    call = model_dict.c3k_rule(cls, layout, call, d, block_layouts.parameters(cls)[0])
                    module, y = measuring.try_block(cls, call, 1 if row_.repeats_taken else n, x)
                except Exception as exc:  # a candidate that does not fit: try the next one
                    tried.append((layout, call, f"{type(exc).__name__}: {exc}".splitlines()[0]))
                    continue
                found.append((layout, how, call, module, y))
                if tier == 1:
                    break
            if found:
                break
        if not found:
            raise BlockLayoutError(i, *block_layouts.failure_text(name, c_in, tried))
        distinct = {}  # one call per different result: calls that build the same layer are not a choice
        for entry in found:
            distinct.setdefault((sum(p.numel() for p in entry[3].parameters()), str(measuring.shape_of(entry[4]))), entry)
        if len(distinct) > 1:
            raise BlockLayoutError(i, *block_layouts.ambiguity_text(name, c_in, [
                (layout, call, sum(p.numel() for p in m.parameters()), measuring.output_channels(y))
                for layout, _how, call, m, y in distinct.values()]))
        layout, how, call, module, y = found[0]
        note = None
        if tier == 2:
            note = (f"layer {i}: {name} was built as {layout} "
                    f"({block_layouts.LAYOUTS[block_layouts.split_layout(layout)[0]]}), which its "
                    f"signature does not suggest; add `{block_layouts.line_to_declare(layout)}` to the class "
                    "to say so")
        self.last_args[i] = call
        self.resolved[i] = {"layout": layout, "how": how, "args": call, "c_in": c_in, "c2": measuring.output_channels(y),
                            "note": note}
        self._building = None
        return module, measuring.output_channels(y), measuring.shape_of(y)

    def _build_as_fork(self, i, row, block, d, x):
        """Custom row ``i`` named by a fork's ``tasks.py`` in the block folder: built with the arguments
        and repeats its ``parse_model`` computes (``fork_tasks``), output channels measured."""
        cls, rule = block
        name = row[2]
        self._building = i
        call = None
        try:
            call, n = rule.call(cls, row, d, self._channels, i)
            module, y = measuring.try_block(cls, call, n, x)
        except Exception as exc:
            how = f"{name}({', '.join(map(repr, call))})" if call is not None else "(its arguments could not be computed)"
            raise BlockLayoutError(i, f"{name} could not be built as {rule.tasks.path.name}'s parse_model calls it, "
                                      f"{how}: {type(exc).__name__}: "
                                      f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "),
                                   f"Check the row against the fork's own YAML; {rule.tasks.path.name} is read as the "
                                   "fork's tasks.py because it defines parse_model.") from None
        self.last_args[i] = call
        self.resolved[i] = {"layout": "fork", "how": rule.how, "args": call, "c_in": [t.shape[1] for t in x]
                            if isinstance(x, list) else x.shape[1], "c2": measuring.output_channels(y), "note": None}
        self._building = None
        return module, measuring.output_channels(y), measuring.shape_of(y)

    def _build_head(self, i, row, block, d, x):
        """Custom row ``i`` is the model's output and written as a head (``heads``): built with the
        inputs' channels appended as forks do (or as its class declares), run once in training mode to
        learn which protocol it speaks, and adapted when that is Ultralytics 8.0-8.3's."""
        cls, declared = block
        f, n, name, args = row
        _depth, width, max_channels = model_dict.multiples(d)
        if not isinstance(x, list):
            raise BlockLayoutError(i, f"{name} is a head: it takes the list of the levels it detects on, and its row "
                                      f"reads one input (from: {f})",
                                   "Write the layers it reads as a list, even for one level: from: [15, 18, 21] or "
                                   "[21].")
        inputs = x
        c_in = [t.shape[1] for t in inputs]
        resolved_args = model_dict.resolve_args(list(args), d)
        self._building = i
        call = None
        try:
            if isinstance(declared, fork_tasks.ForkRule):
                how, call = declared.how, declared.call(cls, row, d, self._channels, i)[0]
            elif hasattr(cls, "yaml_args") or declared is not None:
                row_ = block_layouts.Row(c_in, resolved_args, 1, width, max_channels)
                how = "declared by its yaml_args classmethod" if hasattr(cls, "yaml_args") else "declared with channel_rule"
                call = cls.yaml_args(row_) if hasattr(cls, "yaml_args") else block_layouts.call_for(declared, row_)
            else:
                how = "a head: its inputs' channels appended, as forks' parse_model does"
                call = heads.head_call(cls, resolved_args, c_in, width, max_channels)
            with heads.legacy_constructors():
                module = cls(*call)
            module.train()
            out = module([t.clone() for t in inputs])
        except Exception as exc:
            raise BlockLayoutError(i, f"{name} could not be built as a head with {call}: "
                                      f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "),
                                   "A head is called with its YAML arguments and the list of its inputs' channels "
                                   "appended (its signature ends with `ch`). If the fork calls it differently, add "
                                   "`channel_rule = \"<layout>\"` or a classmethod `yaml_args(cls, row)` to the class "
                                   "(docs/CUSTOM_BLOCKS.md, Heads).") from None
        carried, task = heads.task_of_module(module), heads.task_of_class(cls)
        if carried is None:
            raise BlockLayoutError(i, f"{name} ends the model but does not carry a head's attributes: a head sets "
                                      "nc, stride and reg_max (or no) in its __init__",
                                   "Ultralytics' trainer reads them from the model's last layer; end the model with "
                                   "the repository's head class, not one of its parts.")
        if carried != task:
            raise BlockLayoutError(i, f"{name} is a {task} head by what its constructor takes and its parent class, "
                                      f"but what it builds carries a {carried} head's attributes",
                                   "The model class is chosen from the constructor: give it the task's argument "
                                   "(kpt_shape for pose, nm/npr for segment, ne for obb) as the repository does.")
        legacy = heads.speaks_legacy(out)
        if legacy:
            heads.adapt(module, task)
        self.last_args[i] = call
        self.resolved[i] = {"layout": "head", "how": how, "args": call, "c_in": c_in, "c2": c_in[0], "task": task,
                            "adapted": legacy, "note": f"layer {i}: {name}: {heads.ADAPTED_NOTE}" if legacy else None}
        self._building = None
        return module, c_in[0], [tuple(t.shape) for t in inputs]

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
    tasks = model_dict.tasks_module()
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
    tasks = model_dict.tasks_module()
    current = tasks.parse_model
    original = getattr(current, "__wrapped__", current)
    merged = dict(getattr(current, "blocks", {}))
    merged.update(blocks)
    wrapper = CustomParseModel(original, merged)
    tasks.parse_model = wrapper
    return wrapper
