"""A model argument as the user gave it: a file, or one of Ultralytics' model names (``yolo11n-seg.yaml``).

A name is resolved as Ultralytics resolves it (``compat/model_names.py``) and its YAML is copied, under the
name the user gave, into the studio's cache: every part of the studio that reads a scale from a file name
(inspection, training, bundles) then builds what ``yolo train model=yolo11n-seg.yaml`` builds.
"""

from __future__ import annotations

from pathlib import Path

from yolo_studio.compat.model_names import find_shipped
from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.home import studio_cache_dir


def _copies() -> Path:
    return studio_cache_dir() / "ultralytics-models"


def is_shipped_copy(path: str | Path) -> bool:
    """Whether ``path`` is the studio's copy of an Ultralytics YAML (written again from Ultralytics' file each
    time the name is used: an edit of it would not last, so nothing offers one)."""
    return Path(path).resolve().is_relative_to(_copies().resolve())


def model_file(value: str | Path) -> tuple:
    """(path to use, note or None): ``value`` itself when it is a file (or unknown), else the named copy of
    the Ultralytics YAML it names, and a note saying which file and scale that is."""
    if value is None or Path(value).exists():
        return value, None
    shipped = find_shipped(value)
    if shipped is None:
        return value, None
    import ultralytics

    copy = _copies() / ultralytics.__version__ / shipped.name
    text = shipped.file.read_text(encoding="utf-8")
    if not copy.is_file() or copy.read_text(encoding="utf-8") != text:
        write_text_atomic(copy, text)
    return copy, shipped.describe()


def is_model_name(text: str) -> bool:
    """Whether ``text`` is a name Ultralytics resolves itself (``yolo11n-cls.yaml``) rather than a file."""
    return bool(text) and "/" not in text and "\\" not in text and model_file(text)[1] is not None
