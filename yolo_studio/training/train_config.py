"""Training arguments: read from the installed Ultralytics, grouped, resolved and checked.

The argument list, defaults and help texts come from Ultralytics' own ``cfg/default.yaml`` at run
time (never copied), so a new Ultralytics release brings its new arguments with it. We add only
what the file does not say: which form group an argument belongs in, which arguments User mode
shows, and the arguments the studio sets itself (``model``, ``data``, ``project``...).

``resolve(overrides, preset)`` merges defaults < preset < overrides into a ``Resolved`` config and
checks every value with Ultralytics' ``check_cfg`` one key at a time, so each problem names its key
exactly as ``yolo train`` would refuse it; unknown keys get "did you mean" suggestions.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

# Sections of default.yaml that hold arguments of model.train() (predict, export, tracker are not).
TRAIN_SECTIONS = ("Train settings", "Segmentation", "Classification", "Val/Test settings", "Hyperparameters")

GROUPS = ("General", "Data", "Optimizer & LR", "Loss weights", "Augmentation", "Hardware", "Saving & logging",
          "Validation")
_GROUP_OF = {
    "Data": "data imgsz cache fraction single_cls rect cls_remap classes",
    "Optimizer & LR": "optimizer lr0 lrf momentum weight_decay warmup_epochs warmup_momentum warmup_bias_lr cos_lr nbs",
    "Loss weights": "box cls cls_pw dfl pose kobj rle angle dlog dgrad dlam dis",
    "Augmentation": "hsv_h hsv_s hsv_v degrees translate scale shear perspective flipud fliplr bgr mosaic mixup "
                    "cutmix copy_paste copy_paste_mode auto_augment erasing close_mosaic multi_scale",
    "Hardware": "device workers amp compile channels_last deterministic seed",
    "Saving & logging": "save save_period name exist_ok verbose plots profile save_json project",
    "Validation": "val split conf iou max_det quantize dnn nms",
}
GROUP_OF = {key: group for group, keys in _GROUP_OF.items() for key in keys.split()}

# User mode: the arguments most runs change. Developer mode shows every argument.
USER_KEYS = ("epochs", "imgsz", "batch", "device", "patience", "amp", "workers", "name")
# Set by the studio from the run it starts, not from the form.
STUDIO_KEYS = frozenset({"model", "data", "project", "exist_ok", "resume", "mode", "task"})
CHOICES = {
    "optimizer": ("auto", "SGD", "MuSGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSProp"),
    "split": ("val", "test", "train"),
    "copy_paste_mode": ("flip", "mixup"),
    "auto_augment": ("randaugment", "autoaugment", "augmix"),
}
_SECTION = re.compile(r"^#\s*(.+?)\s*-{3,}\s*$")
_TYPE_HINT = re.compile(r"^\(([^)]*)\)\s*")


@dataclass(frozen=True)
class TrainArg:
    name: str
    default: object
    help: str  # the comment of default.yaml, without its "(type)" prefix
    types: str  # that prefix, e.g. "int", "bool | str", "float, optional"
    group: str
    kind: str  # bool | int | float | fraction | choice | text: the form widget to use

    @property
    def user(self) -> bool:
        return self.name in USER_KEYS


@dataclass
class Resolved:
    config: dict  # every train argument, resolved
    overrides: dict  # the keys whose value differs from Ultralytics' default, in argument order
    problems: list = field(default_factory=list)  # (key, message)

    @property
    def ok(self) -> bool:
        return not self.problems


def default_yaml_path() -> Path:
    """Ultralytics' cfg/default.yaml of the installed package (found without importing it)."""
    spec = importlib.util.find_spec("ultralytics")
    return Path(next(iter(spec.submodule_search_locations))) / "cfg" / "default.yaml"


@lru_cache(maxsize=1)
def train_args() -> dict:
    """``{name: TrainArg}`` in default.yaml's order, for the train sections only."""
    text = default_yaml_path().read_text(encoding="utf-8")
    defaults = yaml.safe_load(text)
    from ultralytics.cfg import (CFG_BOOL_KEYS, CFG_FLOAT_KEYS, CFG_FRACTION_KEYS,  # lightweight module
                                 CFG_INT_KEYS)

    args, section = {}, ""
    for line in text.splitlines():
        if m := _SECTION.match(line):
            section = m.group(1)
            continue
        if section not in TRAIN_SECTIONS or not line or line.startswith((" ", "#")) or ":" not in line:
            continue
        name, _, rest = line.partition(":")
        comment = rest.partition("#")[2].strip()
        hint = _TYPE_HINT.match(comment)
        types = hint.group(1) if hint else ""
        help_text = comment[hint.end():] if hint else comment
        if defaults.get(name) is None:
            kind = "text"  # optional: empty means "not set", so no spin box or check box
        elif name in CFG_BOOL_KEYS:
            kind = "bool"
        elif name in CHOICES:
            kind = "choice"
        elif name in CFG_INT_KEYS:
            kind = "int"
        elif name in CFG_FRACTION_KEYS and "|" not in types:
            kind = "fraction"
        elif name in CFG_FLOAT_KEYS and "|" not in types:
            kind = "float"
        else:
            kind = "text"  # mixed types (batch, imgsz, device, amp, ...): typed as YAML
        args[name] = TrainArg(name, defaults.get(name), help_text, types, GROUP_OF.get(name, _fallback(section)),
                              kind)
    return args


def _fallback(section: str) -> str:
    return {"Val/Test settings": "Validation", "Hyperparameters": "Optimizer & LR"}.get(section, "General")


def form_args(developer: bool) -> dict:
    """``{group: [TrainArg]}`` the form shows: every argument (Developer) or the User-mode subset."""
    groups = {g: [] for g in GROUPS}
    for arg in train_args().values():
        if arg.name in STUDIO_KEYS or (not developer and not arg.user):
            continue
        groups[arg.group].append(arg)
    return {g: args for g, args in groups.items() if args}


def parse_value(text: str):
    """A ``key=value`` value as Ultralytics' CLI reads it: numbers, booleans, None, lists, else text."""
    text = text.strip()
    if text.lower() in ("none", "null", ""):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, list, bool)) else text


def parse_overrides(pairs) -> dict:
    """``["epochs=3", "lr0=0.01"]`` -> ``{"epochs": 3, "lr0": 0.01}``; raises ValueError on a bad pair."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{pair}' is not key=value (for example epochs=10)")
        out[key.strip()] = parse_value(value)
    return out


def check_value(key: str, value) -> str | None:
    """Ultralytics' own check of one value (``check_cfg``), as a message naming the key, or None."""
    from ultralytics.cfg import check_cfg

    try:
        check_cfg({key: value})
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def resolve(overrides: dict, preset: dict | None = None) -> Resolved:
    """Defaults < preset < overrides, every key and value checked."""
    args = train_args()
    merged = {name: arg.default for name, arg in args.items()}
    problems, given = [], []
    for source in (preset or {}), overrides:
        for key, value in source.items():
            if key not in args:
                problems.append((key, unknown_key_message(key)))
                continue
            merged[key] = value
            given.append(key)
    for key in dict.fromkeys(given):
        if message := check_value(key, merged[key]):
            problems.append((key, message))
    changed = {k: v for k, v in merged.items() if v != args[k].default or type(v) is not type(args[k].default)}
    return Resolved(merged, changed, problems)


def unknown_key_message(key: str) -> str:
    close = difflib.get_close_matches(key, train_args().keys(), n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"'{key}' is not a valid YOLO training argument.{hint}"


def format_value(value) -> str:
    """A value as it is typed on Ultralytics' command line."""
    if isinstance(value, list):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, str) and (" " in value or not value):
        return f"'{value}'"
    return str(value)


def cli_command(task: str, resolved: Resolved, model: str, data: str, extra: dict | None = None) -> str:
    """The ``yolo TASK train model=... data=... key=value`` line that runs the same training."""
    pairs = {"model": model, "data": data, **{k: v for k, v in resolved.overrides.items() if k not in ("model", "data")},
             **(extra or {})}
    return f"yolo {task} train " + " ".join(f"{k}={format_value(v)}" for k, v in pairs.items() if v is not None)


def custom_blocks_in(doc, modules_dir) -> list:
    """The custom blocks (from ``modules_dir``) a model document uses, in row order."""
    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks

    catalog, _errors = catalog_with_blocks(modules_dir)
    used = [row.module for row in doc.rows if catalog.get(row.module) is not None
            and catalog.get(row.module).category == "custom"]
    return list(dict.fromkeys(used))


def terminal_commands(task: str, resolved: Resolved, model: str, data: str, extra: dict | None = None,
                      custom: list = (), modules_dir=None, project_dir=None, weights=None) -> str:
    """What to paste into a terminal to run the same training. A model with custom blocks cannot be built by
    plain ``yolo`` (Ultralytics stops with ``KeyError`` on the first one): it gets the ``yolo-studio train``
    line that can, and the ``yolo-studio bundle`` that trains it with plain Ultralytics elsewhere."""
    if not custom:
        return cli_command(task, resolved, model, data, extra)
    q = shlex.quote
    extra = dict(extra or {})
    name = extra.get("name")
    pairs = " ".join(f"{k}={format_value(v)}" for k, v in resolved.overrides.items()
                     if k not in ("model", "data", "project", "name", "exist_ok") and v is not None)
    modules = f" --modules {q(str(modules_dir))}" if modules_dir else ""
    project = f" --project {q(str(project_dir))}" if project_dir else ""
    epochs = resolved.config.get("epochs", 100)
    imgsz = resolved.config.get("imgsz", 640)
    bundle_pairs = " ".join(f"{k}={format_value(v)}" for k, v in {**resolved.overrides, **(
        {"pretrained": extra["pretrained"]} if extra.get("pretrained") else {})}.items()
                            if k not in ("model", "data", "project", "name", "exist_ok", "epochs", "imgsz")
                            and v is not None)
    start = f" --weights {q(str(weights))}" if weights else ""
    return (f"# {Path(model).name} uses custom blocks ({', '.join(custom)}): plain `yolo {task} train` cannot build\n"
            f"# it (Ultralytics stops with KeyError: '{custom[0]}'). The studio's command line registers them:\n"
            f"yolo-studio train --model {q(model)} --data {q(data)}{modules}{project}{start}"
            + (f" --name {q(str(name))}" if name else "") + (f" {pairs}" if pairs else "") + "\n"
            "# On a machine without the studio: a bundle (train.py registers the blocks, then plain Ultralytics)\n"
            f"yolo-studio bundle {q(model)}{modules} -o bundle\n"
            f"python bundle/train.py --data {q(data)} --epochs {epochs} --imgsz {imgsz}"
            + (f" {bundle_pairs}" if bundle_pairs else "") + "\n")


# --------------------------------------------------------------------------- presets

BUILTIN_PRESETS = {
    "CPU smoke test": {"epochs": 2, "imgsz": 64, "batch": 4, "device": "cpu", "workers": 0, "plots": False,
                       "amp": False},
    "Full GPU run": {"epochs": 300, "imgsz": 640, "batch": -1, "device": 0, "workers": 8, "cache": "ram"},
    "No augmentation": {"mosaic": 0.0, "mixup": 0.0, "cutmix": 0.0, "fliplr": 0.0, "hsv_h": 0.0, "hsv_s": 0.0,
                        "hsv_v": 0.0, "translate": 0.0, "scale": 0.0, "erasing": 0.0},
    "Strong augmentation": {"mosaic": 1.0, "mixup": 0.15, "copy_paste": 0.3, "degrees": 10.0, "scale": 0.9,
                            "shear": 2.0},
}


def preset_names(project_dir: str | Path | None) -> list:
    """Built-in presets first, then the project's own (``presets/*.yaml``)."""
    own = sorted(p.stem for p in Path(project_dir, "presets").glob("*.yaml")) if project_dir else []
    return list(BUILTIN_PRESETS) + [n for n in own if n not in BUILTIN_PRESETS]


def load_preset(name: str, project_dir: str | Path | None = None) -> dict:
    """A preset's ``{key: value}``; a project's file wins over a built-in of the same name."""
    if project_dir and (path := Path(project_dir, "presets", f"{name}.yaml")).is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a preset is a mapping of training arguments, e.g. 'epochs: 10'")
        return data
    if name in BUILTIN_PRESETS:
        return dict(BUILTIN_PRESETS[name])
    raise ValueError(f"no preset named '{name}' (known: {', '.join(preset_names(project_dir))})")


def save_preset(name: str, values: dict, project_dir: str | Path) -> Path:
    """Write ``presets/NAME.yaml`` in the project."""
    from yolo_studio.core.atomic import write_text_atomic

    if not re.fullmatch(r"[\w .+-]+", name):
        raise ValueError(f"'{name}' cannot be a preset name: use letters, digits, spaces, '.', '+', '-' or '_'")
    path = Path(project_dir, "presets", f"{name}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, yaml.safe_dump(values, sort_keys=False))
    return path
