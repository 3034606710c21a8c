"""Which weights of a checkpoint a model to train gets: per layer, and compared with plain Ultralytics.

Ultralytics transfers a checkpoint's tensors by state-dict key and shape (``intersect_dicts``): keys
are ``model.<layer>.<name>``, so one block inserted at layer 10 renames every later tensor and those
layers silently start from scratch ("Transferred 120/400 items"). The studio matches layers by
structure instead (``arch_diff``), takes each target layer's tensors from the layer it matched in
the checkpoint, and reports, for every layer of the model to train, whether its weights come from
the checkpoint fully, partly (which tensors, which shapes differ) or not at all, with both figures.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from yolo_studio.core.model.arch_diff import diff_rows, rows_of

_KEY = re.compile(r"^model\.(\d+)\.(.+)$")
FULL, PARTIAL, NONE, NO_WEIGHTS = "full", "partial", "none", "no weights"


@dataclass
class LayerTransfer:
    layer: int  # in the model to train
    module: str
    source: int | None  # the checkpoint's layer it was matched with (None: new)
    tensors: int  # tensors the layer has
    loaded: int  # of them, taken from the checkpoint by the studio
    plain: int  # of them, taken by plain Ultralytics (same key and shape)
    differing: list = field(default_factory=list)  # (tensor name, shape here, shape in the checkpoint)

    @property
    def state(self) -> str:
        if self.tensors == 0:
            return NO_WEIGHTS
        return FULL if self.loaded == self.tensors else (NONE if self.loaded == 0 else PARTIAL)

    def describe(self) -> str:
        if self.state == NO_WEIGHTS:
            return f"layer {self.layer} {self.module}: no weights"
        where = f" from checkpoint layer {self.source}" if self.source is not None else ""
        text = f"layer {self.layer} {self.module}: {self.loaded}/{self.tensors} tensors{where}"
        if self.source is None:
            text += " (new layer: starts from scratch)"
        for name, here, there in self.differing[:3]:
            text += f"; {name} is {list(here)} here but {list(there)} in the checkpoint"
        return text


@dataclass
class TransferReport:
    layers: list = field(default_factory=list)
    total: int = 0  # tensors in the model to train
    loaded: int = 0  # taken from the checkpoint by the studio
    plain: int = 0  # what plain Ultralytics would take (by key and shape)
    notes: list = field(default_factory=list)

    def headline(self) -> str:
        return (f"The studio transfers {self.loaded}/{self.total} tensors from the checkpoint; plain Ultralytics "
                f"would transfer {self.plain}/{self.total}.")

    def to_dict(self) -> dict:
        return {"total": self.total, "loaded": self.loaded, "plain": self.plain, "notes": self.notes,
                "layers": [{"layer": t.layer, "module": t.module, "source": t.source, "state": t.state,
                            "tensors": t.tensors, "loaded": t.loaded, "plain": t.plain,
                            "differing": [[n, list(a), list(b)] for n, a, b in t.differing]} for t in self.layers]}


def target_shapes(model: dict, scale: str | None = None, blocks: dict | None = None, ch: int = 3) -> dict:
    """``{state-dict key: shape}`` of the model ``model`` builds (at ``scale``), as a training builds it
    (the studio's custom and built-in blocks placed by its hook), without initialising weights:
    Ultralytics' ``parse_model`` on PyTorch's meta device (custom blocks are measured on the CPU)."""
    import torch

    from yolo_studio.compat import building, ultralytics_hook
    from yolo_studio.core.model.catalog import studio_built_blocks
    from yolo_studio.core.model.inspection import ultralytics_build

    d = copy.deepcopy(model)
    if scale is not None:
        d["scale"] = scale
    ch = d.get("channels", ch) if isinstance(d.get("channels"), int) else ch
    every = {**studio_built_blocks(r[2] for r in rows_of(d)), **(blocks or {})}
    with ultralytics_build(), ultralytics_hook.installed(every), torch.no_grad(), torch.device("meta"):
        seq, _ = building.parse_layers(d, ch)
    return {f"model.{k}": tuple(v.shape) for k, v in seq.state_dict().items()}


def plan_transfer(checkpoint_state: dict, checkpoint_yaml: dict | None, model: dict, shapes: dict) -> tuple:
    """(``TransferReport``, remapped state) for training ``model`` (whose tensors have ``shapes``, from
    ``target_shapes``) from a checkpoint's tensors (``CheckpointInfo.state``) and its stored YAML.

    The remapped state holds, under the model's own keys, every checkpoint tensor the studio transfers."""
    rows = rows_of(model)
    if checkpoint_yaml:
        source_of = {b: a for a, b in diff_rows(rows_of(checkpoint_yaml), rows).mapping().items()}
        notes = []
    else:
        source_of = {i: i for i in range(len(rows))}
        notes = ["the checkpoint stores no model YAML: its layers are matched to these by index"]
    by_layer: dict = {}
    for key, shape in shapes.items():
        match = _KEY.match(key)
        if match:
            by_layer.setdefault(int(match.group(1)), []).append((match.group(2), shape))
    report, remapped = TransferReport(notes=notes), {}
    for i, row in enumerate(rows):
        source = source_of.get(i)
        layer = LayerTransfer(i, str(row[2]), source, len(by_layer.get(i, [])), 0, 0)
        for name, shape in by_layer.get(i, []):
            plain = checkpoint_state.get(f"model.{i}.{name}")
            if plain is not None and tuple(plain.shape) == shape:
                layer.plain += 1
            theirs = checkpoint_state.get(f"model.{source}.{name}") if source is not None else None
            if theirs is None:
                continue
            if tuple(theirs.shape) == shape:
                layer.loaded += 1
                remapped[f"model.{i}.{name}"] = theirs
            else:
                layer.differing.append((name, shape, tuple(theirs.shape)))
        report.layers.append(layer)
        report.total += layer.tensors
        report.loaded += layer.loaded
        report.plain += layer.plain
    return report, remapped
