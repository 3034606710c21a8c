"""A memory budget for building and running a model the studio measures.

One mistyped argument (an expansion of 16 where 0.5 was meant, a channel count with an extra zero,
upsampling six times in a row) can make a model ask for tens of gigabytes. Building it for the
designer's shapes would exhaust the machine's memory, and the system would kill the studio with it.

Inside ``memory_budget(limit)``, on the thread that entered it:

- every weight and buffer a layer registers is checked before the layer initialises it (an empty
  tensor's memory is not touched until then);
- once the layers exist (``attach``), before a module whose output size follows from its settings
  runs (convolutions, resampling, linear layers, attention), that output is checked;
- after each layer of the model (and each custom block) the process's size is checked, which catches
  what the rest allocate, one layer late.

A check that would take the process more than ``limit`` bytes above its size on entry raises
``OverBudget``. Hooks on those modules only cost little; a PyTorch function mode (which would see
every allocation) or global forward hooks made the designer's shapes 6 to 10 % slower.
"""

from __future__ import annotations

import math
import os
import threading

GIB = 1 << 30
MEASURE_CAP = 4 * GIB  # the designer's measurements: ten times what yolo11x needs at 640
SMALL = 16 << 20  # allocations below this are not checked against the process's size (each layer's end is)


class OverBudget(Exception):
    """An allocation would take the process over the budget; nothing was allocated."""

    def __init__(self, needed: int, limit: int, what: str, from_image: bool = False):
        self.needed, self.limit, self.what = needed, limit, what
        self.from_image = from_image  # an output computed from the image (its size follows imgsz)
        super().__init__(f"{what} would need {size_text(needed)}, over the {size_text(limit)} budget")


def size_text(n: int, digits: int = 1) -> str:
    return f"{n / GIB:.{digits}f} GB" if n >= GIB / 10 else f"{n / (1 << 20):.0f} MB"


def sizes_text(needed: int, limit: int) -> tuple:
    """``needed`` and ``limit`` as text, with enough digits that the first reads as more than the second."""
    digits = next((d for d in (1, 2, 3) if size_text(needed, d) != size_text(limit, d)), 3)
    return size_text(needed, digits), size_text(limit, digits)


def available_memory() -> int | None:
    """Bytes of memory the system can give without swapping, or None where that is not known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:
        return None


def measuring_budget() -> int:
    """What one measurement may use: 4 GB, or half the free memory where that is less (at least 512 MB)."""
    free = available_memory()
    return MEASURE_CAP if free is None else max(min(MEASURE_CAP, free // 2), GIB // 2)


_statm = None  # /proc/self/statm, kept open: re-reading it costs a few microseconds


def machine_budget() -> int:
    """What building a model to train it may use: the free memory (64 GB where that is not known).
    A model whose weights do not fit there cannot train on this machine."""
    free = available_memory()
    return 64 * GIB if free is None else max(free * 9 // 10, GIB // 2)


def _resident() -> int | None:
    """The process's resident size in bytes (Linux), or None."""
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY)
        return int(os.pread(_statm, 200, 0).split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):  # no procfs; no pread (Windows)
        return None


class memory_budget:  # noqa: N801 (used as a context manager, like its stdlib cousins)
    """Enter around each step that builds or runs a model (it may be entered again); ``attach`` the
    layers once they exist. Inside, on this thread, a layer that would take the process more than
    ``limit`` bytes above its size when the budget was made raises ``OverBudget``. Where that size
    cannot be read (not Linux), each weight and each output alone is checked, and the weights' total."""

    def __init__(self, limit: int):
        self.limit, self.start, self.weights = limit, _resident(), 0
        self._handles, self._thread, self._active, self._initialisers = [], None, False, {}

    def __enter__(self):
        from torch.nn import init
        from torch.nn.modules import module

        self._thread, self._active = threading.get_ident(), True
        self._handles = [module.register_module_parameter_registration_hook(self._on_weight),
                         module.register_module_buffer_registration_hook(self._on_weight)]
        self._initialisers = {name: getattr(init, name) for name in _INITIALISERS}
        for name, original in self._initialisers.items():
            setattr(init, name, self._initialise_small(original))
        return self

    def __exit__(self, *exc):
        from torch.nn import init

        for handle in self._handles:
            handle.remove()
        for name, original in self._initialisers.items():
            setattr(init, name, original)
        self._handles, self._active, self._initialisers = [], False, {}
        return False

    def _initialise_small(self, original):
        """``torch.nn.init``'s ``original``, except that on this thread a weight of ``SMALL`` or more is
        left as the system gave it (zero pages, not yet touched). Measuring needs shapes, not values,
        and random initialisation writes every byte: a too-large layer's weights were filled (seconds,
        gigabytes) before the layer after them showed the total was too much. Untouched, they cost
        nothing until a forward pass reads them, and a refused build costs nothing at all."""
        def initialise(tensor, *args, **kwargs):
            if self._mine() and not tensor.is_meta and tensor.numel() * tensor.element_size() >= SMALL:
                return tensor
            return original(tensor, *args, **kwargs)
        return initialise

    def attach(self, layers) -> None:
        """Check the outputs of ``layers`` (an ``nn.Sequential`` of the model's layers) while the budget
        is entered: before a module whose output size follows from its settings, after each layer.
        Only these modules pay for hooks (a global forward hook would slow every module call)."""
        for module in layers.modules():
            if _predictor(type(module)) is not None:
                module.register_forward_pre_hook(self._before)
        for module in {*layers.children(), *(m for m in layers.modules() if _is_custom(type(m)))}:
            module.register_forward_hook(self._after)

    def _mine(self) -> bool:
        return self._active and threading.get_ident() == self._thread

    def check(self, needed: int, what, from_image: bool = True) -> None:
        """``what`` names the allocation in the error: a string, or a function giving one."""
        total = needed
        if needed < self.limit and needed >= SMALL and self.start is not None:
            now = _resident()
            total = needed if now is None else now - self.start + needed
        if total > self.limit:
            raise OverBudget(total, self.limit, what() if callable(what) else what, from_image)

    def _on_weight(self, module, name, tensor):
        if tensor is None or tensor.is_meta or not self._mine():
            return None
        size = tensor.numel() * tensor.element_size()
        self.weights += size
        self.check(size, lambda: f"its {name} ({_shape_text(tensor.shape)})", False)
        if self.weights > self.limit:
            raise OverBudget(self.weights, self.limit, "its weights and those of the layers before it", False)
        return None

    def _before(self, module, args):
        if self._mine() and args and hasattr(args[0], "shape") and not args[0].is_meta:
            needed, what = _predictor(type(module))(module, args)
            if needed:
                self.check(needed, what)
        return None

    def _after(self, module, args, output):
        if self._mine() and self.start is not None:
            now = _resident()
            if now is not None and now - self.start > self.limit:
                raise OverBudget(now - self.start, self.limit, "its output with what the layers before it keep")
        return None


_INITIALISERS = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
                 "xavier_normal_", "orthogonal_")  # torch.nn.init's random fills (constants are cheap)
_PREDICTORS: dict = {}


def _predictor(kind):
    """The output-size rule for a module class (cached), or None."""
    if kind not in _PREDICTORS:
        import torch.nn as nn

        rules = ((nn.modules.conv._ConvTransposeNd, _conv_transpose), (nn.modules.conv._ConvNd, _conv),
                 (nn.Upsample, _upsample), (nn.Linear, _linear), (nn.MultiheadAttention, _multihead))
        found = next((rule for base, rule in rules if issubclass(kind, base)), None)
        if found is None and "num_heads" in getattr(kind.__init__, "__code__", _NO_CODE).co_varnames:
            found = _attention  # e.g. Ultralytics' Attention: a score per pair of positions, per head
        _PREDICTORS[kind] = found
    return _PREDICTORS[kind]


_NO_CODE = (lambda: None).__code__


def _is_custom(kind) -> bool:
    return not kind.__module__.startswith(("torch.", "ultralytics."))


def _pair(value, n):
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _conv(module, args):
    x = args[0]
    if x.dim() < 3:
        return 0, ""
    n = x.dim() - 2
    padding = [0] * n if isinstance(module.padding, str) else _pair(module.padding, n)  # 'same', 'valid' do not grow
    out = [(size + 2 * p) // s + 1 for size, p, s in zip(x.shape[2:], padding, _pair(module.stride, n))]
    return _count([x.shape[0], module.out_channels, *out]) * x.element_size(), "a convolution's output"


def _conv_transpose(module, args):
    x = args[0]
    if x.dim() < 3:
        return 0, ""
    n = x.dim() - 2
    out = [(size - 1) * s + k for size, s, k in zip(x.shape[2:], _pair(module.stride, n), _pair(module.kernel_size, n))]
    return _count([x.shape[0], module.out_channels, *out]) * x.element_size(), "a transposed convolution's output"


def _upsample(module, args):
    x = args[0]
    if x.dim() < 3:
        return 0, ""
    n = x.dim() - 2
    if module.size is not None:
        out = _pair(module.size, n)
    elif module.scale_factor is not None:
        out = [int(s * f) for s, f in zip(x.shape[2:], _pair(module.scale_factor, n))]
    else:
        return 0, ""
    return _count([*x.shape[:2], *out]) * x.element_size(), f"resampling to {_shape_text(out)}"


def _linear(module, args):
    x = args[0]
    return x.numel() // max(module.in_features, 1) * module.out_features * x.element_size(), "a linear layer's output"


def _multihead(module, args):
    q = args[0]
    k = args[1] if len(args) > 1 and hasattr(args[1], "shape") else q
    if q.dim() != 3:
        return 0, ""
    batch, length, other = (q.shape[0], q.shape[1], k.shape[1]) if module.batch_first else (q.shape[1], q.shape[0], k.shape[0])
    return batch * module.num_heads * length * other * q.element_size(), f"attention over {length:,} positions"


def _attention(module, args):
    x = args[0]
    heads = getattr(module, "num_heads", None)
    if not isinstance(heads, int) or x.dim() != 4:
        return 0, ""
    positions = x.shape[2] * x.shape[3]
    return x.shape[0] * heads * positions * positions * x.element_size(), f"attention over {positions:,} positions"


def _count(sizes) -> int:
    try:
        return math.prod(int(s) for s in sizes)
    except (TypeError, ValueError):
        return 0


def _shape_text(sizes) -> str:
    try:
        return "×".join(str(int(s)) for s in sizes)
    except (TypeError, ValueError):
        return str(sizes)
