"""The layering contracts in pyproject.toml ([tool.importlinter]), checked by import-linter: the
layers import only downwards (cli -> ui -> workers -> hydra -> deploy -> training -> core -> compat),
core's domains only as drawn (blocks and project above model and data), and nothing below the workers
imports Qt. Imports inside functions count."""

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "yolo_studio"
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, env_path: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})


def test_the_layers_and_the_qt_boundary_hold():
    done = _lint(PACKAGE.parent, str(PACKAGE.parent))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


def _empty_layout(root: Path) -> None:
    """The package's folders with empty ``__init__.py`` files, and the same contracts."""
    for folder in ("cli", "ui", "workers", "hydra", "deploy", "training", "core", "compat",
                   "core/model", "core/blocks", "core/data", "core/project", "core/evaluation"):
        (root / "yolo_studio" / folder).mkdir(parents=True)
        (root / "yolo_studio" / folder / "__init__.py").write_text("")
    (root / "yolo_studio" / "__init__.py").write_text("")
    config = (PACKAGE.parent / "pyproject.toml").read_text().split("[tool.importlinter]", 1)[1]
    (root / "pyproject.toml").write_text("[tool.importlinter]" + config)


def test_the_contracts_catch_a_lazy_qt_import_below_the_workers(tmp_path):
    """The same contracts on a copy of the layout with one offence: a Qt import inside a core function."""
    _empty_layout(tmp_path)
    (tmp_path / "yolo_studio" / "core" / "bad.py").write_text("def f():\n    from PySide6 import QtCore\n")
    done = _lint(tmp_path, str(tmp_path))
    assert done.returncode == 1 and "BROKEN" in done.stdout and "yolo_studio.core.bad -> PySide6" in done.stdout, \
        done.stdout[-2000:]


def test_the_contracts_catch_the_model_importing_custom_blocks_and_compat_importing_the_studio(tmp_path):
    _empty_layout(tmp_path)
    (tmp_path / "yolo_studio" / "core" / "blocks" / "files.py").write_text("")
    (tmp_path / "yolo_studio" / "core" / "model" / "bad.py").write_text(
        "def f():\n    from yolo_studio.core.blocks import files\n")
    (tmp_path / "yolo_studio" / "compat" / "hook.py").write_text("from yolo_studio.core import errors\n")
    (tmp_path / "yolo_studio" / "core" / "errors.py").write_text("")
    done = _lint(tmp_path, str(tmp_path))
    assert done.returncode == 1 and "1 kept, 2 broken" in done.stdout, done.stdout[-2000:]
    assert "yolo_studio.core.model.bad -> yolo_studio.core.blocks.files" in done.stdout
    assert "yolo_studio.compat.hook -> yolo_studio.core.errors" in done.stdout


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
