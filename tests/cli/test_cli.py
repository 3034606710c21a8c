"""The yolo-studio command, run as a user runs it (a subprocess), checking output and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent


def run(*args, cwd=None):
    code = "import sys, network_guard; network_guard.install(); from yolo_studio.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or TESTS)


def test_inspect_json_one_object_per_scale(resources):
    result = run("inspect", resources / "models" / "yolo11n-demo.yaml", "--scale", "all", "--imgsz", "64", "--json")
    assert result.returncode == 0, result.stderr
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["scale"] for o in objs] == ["n", "s"]
    n = objs[0]
    assert {"file", "scale", "task", "params", "gflops", "layers"} <= set(n)
    assert n["task"] == "detect" and n["params"] == sum(layer["params"] for layer in n["layers"])
    layer = n["layers"][12]
    assert {"index", "from", "repeats", "module", "args", "out_shape", "params"} <= set(layer)
    assert layer["from"] == [-1, 6] and layer["module"] == "Concat" and layer["out_shape"] == [384, 4, 4]
    assert objs[1]["params"] > n["params"]


def test_inspect_table_with_custom_blocks(resources):
    result = run("inspect", resources / "models" / "yolo11n-se.yaml", "--modules", resources / "modules",
                 "--imgsz", "64")
    assert result.returncode == 0, result.stderr
    assert "SEAttention" in result.stdout and "DownsampleConv" in result.stdout
    assert "25 layers" in result.stdout


def test_inspect_error_is_json_and_non_zero(data_dir):
    bad = data_dir / "malformed" / "unknown_module.yaml"
    result = run("inspect", bad, "--json")
    assert result.returncode == 1
    obj = json.loads(result.stdout)
    assert obj["file"] == str(bad) and obj["error"]["layer"] == 1
    assert "unknown module 'Convv'" in obj["error"]["message"]
    assert "Traceback" not in result.stderr


def test_inspect_build_error_names_the_layer(tmp_path, resources):
    text = (resources / "models" / "yolo11n-demo.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("[-1, 2, C2PSA, [1024]]", "[-1, 2, C2PSA, [512]]"))  # C2PSA needs c1 == c2
    result = run("inspect", bad, "--json", "--imgsz", "64")
    assert result.returncode == 1
    err = json.loads(result.stdout)["error"]
    assert err["layer"] == 10 and "C2PSA" in err["message"]


def test_check_reports_problems_with_file_and_line(data_dir):
    bad = data_dir / "malformed" / "forward_reference.yaml"
    result = run("check", bad)
    assert result.returncode == 1
    assert f"{bad}:4: error: layer 1 (backbone):" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in (TESTS / "data" / "malformed").glob("*.yaml")))
def test_no_traceback_for_any_malformed_file(data_dir, name):
    for command in ("check", "inspect"):
        result = run(command, data_dir / "malformed" / name)
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        assert "error" in result.stdout + result.stderr


def test_check_ok_and_json(resources):
    result = run("check", resources / "models" / "yolo11n-demo.yaml", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"file": str(resources / "models" / "yolo11n-demo.yaml"), "ok": True,
                                         "needs_build": [], "problems": []}


def test_check_does_not_say_ok_for_calls_only_a_build_can_confirm(resources):
    model = resources / "models" / "yolo11n-se.yaml"
    result = run("check", model, "--modules", resources / "modules")
    assert result.returncode == 0 and "OK" not in result.stdout
    assert "needs a build to confirm" in result.stdout and "yolo-studio inspect" in result.stdout


def test_fmt_rewrites_in_studio_format(tmp_path):
    messy = tmp_path / "m.yaml"
    messy.write_text("nc: 2\nbackbone: [[-1, 1, Conv, [16, 3, 2]]]\nhead:\n  - [[-1], 1, Detect, [nc]] # out\n")
    out = tmp_path / "out.yaml"
    result = run("fmt", messy, "-o", out)
    assert result.returncode == 0
    assert out.read_text() == "nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n  - [[-1], 1, Detect, [nc]] # out\n"


def test_missing_file_is_a_clear_error(tmp_path):
    result = run("check", tmp_path / "nope.yaml")
    assert result.returncode == 1 and "file not found" in result.stdout


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "yolo_studio", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "inspect" in result.stdout and "check" in result.stdout


def test_broken_block_file_is_reported_in_json(tmp_path, resources):
    (tmp_path / "bad.py").write_text("import torch.nn as nn\nraise RuntimeError('oops')\n")
    result = run("inspect", resources / "models" / "yolo11n-demo.yaml", "--modules", tmp_path, "--json")
    assert result.returncode == 1
    err = json.loads(result.stdout)["error"]
    assert "bad.py:2" in err["message"] and "oops" in err["message"]


def test_check_reports_a_broken_block_file_with_its_line(tmp_path, resources):
    (tmp_path / "bad.py").write_text("import torch.nn as nn\n\nclass A(nn.Module)\n    pass\n")
    result = run("check", resources / "models" / "yolo11n-demo.yaml", "--modules", tmp_path)
    assert result.returncode == 1
    assert "bad.py:3: syntax error" in result.stdout


def test_gui_without_a_display_says_what_to_do():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "import sys; from yolo_studio.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=TESTS)
    assert result.returncode == 1
    assert "no display found" in result.stderr and "xvfb-run" in result.stderr


def test_modules_check_cli(data_dir):
    ok = run("modules", "check", data_dir / "blocks" / "rules.py", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"]
    alone = run("modules", "check", data_dir / "bad_blocks" / "init_raises.py")
    assert alone.returncode == 0, "a class that fails alone is a warning: a model may never name it"
    assert "init_raises.py:7: Broken: warning: not built alone (__init__: ValueError: c1 must be even)" in alone.stdout
    bad = run("modules", "check", data_dir / "bad_blocks" / "syntax_error.py")
    assert bad.returncode == 1 and "syntax_error.py:3: error (syntax)" in bad.stdout
    onnx = run("modules", "check", data_dir / "bad_blocks" / "not_onnx.py", "--onnx")
    assert onnx.returncode == 0, "an ONNX failure is reported, the check still passes"
    assert "SpectralGate: onnx: fails: UnsupportedOperatorError" in onnx.stdout
    assert "Plain: onnx: ok" in onnx.stdout


def test_the_window_paints_before_torch_or_ultralytics_is_imported(tmp_path):
    from helpers import run_cli

    done = run_cli("gui", "--project", tmp_path / "p", env={"QT_QPA_PLATFORM": "offscreen",
                                                          "YOLO_STUDIO_STARTUP_PROBE": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "imported before it: none of torch, ultralytics, cv2" in done.stdout, done.stdout


def test_the_desktop_entry_installs_and_uninstalls(tmp_path, monkeypatch, capsys):
    import sys

    import pytest

    from yolo_studio.cli import main

    if not sys.platform.startswith("linux"):
        pytest.skip("a Linux desktop entry")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    entry = tmp_path / "applications" / "yolo-studio.desktop"
    text = entry.read_text()
    assert "Name=YOLO Studio" in text and "Icon=yolo-studio" in text and " gui" in text.split("Exec=")[1]
    assert (tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "yolo-studio.png").stat().st_size > 1000
    assert main(["install-desktop", "--uninstall"]) == 0
    assert not entry.exists() and "removed" in capsys.readouterr().out


def test_train_takes_key_value_arguments_after_its_options():
    import pytest

    from yolo_studio.cli import parse

    args = parse(["train", "--model", "m.yaml", "--data", "cls_folder", "epochs=1", "imgsz=32"])
    assert args.overrides == ["epochs=1", "imgsz=32"] and args.data == "cls_folder"
    assert parse(["train", "epochs=2", "--model", "m.yaml"]).overrides == ["epochs=2"]
    with pytest.raises(SystemExit):
        parse(["train", "--model", "m.yaml", "--bogus"])


def test_ultralytics_model_names_work_wherever_a_model_goes(tmp_path):
    """`yolo11n-seg.yaml` is cfg/models/11/yolo11-seg.yaml at scale n for Ultralytics; it was "file not found"."""
    import json

    from helpers import run_cli

    done = run_cli("inspect", "yolo11n-seg.yaml", "--imgsz", "64", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "yolo11n-seg.yaml is Ultralytics' cfg/models/11/yolo11-seg.yaml at scale n" in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    from ultralytics import YOLO

    expected = sum(p.numel() for p in YOLO("yolo11n-seg.yaml").model.parameters())
    assert any(line.get("params") == expected for line in lines), lines[-1]
    checked = run_cli("check", "yolov8s.yaml", "yolo11n-obb.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unknown = run_cli("check", "yolo99z.yaml")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr


def test_a_model_named_as_ultralytics_names_it_is_not_offered_an_edit_that_would_not_last(tmp_path, tiny_dataset):
    """Its YAML is the studio's copy of Ultralytics' file, written again at each use: 'Set nc' on it was lost."""
    from yolo_studio.core.model.model_names import model_file
    from yolo_studio.training.headless import plan_and_check

    _plan, _resolved, result = plan_and_check("yolo11n.yaml", tiny_dataset, tmp_path, "named", {"imgsz": 64})
    nc = next(c for c in result.checks if "nc=80" in c.message)
    assert not nc.fixes and "as plain yolo does" in nc.message
    assert model_file("yolo11n.yaml")[0].read_text().count("nc: 80") == 1  # the copy is Ultralytics' file
