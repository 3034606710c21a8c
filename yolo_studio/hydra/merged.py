"""Heads run together: heads of one shape stacked into one batched network.

Heads at one split have the same architecture; only their weights differ (and Detect's class
branch, when their datasets have different numbers of classes). Heads whose tensors have the same
names and shapes are stacked (``torch.func.stack_module_state``) and run in one call mapped over the
heads (``torch.func.vmap``): PyTorch turns the mapped convolutions into grouped ones, one kernel for
all heads instead of one per head. The outputs equal the per-head path (``split.run_head``).

Whether that is faster depends on the device: on a 2-core CPU it was slower (docs/PERFORMANCE.md),
so the detector does not use it yet; ``bench_hydra.py --merged`` measures it on each device.
"""

from __future__ import annotations

import copy

import torch  # this module is imported only where heads run, never at the studio's start

from yolo_studio.hydra import split as hs


def shape_key(model, start: int) -> tuple:
    """Heads with equal keys can be stacked: the same first layer and tensors of the same names and shapes."""
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    return (start, *sorted((name, tuple(t.shape)) for name, t in tensors.items()))


class _Head(torch.nn.Module):
    """The per-head path as a module whose weights ``functional_call`` can swap."""

    def __init__(self, model, start: int):
        super().__init__()
        self.m, self.start = model, start

    def forward(self, saved, last):
        out = hs.run_head(self.m, hs.Features(saved, last), self.start)
        return out[0] if isinstance(out, (list, tuple)) else out


class MergedHeads:
    """Heads of one shape (``shape_key``) run as one network; ``run(features)`` returns one output per head."""

    def __init__(self, models: list, start: int):
        from torch.func import functional_call, stack_module_state, vmap

        keys = {shape_key(m, start) for m in models}
        if len(keys) != 1:
            raise ValueError("only heads with tensors of the same names and shapes run together")
        heads = [_Head(m, start) for m in models]
        self.params, self.buffers = stack_module_state(heads)
        template = _Head(copy.deepcopy(models[0]), start)  # real tensors: Detect reads its stride as a number

        def one(params, buffers, saved, last):
            return functional_call(template, (params, buffers), (saved, last))

        self._run = vmap(one, in_dims=(0, 0, None, None))

    def run(self, features: hs.Features) -> list:
        stacked = self._run(self.params, self.buffers, features.saved, features.last)
        return list(stacked.unbind(0))
