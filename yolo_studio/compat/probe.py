"""The start-up probe: does the installed Ultralytics still work the way ``compat`` assumes?

Each assumption the studio makes about Ultralytics' internals is checked here against the
installed version, most of them by building a two-row model through the hook: a built-in
``Conv`` (its channels scaled and injected by ``parse_model``) and a custom block that changes
the channels (placed by the hook). A changed Ultralytics then gives one message per assumption
("Ultralytics 8.5.0 changed parse_model: ...") instead of wrong channels later.

The studio runs ``probe()`` on its inspection worker after start-up; ``yolo-studio probe``
runs it from a terminal, and a test runs it against the installed version.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from yolo_studio.compat import heads, measuring, model_dict, ultralytics_hook

# Heads whose task both guesses must agree on (the ones this Ultralytics has are checked).
HEADS = ("Detect", "v10Detect", "Segment", "Segment26", "Pose", "Pose26", "OBB", "OBB26", "Classify",
         "RTDETRDecoder", "WorldDetect", "YOLOEDetect", "YOLOESegment", "SemanticSegment", "Depth")
FILE_NAMES = ("yolo11n.yaml", "yolov8s.yaml", "yoloe-11m-seg.yaml", "yolo26x-pose.yaml", "my_model.yaml")
TRAINER_NAMES = ("_get_memory", "final_eval", "validate")  # what compat/training.py replaces or calls


@dataclass(frozen=True)
class Mismatch:
    """One assumption the installed Ultralytics breaks."""

    subject: str  # what changed: "parse_model", "guess_model_task", "the trainer"...
    what: str

    def describe(self) -> str:
        return f"Ultralytics {model_dict.version()} changed {self.subject}: {self.what}"


def probe() -> list:
    """The assumptions the installed Ultralytics breaks, as ``Mismatch``es; empty when all hold."""
    found = []
    for check in (_parse_model_build, _parse_model_locals, _channel_sets, _special_cases, _task_guess,
                  _scale_guess, _model_names, _model_classes, _trainer, _inference_helpers, _tuner, _heads):
        try:
            found += check()
        except Exception as exc:  # the check itself could not run: that is the change to report
            found.append(Mismatch(check.__doc__.split(":")[0], f"{type(exc).__name__}: {exc}"))
    return found


def report(mismatches: list, per_subject: int | None = 2) -> str:
    """A message for a user: what changed (at most ``per_subject`` lines for each part of Ultralytics,
    then how many more), and what to do."""
    if not mismatches:
        return ""
    groups = {}
    for mismatch in mismatches:
        groups.setdefault(mismatch.subject, []).append(mismatch)
    lines = []
    for group in groups.values():
        shown = group if per_subject is None else group[:per_subject]
        lines += [m.describe() for m in shown]
        if len(group) > len(shown):
            lines.append(f"  ... and {len(group) - len(shown)} more like it (yolo-studio probe lists them all)")
    if version_series(model_dict.version()) == model_dict.TESTED:
        return "\n".join(lines) + "\nThis is unexpected in a release YOLO Studio was tested with: please report it."
    return ("\n".join(lines) + f"\nYOLO Studio is written for Ultralytics {model_dict.TESTED}.x: install that "
            f"version (pip install 'ultralytics=={model_dict.TESTED}.*') or update YOLO Studio.")


def _probe_block():
    import torch.nn as nn

    class WidenBlock(nn.Module):  # a block as papers write them: (c1, c2), channels change
        def __init__(self, c1, c2):
            super().__init__()
            self.conv = nn.Conv2d(c1, c2, 1)

        def forward(self, x):
            return self.conv(x)

    return WidenBlock


def _parse_model_build() -> list:
    """parse_model: a two-row model built through the hook"""
    model_dict.check_supported()
    d = {"nc": 1, "scales": {"n": [0.5, 0.25, 1024]}, "scale": "n",
         "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "WidenBlock", [32]]], "head": []}
    import torch

    tasks = model_dict.tasks_module()
    with ultralytics_hook.installed({"WidenBlock": (_probe_block(), None)}) as hook, torch.no_grad():
        seq, _save = tasks.parse_model(d, ch=3, verbose=False)
        out = []
        conv = seq[0]
        if getattr(getattr(conv, "conv", None), "out_channels", None) != 16:
            out.append(Mismatch("parse_model", "Conv [64] at width 0.25 no longer has 16 output channels "
                                f"(it has {getattr(getattr(conv, 'conv', None), 'out_channels', '?')})"))
        args = hook.layer_args(seq).get(0)
        if args != [3, 16, 3, 2]:
            out.append(Mismatch("parse_model's log lines", f"layer 0's arguments read from the log are {args!r}, "
                                "not [3, 16, 3, 2]"))
        y = seq[1](seq[0](torch.zeros(1, 3, measuring.PROBE_SIZE // 4, measuring.PROBE_SIZE // 4)))
        if y.shape[1] != 8 or hook.resolved.get(1, {}).get("c2") != 8:
            out.append(Mismatch("parse_model", f"a custom block after it measured {y.shape[1]} channels, not 8"))
        if not all(hasattr(m, name) for m in seq for name in ("i", "f", "type", "np")):
            out.append(Mismatch("parse_model", "its layers no longer carry i, f, type and np"))
    return out


def _parse_model_locals() -> list:
    """parse_model: the names its YAML arguments may use"""
    function = ast.parse(model_dict.parse_model_source()).body[0]
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {a.arg for a in function.args.args}
    resolved = {"nc", "reg_max", "end2end", "kpt_shape", "depth", "width", "scale"}
    missing = sorted(resolved - stored)
    if missing:
        return [Mismatch("parse_model", f"it no longer defines {', '.join(missing)}, which YAML arguments may name")]
    if "locals()" not in model_dict.parse_model_source():
        return [Mismatch("parse_model", "it no longer reads string arguments from its local names")]
    return []


def _channel_sets() -> list:
    """parse_model: its base_modules and repeat_modules sets"""
    tasks = model_dict.tasks_module()
    base, repeat = model_dict.ultralytics_sets()
    out = []
    for name, group, label in (("Conv", base, "base_modules"), ("C2f", repeat, "repeat_modules")):
        if getattr(tasks, name, None) not in group:
            out.append(Mismatch("parse_model", f"{name} is no longer in {label}"))
    return out


def _special_cases() -> list:
    """parse_model: its special cases"""
    names = {n.id for n in ast.walk(ast.parse(model_dict.parse_model_source())) if isinstance(n, ast.Name)}
    gone = sorted(n for n in (*model_dict.SPECIAL_CASES, *model_dict.DETECT_LIKE)
                  if n not in names and hasattr(model_dict.tasks_module(), n))
    return [Mismatch("parse_model", f"it no longer has a rule for {', '.join(gone)}")] if gone else []


def _task_guess() -> list:
    """guess_model_task: the task of a head"""
    tasks = model_dict.tasks_module()
    out = []
    for head in (h for h in HEADS if hasattr(tasks, h)):
        d = {"backbone": [], "head": [[-1, 1, head, []]]}
        theirs, ours = tasks.guess_model_task(d) or "detect", model_dict.guess_task(d)
        if theirs != ours:
            out.append(Mismatch("guess_model_task", f"a model ending in {head} is {theirs}, not {ours}"))
    return out


def _scale_guess() -> list:
    """guess_model_scale: the scale a file name names"""
    tasks = model_dict.tasks_module()
    d = {"scales": {s: [1, 1, 1024] for s in "nslmx"}}
    out = []
    for name in FILE_NAMES:
        theirs = tasks.guess_model_scale(name) or "n"
        if theirs != model_dict.scale_for_file(name, d):
            out.append(Mismatch("guess_model_scale", f"{name} is scale {theirs!r}, not "
                                f"{model_dict.scale_for_file(name, d)!r}"))
    return out


def _model_names() -> list:
    """yaml_model_load: the shipped YAML a model name means"""
    import yaml

    from yolo_studio.compat.model_names import find_shipped

    tasks = model_dict.tasks_module()
    out = []
    for name in ("yolo11n.yaml", "yolov8s-seg.yaml", "yolo11n-obb.yaml", "yolov8n6.yaml"):
        theirs = {k: v for k, v in tasks.yaml_model_load(name).items() if k not in ("scale", "yaml_file")}
        ours = find_shipped(name)
        if ours is None or yaml.safe_load(ours.file.read_text()) != theirs:
            out.append(Mismatch("yaml_model_load", f"{name} no longer loads {ours.file if ours else 'a shipped YAML'}"))
        elif ours.scale != tasks.guess_model_scale(name):
            out.append(Mismatch("yaml_model_load", f"{name} is scale {tasks.guess_model_scale(name)!r}, "
                                f"not {ours.scale!r}"))
    return out


def _model_classes() -> list:
    """nn.tasks: the model classes"""
    tasks = model_dict.tasks_module()
    names = set(model_dict.SPECIAL_MODEL_CLASS.values()) | set(model_dict.TASK_MODEL_CLASS.values())
    missing = sorted(n for n in names if not hasattr(tasks, n))
    return [Mismatch("nn.tasks", f"it no longer has {', '.join(missing)}")] if missing else []


def _trainer() -> list:
    """the trainer: what the training process replaces"""
    from ultralytics.engine import trainer

    out = [Mismatch("the trainer", f"BaseTrainer no longer has {name}") for name in TRAINER_NAMES
           if not hasattr(trainer.BaseTrainer, name)]
    if not callable(getattr(trainer, "check_amp", None)):
        out.append(Mismatch("the trainer", "ultralytics.engine.trainer no longer imports check_amp"))
    return out


def _tuner() -> list:
    """the Tuner: what compat/tuning.py reads and replaces"""
    from ultralytics.engine import trainer, tuner

    out = [Mismatch("the Tuner", f"Tuner no longer has {name}") for name in ("_result_record", "_save_local_result")
           if not hasattr(tuner.Tuner, name)]
    if not isinstance(getattr(trainer, "_YOLO_CLI_COMMAND", None), list):
        out.append(Mismatch("the Tuner", "MultiTrainer no longer starts its trainings with _YOLO_CLI_COMMAND"))
    from yolo_studio.compat.tuning import default_space

    if "lr0" not in default_space():
        out.append(Mismatch("the Tuner", "its default search space no longer has lr0"))
    return out


def version_series(version: str) -> str:
    """``8.4`` for ``8.4.12``."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return f"{found.group(1)}.{found.group(2)}" if found else version


def _inference_helpers() -> list:
    """pre- and post-processing: the letterbox, NMS and box scaling compat/inference.py calls"""
    import importlib

    out = []
    for module, name in (("ultralytics.data.augment", "LetterBox"), ("ultralytics.utils.nms", "non_max_suppression"),
                         ("ultralytics.utils.ops", "scale_boxes")):
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            out.append(Mismatch(module, f"{name} is no longer there"))
    return out


def _heads() -> list:
    """the heads' protocol: what compat/heads.py adapts 8.0-8.3 heads to"""
    return [Mismatch("the heads' protocol", change) for change in heads.protocol_changes()]
