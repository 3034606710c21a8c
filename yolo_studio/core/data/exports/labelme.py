"""LabelMe JSON: one file per image (``shapes``, ``imagePath``, ``imageData``), usually beside the image.

Shapes of one ``group_id`` and label are one object (LabelMe's way of drawing an object in several parts).
Rectangles, polygons and masks (a PNG in the shape, outlined) are trained; lines, points and circles are
reported; ``__ignore__`` and
``_background_`` are regions to ignore. An image only embedded in the JSON (``imageData``) is written out.
Classes: the order of a ``labels.txt`` beside the files when there is one, else alphabetical.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from yolo_studio.core.data.exports.images import ImageFinder
from yolo_studio.core.data.exports.model import Export, Item, Obj, join_parts, outline_task, reading

IGNORED = ("__ignore__", "_background_")


def is_labelme(content) -> bool:
    return isinstance(content, dict) and isinstance(content.get("shapes"), list) and "imagePath" in content


def read(folder: Path, files: list, task: str | None = None) -> Export:
    export = Export("labelme", "detect", folder, annotation_files=list(files))
    finder = ImageFinder(folder)
    names = set()
    for path in files:
        path = Path(path)
        with reading(path):
            data = json.loads(path.read_text(encoding="utf-8"))
            _read_file(export, path, data, finder, names)
    labels_txt = folder / "labels.txt"
    listed = [n.strip() for n in labels_txt.read_text(encoding="utf-8").splitlines()] \
        if labels_txt.is_file() else []
    export.classes = [n for n in listed if n and n not in IGNORED] + sorted(names - set(listed))
    export.task = outline_task(export, task)
    return export


def _read_file(export: Export, path: Path, data: dict, finder: ImageFinder, names: set) -> None:
    """One LabelMe file: its image and its shapes (``names`` gathers the labels trained)."""
    written = str(data.get("imagePath") or path.stem + ".jpg")
    image = finder.find(written, path.parent)
    item = Item(written, image, int(data.get("imageWidth") or 0), int(data.get("imageHeight") or 0))
    if image is None and data.get("imageData"):
        item.image_bytes = base64.b64decode(data["imageData"])
        item.name = Path(written.replace("\\", "/")).name
    groups: dict = {}
    for n, shape in enumerate(data["shapes"]):
        label = str(shape.get("label", "")).strip()
        kind = shape.get("shape_type") or "polygon"
        where = f"{path.name}: shape {n} '{label}' ({kind})"
        if label in IGNORED:
            export.skip("ignore_label", where)
            continue
        points = [float(v) for p in shape.get("points") or [] for v in p[:2]]
        if kind == "rectangle" and len(points) == 4:
            x1, x2 = sorted(points[0::2])
            y1, y2 = sorted(points[1::2])
            obj = Obj(label, "box", [x1, y1, x2, y2]) if x2 > x1 and y2 > y1 else None
        elif kind == "polygon":
            obj = Obj(label, "polygon", points) if len(points) >= 6 else None
        elif kind == "mask" and shape.get("mask") and len(points) == 4:
            outline = mask_polygon(shape["mask"], points[0], points[1])
            obj = Obj(label, "polygon", outline) if len(outline) >= 6 else None
        else:
            export.skip("unknown_shape", where)
            continue
        if obj is None:
            export.skip("degenerate", where)
            continue
        group = shape.get("group_id")
        if group is None:
            item.objects.append(obj)
        else:
            groups.setdefault((label, group), []).append(obj)
        names.add(label)
    for (label, _group), parts in groups.items():
        item.objects.append(_joined(label, parts))
    export.items.append(item)


def mask_polygon(encoded: str, left: float, top: float) -> list:
    """The outline of a LabelMe mask (a base64 PNG placed at its box's top-left corner), in image pixels."""
    import io

    import cv2
    import numpy as np
    from PIL import Image

    mask = (np.array(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("L")) > 0).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    largest = max(contours, key=cv2.contourArea).reshape(-1, 2)
    return [float(v) for x, y in largest for v in (x + left, y + top)]


def _joined(label: str, parts: list) -> Obj:
    """One object from its parts: their polygons joined into one outline (YOLO has one per object), or the
    box around all."""
    polygons = [p for p in parts if p.kind == "polygon"]
    if polygons:
        return Obj(label, "polygon", join_parts([p.points for p in polygons]))
    boxes = [p.box() for p in parts]
    return Obj(label, "box", [min(b[0] for b in boxes), min(b[1] for b in boxes),
                              max(b[2] for b in boxes), max(b[3] for b in boxes)])
