"""Splitting a detector into a shared backbone and a head, and running them apart.

Ultralytics runs a model layer by layer (``DetectionModel._predict_once``): each layer reads the
previous output or saved outputs of earlier layers (``m.f``), and outputs listed in ``model.save``
are kept. A split at layer ``k`` runs layers ``0..k-1`` once (the backbone: its last output and
the saved ones are the features), then any number of heads, each running layers ``k..N-1`` of its
own model on those features. The same loop as Ultralytics', cut in two, so the outputs are exactly
the original model's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass
class Features:
    """What the backbone hands to every head: the saved outputs and the last one."""

    saved: list  # per layer 0..k-1: its output if a later layer reads it, else None
    last: object


def backbone_end(model) -> int:
    """The end of the YAML's backbone section (where Ultralytics' head starts)."""
    return len(model.yaml["backbone"])


def default_split(model) -> int:
    """The split a new hydra proposes: the deepest that keeps each head's own bottom-up path.

    The output layer reads the neck at several scales. The finest of them (YOLO11: layer 16, P3)
    is where the top-down path ends; the bottom-up path starts right after it (YOLO11: 17), so the
    heads keep that path and their output layer and share everything before. Read from the graph
    (the output layer's ``from``), not from a table of models. Never before the end of the YAML
    backbone, never on the output layer; an output reading one map splits at the end of the backbone."""
    last = model.model[-1]
    sources = [last.f] if isinstance(last.f, int) else list(last.f)
    inputs = [last.i + j if j < 0 else j for j in sources]
    if len(inputs) < 2:
        return backbone_end(model)
    return min(max(min(inputs) + 1, backbone_end(model)), len(model.model) - 1)


def check_split(model, k: int) -> None:
    """Refuse a split that leaves no backbone or no head, or where the head is not a detector's."""
    layers = len(model.model)
    if not 0 < k < layers:
        raise ValueError(f"split at layer {k} leaves nothing on one side: choose 1..{layers - 1} "
                         f"(the YAML backbone ends at {backbone_end(model)}; the default split is "
                         f"{default_split(model)})")


def run_backbone(model, x, k: int) -> Features:
    saved = []
    for m in model.model[:k]:
        if m.f != -1:
            x = saved[m.f] if isinstance(m.f, int) else [x if j == -1 else saved[j] for j in m.f]
        x = m(x)
        saved.append(x if m.i in model.save else None)
    return Features(saved, x)


def flop_shares(model, imgsz: int = 640) -> list:
    """For every split k (0..N), the fraction of the model's convolution FLOPs in layers k..N-1,
    counted on one forward pass at ``imgsz``: what one head costs relative to the whole model, so
    n heads cost about 1 + (n - 1) * share of one model."""
    import torch

    flops = [0] * len(model.model)
    hooks = []
    for i, layer in enumerate(model.model):
        for module in layer.modules():
            if isinstance(module, torch.nn.Conv2d):
                def count(module, _inputs, output, i=i):
                    flops[i] += (2 * output.numel() * module.in_channels // module.groups
                                 * module.kernel_size[0] * module.kernel_size[1])
                hooks.append(module.register_forward_hook(count))
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, imgsz, imgsz, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
    total = sum(flops) or 1
    return [sum(flops[k:]) / total for k in range(len(flops) + 1)]


def shared_prefix(model, k: int) -> int:
    """Where the layers that every head computes alike end: from ``k`` on, the layers without
    parameters or buffers (Upsample, Concat) whose inputs all come from the backbone or from such
    layers give the same output in every head, so a detector can run them once (YOLO11: 13)."""
    end = k
    for m in model.model[k:]:
        sources = [m.f] if isinstance(m.f, int) else list(m.f)
        inputs = [m.i + j if j < 0 else j for j in sources]
        if any(True for _ in m.parameters()) or any(True for _ in m.buffers()) or max(inputs) >= end:
            break
        end += 1
    return end


def same_layers(model, other, start: int, stop: int) -> bool:
    """Whether layers start..stop-1 of two models are the same parameter-free operations."""
    if len(model.model) < stop or len(other.model) < stop:
        return False
    return all(type(a) is type(b) and a.f == b.f and repr(a) == repr(b)
               for a, b in zip(model.model[start:stop], other.model[start:stop]))


def run_shared(model, features: Features, start: int, stop: int) -> Features:
    """Layers start..stop-1 of a shared prefix on the backbone's features; every output is kept,
    since a head may read any of them."""
    y, x = list(features.saved), features.last
    for m in model.model[start:stop]:
        if m.f != -1:
            x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
        x = m(x)
        y.append(x)
    return Features(y, x)


def run_head(model, features: Features, k: int):
    """Layers k..N-1 of ``model`` on the features (the list is copied: heads do not share their outputs)."""
    y, x = list(features.saved), features.last
    for m in model.model[k:]:
        if m.f != -1:
            x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
        x = m(x)
        y.append(x if m.i in model.save else None)
    return x


def backbone_state(model, k: int) -> dict:
    """The parameters and buffers of layers 0..k-1 (names as in the full model)."""
    prefixes = tuple(f"model.{i}." for i in range(k))
    return {name: value for name, value in model.state_dict().items() if name.startswith(prefixes)}


def layer_hash(model, k: int) -> str:
    """A hash of the backbone's weights, as stored (half precision, as Ultralytics saves them).

    Rounding to float16 makes the hash of a backbone that was frozen during training equal to the
    original's even when the EMA arithmetic moved its float32 values in the last bits.
    """
    import torch

    digest = hashlib.sha256()
    for name, value in sorted(backbone_state(model, k).items()):
        if not torch.is_tensor(value):
            continue
        tensor = value.detach().cpu()
        tensor = tensor.half() if tensor.is_floating_point() else tensor
        digest.update(name.encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def max_backbone_difference(model, other, k: int) -> float:
    """Largest absolute difference between two models' backbone weights (same architecture)."""
    a, b = backbone_state(model, k), backbone_state(other, k)
    if a.keys() != b.keys():
        return float("inf")
    worst = 0.0
    for name, value in a.items():
        if value.is_floating_point():
            if value.shape != b[name].shape:
                return float("inf")
            worst = max(worst, float((value.float() - b[name].float()).abs().max()) if value.numel() else 0.0)
    return worst


def equivalent(model, k: int, inputs) -> float:
    """Max |original - backbone+head| over the inputs (0.0 when the split is exact)."""
    import torch

    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = model(x)
            actual = run_head(model, run_backbone(model, x, k), k)
            expected = expected[0] if isinstance(expected, (list, tuple)) else expected
            actual = actual[0] if isinstance(actual, (list, tuple)) else actual
            worst = max(worst, float((expected - actual).abs().max()))
    return worst
