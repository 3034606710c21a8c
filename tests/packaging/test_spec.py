"""The bundle spec collects what PyInstaller's hooks miss, and the launcher runs the studio's
helper processes (`-m MODULE`, `-c CODE`) as a bundle must. The bundle itself is built by
`make bundle`, not here (it is large)."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "yolo-studio.spec"


def _collected(function: str) -> set:
    tree = ast.parse(SPEC.read_text())
    return {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == function and node.args and isinstance(node.args[0], ast.Constant)}


def _package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).origin).parent


def test_the_spec_collects_the_data_and_libraries_the_hooks_miss():
    assert {"NodeGraphQt", "ultralytics", "pyside6_scintilla", "lexilla"} <= _collected("collect_data_files")
    assert {"pyside6_scintilla", "lexilla"} <= _collected("collect_dynamic_libs")
    assert 'TORCHVISION.glob("*.so")' in SPEC.read_text()
    assert "yolo_studio" in _collected("collect_submodules")
    assert '(str(ROOT / "resources"), "resources")' in SPEC.read_text()
    # ... and those packages do hold such files on this machine
    assert list((_package_dir("NodeGraphQt")).rglob("*.png")), "NodeGraphQt's icons"
    assert (_package_dir("ultralytics") / "cfg" / "default.yaml").is_file()
    libraries = [p for name in ("pyside6_scintilla", "lexilla") for p in _package_dir(name).parent.glob(f"{name}*/**/*")
                 if p.suffix in (".so", ".dll", ".dylib") or ".so." in p.name]
    assert libraries, "the Scintilla and lexilla shared libraries"
    assert list(_package_dir("torchvision").glob("_C*.so")) or list(_package_dir("torchvision").glob("_C*.pyd")), \
        "torchvision's operators (nms), loaded by path at import"
    for path in ("models/yolo11n-demo.yaml", "modules/attention.py", "icons/yolo-studio.png"):
        assert (ROOT / "resources" / path).is_file(), path


def test_the_launcher_runs_modules_code_and_the_studio_command():
    launcher = ROOT / "packaging" / "launcher.py"
    version = subprocess.run([sys.executable, launcher, "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("yolo-studio ")
    module = subprocess.run([sys.executable, launcher, "-m", "yolo_studio", "--version"], capture_output=True,
                            text=True, timeout=120)
    assert module.returncode == 0 and module.stdout.startswith("yolo-studio ")
    code = subprocess.run([sys.executable, launcher, "-c", "import sys; print(sys.argv[1:])", "a", "b"],
                          capture_output=True, text=True, timeout=60)
    assert code.returncode == 0 and code.stdout.strip() == "['a', 'b']"
