"""The layering contracts in pyproject.toml ([tool.importlinter]), checked by import-linter: the
layers import only downwards (ui -> workers -> hydra -> deploy -> training -> core), and nothing below
the workers imports Qt. Imports inside functions count."""

import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "yolo_studio"
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, env_path: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})


def test_the_layers_and_the_qt_boundary_hold():
    done = _lint(PACKAGE.parent, str(PACKAGE.parent))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_the_contracts_catch_a_lazy_qt_import_below_the_workers(tmp_path):
    """The same contracts on a copy of the layout with one offence: a Qt import inside a core function."""
    for layer in ("ui", "workers", "hydra", "deploy", "training", "core"):
        (tmp_path / "yolo_studio" / layer).mkdir(parents=True)
        (tmp_path / "yolo_studio" / layer / "__init__.py").write_text("")
    (tmp_path / "yolo_studio" / "__init__.py").write_text("")
    (tmp_path / "yolo_studio" / "core" / "bad.py").write_text("def f():\n    from PySide6 import QtCore\n")
    config = (PACKAGE.parent / "pyproject.toml").read_text().split("[tool.importlinter]", 1)[1]
    (tmp_path / "pyproject.toml").write_text("[tool.importlinter]" + config)
    done = _lint(tmp_path, str(tmp_path))
    assert done.returncode == 1 and "BROKEN" in done.stdout and "yolo_studio.core.bad -> PySide6" in done.stdout, \
        done.stdout[-2000:]


def test_no_source_file_is_hidden_by_an_ignore_rule():
    """An over-broad .gitignore line (``runs/`` once hid ``yolo_studio/ui/runs``) ships a package without a module."""
    import shutil
    import subprocess

    root = PACKAGE.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        import pytest
        pytest.skip("not a git checkout")
    sources = [str(p.relative_to(root)) for p in PACKAGE.rglob("*") if p.suffix in {".py", ".yaml", ".svg", ".png"}
               and "__pycache__" not in p.parts]
    result = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=root, input="\n".join(sources),
                            capture_output=True, text=True)
    assert result.stdout.split() == []
