"""Custom heads from papers: recognised by what they are, and adapted when written for Ultralytics 8.0-8.3.

A head is the model's output module: it carries ``nc`` and ``stride`` and a box regression
(``reg_max`` or ``no``), and its task shows in what else it carries (``nm``/``npr`` masks,
``kpt_shape`` keypoints, ``ne`` angles). Papers' forks pass it its YAML arguments with the list
of its inputs' channels appended (``args.append([ch[x] for x in f])``), their hidden width (``hidc``)
and a segmentation head's ``npr`` width-scaled as Ultralytics scales its own ``Segment``'s.

Heads written for Ultralytics 8.0-8.3 speak that version's protocol: in training a list of
per-level maps ``cat(box, cls)`` (with mask coefficients and prototypes, keypoints or angles in
a tuple), in inference ``(decoded, raw)``. Today's trainer, losses, validator, predictor and
exporter read dicts (``boxes``, ``scores``, ``feats``...). ``adapt`` turns such a head into a
subclass of itself that also is Ultralytics' head of its task (so the stride probe, the exporter
and ``guess_model_task`` treat it as one) and whose ``forward`` translates the old protocol to
the new one; the head's own code runs unchanged. A head that already speaks today's protocol is
left alone. An adapted head pickles as its own class (checkpoints unpickle where the block
folder is registered, with or without the studio).

``probe.py`` checks the assumptions this file rests on (the dict keys, the heads' signatures).
This file imports nothing from YOLO Studio: it is shipped next to ``ultralytics_hook.py``.
"""

from __future__ import annotations

import contextlib
import inspect
import re

ADAPTED_NOTE = "head written for Ultralytics 8.0-8.3: adapted"
ULTRALYTICS_HEADS = {"detect": "Detect", "segment": "Segment", "pose": "Pose", "obb": "OBB"}
# today's extra prediction per task, after boxes/scores/feats: the key its loss and decoder read
EXTRA_KEYS = {"segment": ("mask_coefficient", "proto"), "pose": ("kpts",), "obb": ("angle",)}
RESTORE_NAME = "_adapted_head"  # the unpickling function's name in the block package (see ``restore``)


def _head_classes() -> dict:
    from ultralytics.nn.modules import head

    return {task: getattr(head, name) for task, name in ULTRALYTICS_HEADS.items()}


def _parameter_names(cls) -> list:
    try:
        return [p for p in inspect.signature(cls.__init__).parameters][1:]
    except (TypeError, ValueError):
        return []


# --- recognising a head --------------------------------------------------------------------------

def looks_like_head(parents: list, params: list) -> bool:
    """Whether a class with these parent class names and constructor parameter names is written as a
    head: a subclass of one of Ultralytics' detection heads, or a constructor that takes ``nc`` first
    and the inputs' channels ``ch`` last (how every fork's heads are called)."""
    names = [n for n in params if n not in ("args", "kwargs")]
    return any(p in _PARENT_TASKS for p in parents) or (len(names) >= 2 and names[0] == "nc" and names[-1] == "ch")


def task_from(parents: list, params: list) -> str:
    """The task a head makes, from what it is: what its constructor takes (``kpt_shape`` -> pose, ``nm``/``npr``
    -> segment, ``ne`` -> obb), else its Ultralytics parent (nearest first), else detect. A ``Pose_X(Detect)``
    of an 8.3 fork takes ``kpt_shape``: a pose head, whatever it subclasses."""
    names = set(params)
    if "kpt_shape" in names:
        return "pose"
    if names & {"nm", "npr"}:
        return "segment"
    if "ne" in names:
        return "obb"
    return next((_PARENT_TASKS[p] for p in parents if p in _PARENT_TASKS), "detect")


_PARENT_TASKS = {**{name: task for task, name in ULTRALYTICS_HEADS.items()},
                 "Segment26": "segment", "Pose26": "pose", "OBB26": "obb"}


def _ultralytics_parents(cls) -> list:
    return [k.__name__ for k in cls.__mro__[1:] if k.__module__.startswith("ultralytics.")]


def is_head_class(cls) -> bool:
    """``looks_like_head`` for a class."""
    return looks_like_head(_ultralytics_parents(cls), _parameter_names(cls))


def task_of_class(cls) -> str:
    """``task_from`` for a class."""
    return task_from(_ultralytics_parents(cls), _parameter_names(cls))


def task_of_module(module) -> str | None:
    """The task of a built module that carries a head's attributes (None if it is not a head)."""
    if not (hasattr(module, "nc") and hasattr(module, "stride") and (hasattr(module, "reg_max") or hasattr(module, "no"))):
        return None
    if getattr(module, "kpt_shape", None) is not None:
        return "pose"
    if hasattr(module, "nm") or hasattr(module, "proto"):
        return "segment"
    if hasattr(module, "ne"):
        return "obb"
    return "detect"


# A head's hidden width, written in the YAML at full width like a Conv's channels: forks scale it
# (``args[k] = make_divisible(min(args[k], max_channels) * width, 8)`` in their parse_model branch).
HIDDEN_WIDTH = re.compile(r"^(hidc|hid_?c|hidden_?c(hannels?)?|hidden_?dim|c_?hid(den)?|mid_?c(hannels?)?)$", re.I)


def scaled_arguments(cls) -> list:
    """The YAML argument positions of a head that are width-scaled: its hidden width (``hidc``...) and,
    for a segmentation head, ``npr`` (as Ultralytics scales ``Segment``'s)."""
    names = [n for n in _parameter_names(cls) if n not in ("args", "kwargs")][:-1]  # ch is appended
    segment = task_of_class(cls) == "segment"
    return [k for k, name in enumerate(names) if HIDDEN_WIDTH.match(name) or (segment and name == "npr")]


def head_call(cls, args: list, inputs: list, width: float, max_channels: float) -> list:
    """The constructor call forks make for a head: its YAML arguments with the widths among them scaled
    (``scaled_arguments``), the list of its inputs' channels appended."""
    import math

    call = list(args)
    for k in scaled_arguments(cls):
        if k < len(call) and isinstance(call[k], int) and not isinstance(call[k], bool):
            call[k] = math.ceil(min(call[k], max_channels) * width / 8) * 8
    return [*call, list(inputs)]


# --- which protocol a head speaks -----------------------------------------------------------------

def speaks_legacy(output) -> bool:
    """Whether a head's training output is the 8.0-8.3 protocol (a list or tuple) rather than a dict."""
    return isinstance(output, (list, tuple))


@contextlib.contextmanager
def legacy_constructors():
    """While a custom head is built: a subclass of Ultralytics' Detect/Segment/Pose/OBB written for
    8.0-8.3 calls ``super().__init__(nc, ch)`` (``nc, nm, npr, ch``...), and today's constructors take
    ``reg_max, end2end`` before ``ch``. A list where ``reg_max`` belongs is read as ``ch``."""
    classes = list(_head_classes().values())
    saved = {cls: cls.__dict__["__init__"] for cls in classes}

    def shim(original):
        names = list(inspect.signature(original).parameters)[1:]
        slot = names.index("reg_max") if "reg_max" in names else None

        def __init__(self, *args, **kwargs):
            if slot is not None and len(args) == slot + 1 and isinstance(args[slot], (list, tuple)):
                args = (*args[:slot], 16, False, args[slot])
            original(self, *args, **kwargs)

        __init__.__wrapped__ = original
        return __init__

    try:
        for cls in classes:
            cls.__init__ = shim(saved[cls])
        yield
    finally:
        for cls, original in saved.items():
            cls.__init__ = original


# --- the adapter ----------------------------------------------------------------------------------

def _as_dict(head, raw, task: str) -> dict:
    """8.0-8.3 raw predictions (per-level maps, plus the task's extras) as today's prediction dict."""
    import torch

    maps, extras = (raw[0], list(raw[1:])) if task != "detect" and isinstance(raw, tuple) else (raw, [])
    if isinstance(maps, dict):  # an 8.3 subclass that called today's Detect.forward for its boxes
        out = dict(maps)
    else:
        maps = list(maps)
        batch, box = maps[0].shape[0], getattr(head, "reg_max", 16) * 4
        flat = torch.cat([m.view(batch, m.shape[1], -1) for m in maps], 2)
        out = {"boxes": flat[:, :box], "scores": flat[:, box:], "feats": maps}
    out.update(zip(EXTRA_KEYS.get(task, ()), extras))
    return out


class LegacyHead:
    """Mixed in front of an 8.0-8.3 head's class (see ``adapt``): today's protocol outside, the head's
    own code inside."""

    adapted_task = "detect"

    def forward(self, x):
        out = super().forward(x)
        task = self.adapted_task
        if self.training:
            return _as_dict(self, out, task)
        if getattr(self, "export", False) or not isinstance(out, tuple) or len(out) != 2:
            return self._as_exported(out)  # the decoded tensor(s), laid out as today's heads export them
        decoded, raw = out
        if isinstance(raw, tuple) and raw and isinstance(raw[0], tuple):  # today's Detect.forward inside
            raw = (raw[0][1], *raw[1:])
        if task == "segment":  # 8.3: (cat(boxes, scores, coefficients), (maps, coefficients, protos))
            return (decoded, raw[2]), _as_dict(self, tuple(raw), task)
        return decoded, _as_dict(self, raw, task)

    def _as_exported(self, out):
        """8.3 heads decode boxes as ``cx cy w h``; an export with NMS asks today's heads for ``x1 y1 x2 y2``."""
        if not getattr(self, "xyxy", False) or self.adapted_task == "obb":
            return out
        decoded = out[0] if isinstance(out, tuple) else out
        xy, wh = decoded[:, :2], decoded[:, 2:4]
        import torch

        corners = torch.cat([xy - wh / 2, xy + wh / 2, decoded[:, 4:]], 1)
        return (corners, *out[1:]) if isinstance(out, tuple) else corners

    def bias_init(self):
        """The head's own ``bias_init`` when it has one; else Ultralytics' where the head has its layers."""
        own = next((k for k in type(self).__mro__[2:] if "bias_init" in vars(k)), None)
        if own is not None and not own.__module__.startswith("ultralytics."):
            return own.bias_init(self)
        with contextlib.suppress(AttributeError, TypeError, IndexError):
            super().bias_init()

    def __getattr__(self, name):
        """Today's model code reads a Detect's ``cv2`` (``is_fused``): ``None`` for a head without one."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "cv2":
                return None
            raise

    def __reduce_ex__(self, protocol):
        # the state is set after the object exists (``__setstate__``), so a head whose state refers back
        # to it (a stored bound method, a hook) pickles and copies as its plain class does
        return restore, (type(self).__mro__[2], self.adapted_task), dict(self.__dict__)


def _legacy_inference(self, x):
    """Ultralytics 8.3's ``Detect._inference`` (a list of maps) for heads that call it on a list."""
    import torch
    from ultralytics.utils.tal import make_anchors

    if isinstance(x, dict):
        return _head_classes()["detect"]._inference(self, x)
    shape = x[0].shape
    flat = torch.cat([xi.view(shape[0], self.no, -1) for xi in x], 2)
    if self.dynamic or self.shape != shape:
        self.anchors, self.strides = (a.transpose(0, 1) for a in make_anchors(x, self.stride, 0.5))
        self.shape = shape
    box, cls = flat.split((self.reg_max * 4, self.nc), 1)
    dbox = self.decode_bboxes(self.dfl(box), self.anchors.unsqueeze(0)) * self.strides
    return torch.cat((dbox, cls.sigmoid()), 1)


def _legacy_decode_bboxes(self, bboxes, anchors, angle=None):
    """8.3's ``decode_bboxes(bboxes, anchors)``; an OBB head's angle is the one its forward stored."""
    from ultralytics.utils.tal import dist2bbox, dist2rbox

    if self.adapted_task == "obb":
        return dist2rbox(bboxes, self.angle if angle is None else angle, anchors, dim=1)
    return dist2bbox(bboxes, anchors, xywh=True, dim=1)


_SHIMS = {"_inference": _legacy_inference, "decode_bboxes": _legacy_decode_bboxes}
_CLASSES = {}  # (head class, task) -> adapted class


def adapted_class(cls, task: str):
    """``cls`` with ``LegacyHead`` in front and Ultralytics' head of ``task`` behind (unless it is one)."""
    key = (cls, task)
    if key not in _CLASSES:
        base = _head_classes()[task]
        bases = (LegacyHead, cls) if issubclass(cls, base) else (LegacyHead, cls, base)
        namespace = {"adapted_task": task, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                     "__doc__": cls.__doc__}
        for name, shim in _SHIMS.items():  # 8.3's methods where the head relies on its parent's
            owner = next((k for k in cls.__mro__ if name in vars(k)), None)
            if owner is None or owner.__module__.startswith("ultralytics."):
                namespace[name] = shim
        _CLASSES[key] = type(cls.__name__, bases, namespace)
    return _CLASSES[key]


def adapt(module, task: str):
    """Make a built 8.0-8.3 head speak today's protocol (in place; returns it)."""
    if not isinstance(module, LegacyHead):
        module.__class__ = adapted_class(type(module), task)
    _guard_weight_loading()
    return module


def _guard_weight_loading() -> None:
    """Today's ``BaseModel.load`` rebuilds a Detect's class branch when the source head's is another width,
    reading ``head.cv2`` as per-level Sequentials; 8.3 heads keep other layers there (one shared Conv2d for
    LSCD). For a model with an adapted head, that step is left out: the weights transfer by name and shape."""
    from ultralytics.nn import tasks

    original = tasks.BaseModel.load
    if getattr(original, "guards_adapted_heads", False):
        return

    def load(self, weights, verbose=True):
        head = self.model[-1] if hasattr(self, "model") else None
        if not isinstance(head, LegacyHead):
            return original(self, weights, verbose)
        from ultralytics.utils import LOGGER
        from ultralytics.utils.torch_utils import intersect_dicts

        model = (weights.get("ema") or weights["model"]) if isinstance(weights, dict) else weights
        csd = intersect_dicts(model.float().state_dict(), self.state_dict())
        self.load_state_dict(csd, strict=False)
        if verbose:
            LOGGER.info(f"Transferred {len(csd)}/{len(self.model.state_dict())} items from pretrained weights")

    load.guards_adapted_heads = True
    load.__wrapped__ = original
    tasks.BaseModel.load = load


def is_adapted(module) -> bool:
    return isinstance(module, LegacyHead)


def restore(cls, task: str, state: dict | None = None):
    """Unpickle (and deep-copy) an adapted head: its own class, adapted again (its state follows)."""
    module = cls.__new__(cls)
    if state is not None:
        module.__dict__.update(state)
    return adapt(module, task)


def register_restore(package) -> None:
    """Put ``restore`` in the block package, where checkpoints look it up by name."""
    if getattr(package, RESTORE_NAME, None) is None:
        restore.__module__, restore.__qualname__ = package.__name__, RESTORE_NAME
        setattr(package, RESTORE_NAME, restore)


def protocol_changes() -> list:
    """What of today's head protocol the adapter relies on no longer holds in the installed Ultralytics
    (``probe.py`` reports each): the training dict's keys per task, the inference tuple's layout, the
    constructors' ``reg_max, end2end`` before ``ch``, and the stride probe reading ``feats``."""
    import torch
    from ultralytics.nn import tasks

    out = []
    ch = (16, 32)
    extra = {"detect": (), "segment": (4, 16), "pose": ((2, 3),), "obb": (1,)}
    for task, cls in _head_classes().items():
        names = list(inspect.signature(cls.__init__).parameters)
        if names[-3:] != ["reg_max", "end2end", "ch"]:
            out.append(f"{cls.__name__}({', '.join(names[1:])}) no longer ends with reg_max, end2end, ch")
            continue
        head = cls(2, *extra[task], 16, False, ch)
        head.stride = torch.tensor([8.0, 16.0])
        x = [torch.zeros(1, c, 8 // k, 8 // k) for k, c in zip((1, 2), ch)]
        keys = set(head.train()([t.clone() for t in x]))
        wanted = {"boxes", "scores", "feats", *EXTRA_KEYS.get(task, ())}
        if keys != wanted:
            out.append(f"{cls.__name__}'s training output has {sorted(keys)}, not {sorted(wanted)}")
        try:
            evaluated = head.eval()([t.clone() for t in x])
            decoded = evaluated[0][0] if task == "segment" else evaluated[0]
            laid_out = isinstance(evaluated, tuple) and isinstance(evaluated[1], dict) and decoded.dim() == 3
        except Exception as exc:  # noqa: BLE001 - what broke is the finding
            laid_out = False
            out.append(f"{cls.__name__}'s inference fails: {type(exc).__name__}: {exc}")
        if not laid_out:
            out.append(f"{cls.__name__}'s inference output is no longer (decoded, predictions)")
    if '["feats"]' not in inspect.getsource(tasks.DetectionModel.__init__):
        out.append("DetectionModel's stride probe no longer reads the head's feats")
    return out
