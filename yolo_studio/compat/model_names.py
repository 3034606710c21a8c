"""Ultralytics' model names: ``yolo11n.yaml``, ``yolov8s-seg.yaml``, ``yolo11n-obb.yaml`` name a YAML shipped in
``ultralytics/cfg/models`` at a scale, and ``yolo train model=yolo11n.yaml`` accepts them without a file.

The studio resolves them as ``ultralytics.nn.tasks.yaml_model_load`` does: the P6 spelling of v5/v8
(``yolov8n6`` -> ``yolov8n-p6``), then the name, then the name without its scale letter
(``yolo11n-seg`` -> ``yolo11-seg``), searched through Ultralytics' own ``check_yaml`` (a search of its
package folder; a bare name never downloads). ``probe.py`` checks that Ultralytics still loads the same
file for a few names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

P6 = re.compile(r"(\d+)([nslmx])6(.+)?$")
SCALE_LETTER = re.compile(r"(\d+)([nslmx])(.+)?$")


@dataclass(frozen=True)
class ShippedModel:
    name: str  # as the user wrote it
    file: Path  # the YAML in Ultralytics' package
    scale: str | None  # the scale the name picks

    def describe(self) -> str:
        where = self.file.as_posix()
        where = where[where.find("cfg/models/"):] if "cfg/models/" in where else where
        return f"{self.name} is Ultralytics' {where}" + (f" at scale {self.scale}" if self.scale else "")


def find_shipped(name: str | Path) -> ShippedModel | None:
    """The shipped YAML a bare model name means to Ultralytics, or None (a path, or an unknown name)."""
    text = str(name)
    if not text or "/" in text or "\\" in text or Path(text).suffix.lower() not in (".yaml", ".yml"):
        return None
    from ultralytics.nn.tasks import guess_model_scale
    from ultralytics.utils.checks import check_yaml

    path = Path(text)
    if path.stem in {f"yolov{d}{x}6" for x in "nsmlx" for d in (5, 8)}:
        path = path.with_name(P6.sub(r"\1\2-p6\3", path.stem) + path.suffix)
    unified = SCALE_LETTER.sub(r"\1\3", path.stem) + path.suffix
    try:
        found = check_yaml(str(path), hard=False) or check_yaml(unified, hard=False)
    except (FileNotFoundError, ValueError):
        return None
    if not found:
        return None
    return ShippedModel(text, Path(found), guess_model_scale(path) or None)
