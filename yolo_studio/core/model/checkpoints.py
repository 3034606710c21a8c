"""Ultralytics checkpoints (``.pt``) read without running their code.

A checkpoint is a pickle: loading it the usual way (``torch.load(weights_only=False)``) imports and
calls whatever classes it names, so a file from elsewhere can run any code. Here it is read with
an unpickler that rebuilds only tensors and plain containers; every other class it names (the
model's own classes included) becomes an inert ``Stub`` that keeps the attributes it was given.
From that the studio reads what a user needs before training from it: the task, the class names,
the image size, the Ultralytics version that wrote it, the model YAML stored in it, and every
tensor of its state dict (for the transfer report and for weights that follow their layers).

Training from the file still loads it with Ultralytics (the pickle runs then): only files the user
picked or the studio wrote are ever given to it, and preflight says so.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from yolo_studio.compat import model_dict
from yolo_studio.core.errors import StudioError

# What a checkpoint may rebuild for real: tensors and their storage, plain containers and scalars.
_ALLOWED = {
    ("collections", "OrderedDict"), ("collections", "defaultdict"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "slice"), ("builtins", "range"), ("builtins", "complex"), ("builtins", "bytearray"),
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "Size"), ("torch", "device"),
    ("torch._tensor", "_rebuild_from_type_v2"), ("torch.nn.parameter", "Parameter"), ("torch", "Tensor"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
    ("datetime", "datetime"), ("datetime", "date"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"),
    ("pathlib", "Path"), ("copyreg", "_reconstructor"), ("builtins", "object"),
}


class CheckpointError(StudioError):
    """A file that is not a checkpoint the studio can read, and what to do."""

    def __init__(self, message: str, hint: str = ""):
        self.message, self.hint = message, hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


class Stub:
    """Stands for a class a checkpoint names (a model, a layer, a namespace): keeps what it was given,
    runs nothing. ``qualname`` says what it stands for."""

    qualname = "?"

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        self.__dict__["_args"] = args

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}  # (__dict__, __slots__) state
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state

    def __call__(self, *args, **kwargs):  # a stubbed function used as a reduce callable
        return type(self)(*args, **kwargs)

    def __repr__(self):
        return f"<stub {self.qualname}>"


_STUBS: dict = {}


def _stub_for(module: str, name: str) -> type:
    key = f"{module}.{name}"
    if key not in _STUBS:
        _STUBS[key] = type(name, (Stub,), {"qualname": key})
    return _STUBS[key]


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)  # protocol 2 spelling
        if (module, name) in _ALLOWED or (module == "torch" and name.endswith("Storage")) or (
                module == "torch" and name in _DTYPES):
            return super().find_class(module, name)
        return _stub_for(module, name)


class _SummaryUnpickler(_Unpickler):
    """Reads a checkpoint's ``data.pkl`` alone: tensors are not rebuilt, their storages not read."""

    def find_class(self, module, name):
        if module.startswith("torch"):
            return _stub_for(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return None


class _PickleModule:
    """What ``torch.load(pickle_module=...)`` needs: torch keeps its own storage handling."""

    Unpickler = _Unpickler
    load = staticmethod(lambda f, **kw: _Unpickler(f, **kw).load())
    __name__ = "yolo_studio_restricted_pickle"


_DTYPES = {"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
           "half", "float", "double", "long", "int", "short", "complex64", "complex128"}


@dataclass
class CheckpointInfo:
    path: Path
    task: str | None
    names: dict  # class index -> name
    imgsz: int | None
    version: str | None  # the Ultralytics version that wrote it
    date: str | None
    epoch: int | None  # -1 (or None) once a run finished and its optimizer was stripped
    model_yaml: dict | None  # the architecture, as Ultralytics stored it (``model.yaml``)
    train_args: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict, repr=False)  # "model.0.conv.weight" -> tensor
    has_optimizer: bool = False  # the optimizer state a resume needs (Ultralytics strips it at the end)
    amp_scale: float | None = None  # the mixed-precision GradScaler's scale: a number only if AMP trained it

    @property
    def resumable(self) -> bool:
        """A checkpoint training can resume from: Ultralytics' ``strip_optimizer`` (a run's last step) sets
        the epoch to -1 and drops the optimizer, and ``resume=True`` on such a file trains anew."""
        return self.has_optimizer and self.epoch is not None and self.epoch >= 0

    @property
    def nc(self) -> int:
        return len(self.names)

    def summary(self) -> str:
        parts = [self.task or "unknown task", f"{self.nc} classes" if self.names else "no class names"]
        if self.imgsz:
            parts.append(f"trained at imgsz {self.imgsz}")
        if self.version:
            parts.append(f"written by Ultralytics {self.version}")
        return ", ".join(parts)


def read_checkpoint(path: str | Path) -> CheckpointInfo:
    """Read an Ultralytics checkpoint without running code from it. Raises ``CheckpointError``."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file", "Pick a weights file (.pt) that exists.")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path.name}: not a PyTorch checkpoint (not a zip archive: the file is damaged, "
                              "or it is not a .pt written by torch.save)",
                              "Pick the best.pt or last.pt of a run, or weights such as yolo11n.pt.")
    try:
        ckpt = torch.load(path, map_location="cpu", pickle_module=_PickleModule, weights_only=False)
    except Exception as exc:  # truncated archive, unknown storage, a pickle that is not a checkpoint
        raise CheckpointError(f"{path.name}: cannot be read as a checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})",
                              "The file may be damaged or incomplete (copy it again).") from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path.name}: a PyTorch file, but not an Ultralytics checkpoint (it holds a "
                              f"{type(ckpt).__name__}, not a dict with a 'model')",
                              "Pick weights written by Ultralytics or by a studio run.")
    model = ckpt.get("ema") if isinstance(ckpt.get("ema"), Stub) else ckpt.get("model")
    if not isinstance(model, Stub):
        raise CheckpointError(f"{path.name}: an Ultralytics-style dict without a model in it",
                              "Pick the best.pt or last.pt of a run, or weights such as yolo11n.pt.")
    attrs = model.__dict__
    args = ckpt.get("train_args") if isinstance(ckpt.get("train_args"), dict) else {}
    if isinstance(attrs.get("args"), dict):
        args = {**attrs["args"], **args}
    names = attrs.get("names")
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    yaml_dict = attrs.get("yaml") if isinstance(attrs.get("yaml"), dict) else None
    task = args.get("task") or attrs.get("task") or _task_of(yaml_dict)
    imgsz = args.get("imgsz")
    return CheckpointInfo(path=path, task=task if isinstance(task, str) else None,
                          names={int(k): str(v) for k, v in (names or {}).items()},
                          imgsz=int(imgsz) if isinstance(imgsz, int) else None,
                          version=str(ckpt["version"]) if ckpt.get("version") else None,
                          date=str(ckpt["date"]) if ckpt.get("date") else None,
                          epoch=ckpt.get("epoch") if isinstance(ckpt.get("epoch"), int) else None,
                          model_yaml=yaml_dict, train_args=dict(args), state=state_dict(model),
                          has_optimizer=ckpt.get("optimizer") is not None, amp_scale=_amp_scale(ckpt.get("scaler")))


def _amp_scale(scaler) -> float | None:
    """The scale a GradScaler's saved state holds (a disabled scaler saves an empty state)."""
    value = scaler.get("scale") if isinstance(scaler, dict) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def state_dict(module: Stub, prefix: str = "") -> dict:
    """The tensors of a stubbed ``nn.Module`` tree, keyed as ``module.state_dict()`` keys them."""
    import torch

    out = {}
    attrs = module.__dict__
    skipped = set(attrs.get("_non_persistent_buffers_set") or ())
    for kind in ("_parameters", "_buffers"):
        for name, tensor in (attrs.get(kind) or {}).items():
            if isinstance(tensor, torch.Tensor) and name not in skipped:
                out[prefix + name] = tensor.detach()
    for name, child in (attrs.get("_modules") or {}).items():
        if isinstance(child, Stub):
            out.update(state_dict(child, f"{prefix}{name}."))
    return out


def _task_of(yaml_dict: dict | None) -> str | None:
    return model_dict.guess_task(yaml_dict) if yaml_dict else None


@dataclass
class WeightsFile:
    """A weights file found in a folder, for pickers: what it is, without reading its tensors."""

    path: Path
    size: int  # bytes
    task: str | None = None
    nc: int = 0
    version: str | None = None
    problem: str | None = None  # why it could not be read

    def label(self) -> str:
        size = f"{self.size / 2**20:.0f} MB" if self.size >= 2**20 else f"{self.size / 1024:.0f} KB"
        name = self.path.name
        if self.path.parent.name == "weights":  # a run's best.pt by its run's name
            name = f"{self.path.parent.parent.name}/{self.path.name}"
        elif self.path.name == "model.pt" and self.path.parent.name.startswith("v"):  # a registry entry
            name = f"{self.path.parent.parent.name}:{self.path.parent.name}"
        if self.problem:
            return f"{name}  ({size}; cannot be read: {self.problem})"
        return f"{name}  ({self.task or '?'}, {self.nc} classes, {size})"


def peek_checkpoint(path: str | Path) -> WeightsFile:
    """Task, classes and writer of a checkpoint from its pickle alone (no tensor is read, no code run)."""
    path = Path(path)
    found = WeightsFile(path, path.stat().st_size if path.exists() else 0)
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
            with archive.open(name) as f:
                ckpt = _SummaryUnpickler(f).load()
    except (OSError, zipfile.BadZipFile, StopIteration, pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, KeyError) as exc:
        found.problem = "not a PyTorch checkpoint" if isinstance(exc, (zipfile.BadZipFile, StopIteration)) else \
            type(exc).__name__
        return found
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model") or ckpt.get("ema"), Stub):
        found.problem = "not an Ultralytics checkpoint"
        return found
    model = ckpt.get("ema") if isinstance(ckpt.get("ema"), Stub) else ckpt["model"]
    args = ckpt.get("train_args") if isinstance(ckpt.get("train_args"), dict) else {}
    names = model.__dict__.get("names") or {}
    found.nc = len(names) if isinstance(names, (dict, list, tuple)) else 0
    task = args.get("task") or _task_of(model.__dict__.get("yaml") if isinstance(model.__dict__.get("yaml"), dict)
                                        else None)
    found.task = task if isinstance(task, str) else None
    found.version = str(ckpt["version"]) if ckpt.get("version") else None
    return found


def find_weights(folders, limit: int = 200) -> list:
    """The ``.pt`` files in ``folders`` (and their subfolders), newest first, each peeked at."""
    files = []
    for folder in folders:
        folder = Path(folder).expanduser()
        if folder.is_dir():
            files += [p for p in folder.rglob("*.pt") if p.is_file()]
    files = sorted(set(files), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    return [peek_checkpoint(p) for p in files]
