"""The layering contract: ``yolo_studio.core`` is pure (no Qt), and imports only point downwards."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "yolo_studio"
QT_PACKAGES = {"PySide6", "NodeGraphQt", "pyqtgraph", "pyside6_scintilla", "shiboken6", "Qt", "lexilla"}
# Which studio packages each layer may import (app -> ui -> workers -> deploy -> training -> core).
ALLOWED = {
    "core": {"core"},
    "training": {"core", "training"},
    "deploy": {"core", "training", "deploy"},
    "hydra": {"core", "training", "deploy", "hydra"},
    "workers": {"core", "training", "deploy", "hydra", "workers"},
    "ui": {"core", "training", "deploy", "hydra", "workers", "ui"},
}


def _imports(path: Path) -> list:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):  # nested (lazy) imports count too
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_training_and_deploy_never_import_qt():
    offenders = [f"{p.relative_to(PACKAGE)}: {name}" for layer in ("core", "training", "deploy", "hydra")
                 for p in (PACKAGE / layer).rglob("*.py") for name in _imports(p) if name.split(".")[0] in QT_PACKAGES]
    assert offenders == []


def test_layers_only_import_downwards():
    offenders = []
    for layer, allowed in ALLOWED.items():
        for path in (PACKAGE / layer).rglob("*.py") if (PACKAGE / layer).is_dir() else []:
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "yolo_studio" and len(parts) > 1 and parts[1] not in allowed | {"__init__"}:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_the_contract_test_catches_a_qt_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from PySide6 import QtCore\n")
    assert any(n.split(".")[0] in QT_PACKAGES for n in _imports(bad))


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
