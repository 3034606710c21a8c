"""Running layers only to learn their output shapes: the meta device, throwaway inputs, one block tried.

The hook (``ultralytics_hook.py``) measures the rows above a custom block by running them once
on PyTorch's meta device (no arithmetic), and builds each candidate call of a block and runs it
on its real inputs. Measuring never changes the model the user gets: inputs come from a
generator of their own, and layers are copies built for measuring.

This file imports nothing from YOLO Studio: it is shipped next to ``ultralytics_hook.py`` in a
training bundle.
"""

from __future__ import annotations

PROBE_SIZE = 256  # the image size Ultralytics itself runs once to find a model's strides
CPU_MEASURE_PARAMS = 4_000_000  # until the meta device is warm, smaller prefixes are measured on the CPU
_meta_ready = False  # whether this process has run layers on the meta device (its imports are done)


def meta_ready() -> bool:
    return _meta_ready


def zeros_on_cpu(module) -> None:
    """Give a module built on the meta device zero-filled CPU weights and buffers (``to_empty`` would
    import sympy the first time: most of a second)."""
    import torch

    for m in module.modules():
        for name, p in list(m._parameters.items()):
            if p is not None:
                m._parameters[name] = torch.nn.Parameter(torch.zeros(p.shape, dtype=p.dtype), p.requires_grad)
        for name, b in list(m._buffers.items()):
            if b is not None:
                m._buffers[name] = torch.zeros(b.shape, dtype=b.dtype)


def set_meta_ready() -> None:
    global _meta_ready
    _meta_ready = True


def warm_meta_device() -> None:
    """Use the operations layers run on the meta device once: PyTorch runs them through Python
    references whose first call imports its compiler stack (over a second)."""
    import torch
    import torch.nn.functional as F

    x = torch.empty(1, 4, 8, 8, device="meta")
    y = torch.cat([x + x, x * x.sigmoid(), F.silu(F.conv2d(x, torch.empty(4, 4, 3, 3, device="meta"), padding=1))], 1)
    F.interpolate(F.max_pool2d(y, 5, 1, 2), scale_factor=2.0, mode="nearest").softmax(1).mean()
    set_meta_ready()


def skip_batch_norm(module) -> None:
    """Replace the batch norms inside ``module`` (a copy built for measuring) by identities: they keep
    the shape, and on the meta device PyTorch runs each one through a slow Python decomposition."""
    import torch.nn as nn

    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            skip_batch_norm(child)


def shape_of(out):
    """An output's shape (nested lists for a layer that returns several tensors)."""
    if isinstance(out, (list, tuple)):
        return [shape_of(o) for o in out]
    return tuple(out.shape)


def materialize(shape, device):
    """Tensors of ``shape`` (nested lists give lists): empty on the meta device, random on the CPU
    (from a generator of their own: measuring must not change the model's initial weights)."""
    import torch

    if isinstance(shape, list):
        return [materialize(s, device) for s in shape]
    if device == "meta":
        return torch.empty(shape, device="meta")
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def try_block(cls, call, n, x):
    """Build ``cls(*call)`` (``n`` in a row) and run it once on ``x``; raise if it does not fit."""
    import torch
    import torch.nn as nn

    module = nn.Sequential(*(cls(*call) for _ in range(n))) if n > 1 else cls(*call)
    if any(p.numel() == 0 for p in module.parameters()):
        raise ValueError("these arguments make a layer with empty weights")
    was_training = module.training
    module.eval()
    try:
        y = module([t.clone() for t in x] if isinstance(x, list) else x.clone())
    finally:
        module.train(was_training)
    tensors = list(y) if isinstance(y, (list, tuple)) else [y]
    if not tensors or not all(isinstance(t, torch.Tensor) and t.dim() >= 2 for t in tensors):
        raise TypeError(f"forward returned {type(y).__name__}, not a feature map (or a list of them)")
    return module, y


def channels_of(shape) -> int:
    """The channels of a measured output shape (``shape_of``): the last map's for several."""
    return int((shape[-1] if isinstance(shape, list) else shape)[1])


def output_channels(y) -> int:
    """A block's output channels; for a block that returns several feature maps (read by ``Index``
    rows, which name their own channels), the last one's."""
    return int((y[-1] if isinstance(y, (list, tuple)) else y).shape[1])
