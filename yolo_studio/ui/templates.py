"""The model YAMLs shipped with Ultralytics, as File > New from template offers them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from yolo_studio.core.model.document import ModelDocument, task_of
from yolo_studio.core.errors import StudioError


def template_files() -> dict:
    """Model YAMLs shipped with Ultralytics, grouped by family folder: {"11": [paths], ...}."""
    spec = importlib.util.find_spec("ultralytics")
    root = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "models"
    groups: dict = {}
    for path in sorted(root.rglob("*.yaml")):
        groups.setdefault(path.parent.name, []).append(path)
    return dict(sorted(groups.items(), key=lambda item: _family_order(item[0])))


def _family_order(family: str) -> tuple:
    """v3, v5, v6, v8, v9, v10, 11, 12, ... in version order, then named families (rt-detr, ...)."""
    digits = family.lstrip("v")
    return (0, int(digits), family) if digits.isdigit() else (1, 0, family)


def template_task(path: Path) -> str:
    """The task of a template, from its output module's name (as Ultralytics guesses it)."""
    try:
        return task_of(ModelDocument.load(path))
    except StudioError:
        return "?"
