"""How Ultralytics reads a model dict: each of its rules the studio relies on, written once.

``parse_model`` and its neighbours in ``ultralytics.nn.tasks`` decide a model's scale, its
repeats, the values of named arguments (``nc``, ``width``...), which modules get input channels
injected and which model class and task a head makes. The studio needs those answers without
building a model (validation, previews) or around its own builds (custom blocks), so it reads
them here, and ``probe.py`` checks them against the installed Ultralytics at start-up.

Nothing here imports torch at module level; the functions that read ``parse_model`` import
Ultralytics when called. This file imports nothing from YOLO Studio: it is shipped next to
``ultralytics_hook.py`` in a training bundle.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import re

TESTED = "8.4"  # the Ultralytics series these rules are written for (the probe names what changed)

# The model class ``parse_model``'s callers build for a head: by the head's name, else by the task.
SPECIAL_MODEL_CLASS = {"RTDETRDecoder": "RTDETRDetectionModel", "WorldDetect": "WorldModel",
                       "YOLOEDetect": "YOLOEModel", "YOLOESegment": "YOLOESegModel",
                       "YOLOESegment26": "YOLOESegModel"}
TASK_MODEL_CLASS = {"detect": "DetectionModel", "segment": "SegmentationModel", "pose": "PoseModel",
                    "obb": "OBBModel", "classify": "ClassificationModel",
                    "semantic": "SemanticSegmentationModel", "depth": "DepthModel"}
CLASSIFY_HEADS = {"classify", "classifier", "cls", "fc"}  # exact (lowercased) names; other tasks match a word
TASK_WORDS = (("detect", "detect"), ("semanticsegment", "semantic"), ("segment", "segment"), ("pose", "pose"),
              ("obb", "obb"), ("depth", "depth"))

# Channel rules: how parse_model treats a module's YAML args.
RULES = PASSTHROUGH, C1, BASE, REPEAT, CONCAT, HEAD, SPECIAL = (
    "passthrough", "c1", "base", "repeat", "concat", "head", "special")
# parse_model's special cases spelled with ``is`` or a set of their own (not base_modules), by name:
# how many arguments it adds to the YAML's (negative: consumes), the rule, and whether it takes
# several inputs. The probe checks that parse_model still names each one.
SPECIAL_CASES = {
    "AIFI": (1, C1, False),
    "HGStem": (1, SPECIAL, False),
    "HGBlock": (2, SPECIAL, False),
    "ResNetLayer": (0, SPECIAL, False),
    "Concat": (0, CONCAT, True),
    "CBLinear": (1, SPECIAL, False),
    "CBFuse": (0, SPECIAL, True),
    "TorchVision": (-1, SPECIAL, False),
    "Index": (-1, SPECIAL, False),
    "RTDETRDecoder": (1, HEAD, True),
    "ImagePoolingAttn": (1, SPECIAL, True),
    "v10Detect": (1, HEAD, True),
    "SemanticSegment": (1, HEAD, True),
    "Depth": (0, HEAD, True),
}
# Heads that get ``reg_max, end2end, [channels]`` appended.
DETECT_LIKE = ("Detect", "WorldDetect", "YOLOEDetect", "Segment", "Segment26", "YOLOESegment",
               "YOLOESegment26", "Pose", "Pose26", "OBB", "OBB26")


class HookUnsupported(RuntimeError):
    """The installed Ultralytics does not build models the way the studio expects."""


def tasks_module():
    from ultralytics.nn import tasks

    return tasks


def version() -> str:
    import ultralytics

    return getattr(ultralytics, "__version__", "?")


def check_supported() -> None:
    """Raise ``HookUnsupported`` with a plain reason if ``parse_model`` is not what the hook wraps."""
    import inspect

    tasks = tasks_module()
    parse_model = getattr(tasks, "parse_model", None)
    if parse_model is None:
        raise HookUnsupported(f"Ultralytics {version()} has no nn.tasks.parse_model")
    original = getattr(parse_model, "__wrapped__", parse_model)
    params = list(inspect.signature(original).parameters)
    if params[:2] != ["d", "ch"]:
        raise HookUnsupported(f"Ultralytics {version()} changed parse_model's signature to ({', '.join(params)})")
    for name in ("Conv", "Concat", "Detect", "Index"):
        if not hasattr(tasks, name):
            raise HookUnsupported(f"Ultralytics {version()} no longer has the {name} module in nn.tasks")


# --- scale and depth ---------------------------------------------------------------------------

def chosen_scale(d: dict) -> str | None:
    """The scale ``parse_model`` builds: the dict's ``scale``, else the first of ``scales`` (None without scales)."""
    scales = d.get("scales")
    if not isinstance(scales, dict) or not scales:
        return None
    return d.get("scale") or next(iter(scales))


def multiples(d: dict) -> tuple:
    """(depth, width, max_channels) as ``parse_model`` reads them from the model dict."""
    scale = chosen_scale(d)
    if scale is None:
        return d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")
    depth, width, max_channels = d["scales"][scale]
    return depth, width, max_channels


def effective_repeats(n: int, d: dict) -> int:
    """A row's repeats after the depth multiple, as ``parse_model`` rounds them."""
    return max(round(n * multiples(d)[0]), 1) if n > 1 else n


def scale_for_file(path, d: dict) -> str | None:
    """The scale Ultralytics builds a YAML file at: its ``scale``, else the one its name names
    (``yolo11n.yaml`` -> n, as ``guess_model_scale`` reads it), else the first."""
    scales = d.get("scales") or {}
    if d.get("scale") in scales:
        return d["scale"]
    if not scales:
        return None
    from pathlib import Path

    found = re.search(r"yolo(e-)?[v]?\d+([nslmx])", Path(path).stem)
    scale = found.group(2) if found else ""
    return scale if scale in scales else next(iter(scales))


def resolve_args(args: list, d: dict) -> list:
    """String arguments resolved as ``parse_model`` does (its local names, else Python literals)."""
    depth, width, _ = multiples(d)
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


# --- task and model class ----------------------------------------------------------------------

def guess_task(d: dict) -> str:
    """The task of a model dict from its last head module's name, as ``guess_model_task`` guesses it
    ('detect' where it finds none, as ``YOLO()`` then assumes). Needs no torch."""
    with contextlib.suppress(Exception):
        head = str(d["head"][-1][-2]).lower()
        if head in CLASSIFY_HEADS:
            return "classify"
        return next((task for word, task in TASK_WORDS if word in head), "detect")
    return "detect"


def model_class(d: dict, task: str | None = None) -> str:
    """The name of the ``ultralytics.nn.tasks`` class that builds the dict (for ``task`` when the head's
    name does not say it: a custom head, whose task ``heads`` reads from its class)."""
    head = d["head"][-1][2] if d.get("head") else ""
    return SPECIAL_MODEL_CLASS.get(head, TASK_MODEL_CLASS.get(task or guess_task(d), "DetectionModel"))


# --- which modules get channels injected -------------------------------------------------------

def set_names(function: ast.FunctionDef, variable: str) -> set:
    """The names in ``variable = frozenset({...})`` inside ``function`` (``torch.nn.X`` as ``nn.X``)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets):
            return {_dotted(e).replace("torch.nn.", "nn.") for e in ast.walk(node.value)
                    if isinstance(e, (ast.Name, ast.Attribute)) and _dotted(e) not in ("frozenset", "set")
                    and not _is_part_of_attribute(e, node.value)}
    return set()


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_part_of_attribute(node, root) -> bool:
    return any(isinstance(p, ast.Attribute) and p.value is node for p in ast.walk(root))


@functools.lru_cache(maxsize=1)
def parse_model_source() -> str:
    import inspect
    import textwrap

    tasks = tasks_module()
    return textwrap.dedent(inspect.getsource(getattr(tasks.parse_model, "__wrapped__", tasks.parse_model)))


@functools.lru_cache(maxsize=1)
def ultralytics_sets() -> tuple:
    """(base_modules, repeat_modules): the classes ``parse_model`` injects channels (and repeats) for."""
    tasks = tasks_module()
    function = ast.parse(parse_model_source()).body[0]
    return tuple(frozenset(vars(tasks)[n] for n in set_names(function, variable) if isinstance(vars(tasks).get(n), type))
                 for variable in ("base_modules", "repeat_modules"))


def inherited_layout(cls) -> str | None:
    """``repeat``/``base`` for a subclass of a block ``parse_model`` injects channels for (a C2f subclass)."""
    with contextlib.suppress(Exception):
        base, repeat = ultralytics_sets()
        parents = cls.__mro__[1:]
        if any(p in repeat for p in parents):
            return "repeat"
        if any(p in base for p in parents):
            return "base"
    return None


def torch_rows_to_place(rows, d) -> dict:
    """``{layer: class}`` for ``nn.X`` rows whose arguments do not fit ``X`` as written and that
    ``parse_model`` has no rule for: repositories add such layers (``nn.Conv2d``) to ``base_modules``,
    so their YAML leaves the input channels out. Plain Ultralytics would fail on them; the studio
    places them like a custom block. Every row Ultralytics can build is left to it."""
    import inspect

    import torch.nn as nn

    known = parse_model_source()
    out = {}
    for i, (_f, _n, name, args) in enumerate(rows):
        if not (isinstance(name, str) and name.startswith("nn.")):
            continue
        cls = getattr(nn, name[3:], None)
        if not isinstance(cls, type) or f"nn.{name[3:]}" in known:
            continue
        try:
            inspect.signature(cls).bind(*resolve_args(list(args), d))
        except TypeError:
            out[i] = cls
        except ValueError:
            continue
    return out


def c3k_rule(cls, layout: str, call: list, d: dict, parameter_names: list) -> list:
    """``parse_model`` turns ``c3k`` on for C3k2 at scales m, l and x; forks' C3k2 variants get the same
    (the common framework for them lists every C3k2_xxx next to C3k2 in that rule)."""
    parent = getattr(tasks_module(), "C3k2", None)
    if (layout == "repeat" and parent is not None and issubclass(cls, parent) and chosen_scale(d) in {"m", "l", "x"}
            and parameter_names[3:4] == ["c3k"]):
        return [*call[:3], True, *call[4:]]
    return call
