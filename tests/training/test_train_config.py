"""The training arguments: read from Ultralytics' default.yaml, resolved and checked as Ultralytics would."""

import pytest
import yaml
from ultralytics.cfg import DEFAULT_CFG_DICT, check_cfg

from yolo_studio.training import train_config as tc


def test_every_train_argument_of_the_installed_ultralytics_is_read_with_its_help():
    args = tc.train_args()
    for key in ("epochs", "imgsz", "batch", "lr0", "mosaic", "box", "device", "val", "iou", "save_period"):
        assert key in args and args[key].default == DEFAULT_CFG_DICT[key] and args[key].help
    assert "source" not in args and "format" not in args  # predict and export settings are not train arguments
    assert args["lr0"].group == "Optimizer & LR" and args["lr0"].kind == "fraction"
    assert args["epochs"].kind == "int" and args["val"].kind == "bool" and args["optimizer"].kind == "choice"
    assert args["batch"].kind == "text"  # int or float: typed as YAML
    assert "number of epochs" in args["epochs"].help


def test_user_mode_is_the_safe_subset_and_developer_mode_shows_everything():
    user = {a.name for group in tc.form_args(False).values() for a in group}
    assert user == set(tc.USER_KEYS)
    developer = {a.name for group in tc.form_args(True).values() for a in group}
    assert developer == set(tc.train_args()) - tc.STUDIO_KEYS
    assert list(tc.form_args(True)) == [g for g in tc.GROUPS if g in tc.form_args(True)]


CASES = [
    {"epochs": 3}, {"epochs": 3.5}, {"epochs": 0}, {"lr0": 0.02}, {"lr0": 2.0}, {"lr0": "fast"},
    {"batch": 8}, {"batch": 0.7}, {"batch": "eight"}, {"val": False}, {"val": "yes"}, {"mosaic": 1.5},
    {"box": 7}, {"box": None}, {"optimizer": "AdamW"}, {"imgsz": 320}, {"amp": "bf16"}, {"amp": "maybe"},
    {"patience": -1}, {"cos_lr": True}, {"warmup_epochs": 0.5}, {"hsv_h": -0.1},
]


@pytest.mark.parametrize("overrides", CASES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_values_are_refused_exactly_when_ultralytics_check_cfg_refuses_them(overrides):
    try:
        check_cfg(dict(overrides))
        ultralytics_ok = True
    except (TypeError, ValueError):
        ultralytics_ok = False
    resolved = tc.resolve(overrides)
    assert resolved.ok == ultralytics_ok
    if not resolved.ok:
        key = next(iter(overrides))
        assert resolved.problems[0][0] == key and f"'{key}" in resolved.problems[0][1]


def test_unknown_keys_are_named_with_a_suggestion():
    resolved = tc.resolve({"epcohs": 3, "lr": 0.1})
    messages = dict(resolved.problems)
    assert "Did you mean 'epochs'" in messages["epcohs"]
    assert "'lr' is not a valid YOLO training argument" in messages["lr"]


def test_defaults_then_preset_then_overrides():
    resolved = tc.resolve({"epochs": 5}, {"epochs": 2, "imgsz": 64})
    assert resolved.config["epochs"] == 5 and resolved.config["imgsz"] == 64
    assert resolved.config["lr0"] == DEFAULT_CFG_DICT["lr0"]
    assert resolved.overrides == {"epochs": 5, "imgsz": 64}


def test_the_command_line_is_a_real_yolo_command():
    resolved = tc.resolve({"epochs": 3, "device": "0,1", "freeze": [0, 1]})
    line = tc.cli_command("detect", resolved, "m.yaml", "d.yaml")
    assert line == "yolo detect train model=m.yaml data=d.yaml epochs=3 device=0,1 freeze=[0,1]"
    from ultralytics.cfg import smart_value

    parsed = {k: smart_value(v) for k, v in (pair.split("=", 1) for pair in line.split()[3:])}
    assert parsed["epochs"] == 3 and parsed["freeze"] == [0, 1]


def test_key_value_parsing_matches_the_cli():
    assert tc.parse_overrides(["epochs=3", "lr0=1e-3", "val=False", "device=0,1", "name=my run", "conf=None"]) == {
        "epochs": 3, "lr0": 0.001, "val": False, "device": "0,1", "name": "my run", "conf": None}
    with pytest.raises(ValueError, match="not key=value"):
        tc.parse_overrides(["epochs"])


def test_presets_builtin_and_per_project(tmp_path):
    assert "CPU smoke test" in tc.preset_names(None)
    assert tc.resolve(tc.load_preset("CPU smoke test")).ok
    for name in tc.BUILTIN_PRESETS:
        assert tc.resolve(tc.load_preset(name)).ok, name
    path = tc.save_preset("fast lr", {"lr0": 0.02, "epochs": 3}, tmp_path)
    assert yaml.safe_load(path.read_text()) == {"lr0": 0.02, "epochs": 3}
    assert "fast lr" in tc.preset_names(tmp_path) and tc.load_preset("fast lr", tmp_path)["lr0"] == 0.02
    (tmp_path / "presets" / "broken.yaml").write_text("- just a list\n")
    with pytest.raises(ValueError, match="a preset is a mapping"):
        tc.load_preset("broken", tmp_path)
    with pytest.raises(ValueError, match="cannot be a preset name"):
        tc.save_preset("../escape", {}, tmp_path)
