"""Label Studio's JSON export: a list of tasks, each with its image (``data``) and the annotations of one or
more annotators (``annotations[].result``), coordinates in percent of the image.

Several annotators: one annotation per task is used. By default the latest that was not cancelled; the user
can name an annotator (``completed_by``) and that annotator's annotation is used where there is one.
Rectangles (rotated ones become four corners) and polygons are trained; brushes, keypoints and choices are
reported. Also reads the "JSON-MIN" export (one flat record per task). Classes in alphabetical order.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import unquote

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES

from yolo_studio.core.data.exports.images import ImageFinder
from yolo_studio.core.data.exports.model import Export, Item, Obj, outline_task, reading

SHAPES = {"rectanglelabels", "polygonlabels"}


def is_label_studio(content) -> bool:
    if not isinstance(content, list) or not content or not isinstance(content[0], dict):
        return False
    first = content[0]
    return ("annotations" in first and "data" in first) or ("annotation_id" in first and "annotator" in first)


def annotators(content: list) -> list:
    """Who annotated, as ``completed_by`` says (an id, or an e-mail in older exports), most annotations first."""
    counts: dict = {}
    for task in content:
        for ann in task.get("annotations") or []:
            who = _who(ann.get("completed_by"))
            counts[who] = counts.get(who, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def _who(value) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or value.get("id"))
    return str(value)


def read(json_file: Path, content: list, annotator: str | None = None, task: str | None = None) -> Export:
    export = Export("label_studio", "detect", json_file.parent, annotation_files=[json_file])
    who = annotators(content)
    if len(who) > 1:
        export.choices["annotator"] = who
        export.notes.append(f"{len(who)} annotators ({', '.join(who[:5])}): using "
                            + (f"{annotator}'s annotations where they exist, else " if annotator else "")
                            + "the latest annotation of each task that was not cancelled")
    finder = ImageFinder(json_file.parent)
    names = set()
    unannotated = 0
    for n, record in enumerate(content):
        with reading(json_file, f"task {record.get('id', n) if isinstance(record, dict) else n}"):
            if "annotation_id" in record:  # JSON-MIN
                written, results = str(record.get("image", "")), [_min_result(r) for r in _min_labels(record)]
            else:
                chosen = _choose(record.get("annotations") or [], annotator)
                if chosen is None:  # nothing but cancelled or skipped annotations: not a background image
                    unannotated += 1
                    continue
                results = chosen.get("result") or []
                written = _image_of(record.get("data") or {}, results)
            written = unquote(written.split("?d=")[-1])
            item = Item(written, finder.find(written, json_file.parent))
            for r in results:
                _read_result(export, item, r, f"{json_file.name}: task {record.get('id', n)}", names)
        export.items.append(item)
    if unannotated:
        export.notes.append(f"{unannotated} tasks have no annotation that was not cancelled: left out")
    export.classes = sorted(names)
    export.task = outline_task(export, task)
    return export


def _image_of(data: dict, results: list) -> str:
    """The task's image: the data field the results were drawn on (``to_name``), else a value that looks like
    an image path, else the first."""
    drawn_on = next((r.get("to_name") for r in results if r.get("to_name") in data), None)
    if drawn_on:
        return str(data[drawn_on])
    values = [str(v) for v in data.values()]
    return next((v for v in values if Path(v.split("?")[0]).suffix.lower() in IMAGE_SUFFIXES or "?d=" in v
                 or v.startswith("/data/")), values[0] if values else "")


def _read_result(export: Export, item: Item, r: dict, where: str, names: set) -> None:
    kind, value = r.get("type"), r.get("value") or {}
    labels = value.get(kind) or []
    where = f"{where} {kind} {labels}"
    if kind not in SHAPES or not labels:
        export.skip("unknown_shape", where)
        return
    w, h = r.get("original_width") or 0, r.get("original_height") or 0
    item.width, item.height = item.width or int(w), item.height or int(h)
    obj = _object(kind, value, str(labels[0]), w, h)
    if obj is None:
        export.skip("degenerate" if w and h else "no_size", where)
        return
    item.objects.append(obj)
    names.add(obj.label)


def _choose(annotations: list, annotator: str | None) -> dict | None:
    kept = [a for a in annotations if not a.get("was_cancelled")]
    if annotator:
        mine = [a for a in kept if _who(a.get("completed_by")) == annotator]
        kept = mine or kept
    return max(kept, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0),
               default=None)


def _min_labels(record: dict) -> list:
    """JSON-MIN names a task's regions after the labeling config's control (``label``, ``bbox``, ...): the
    field holding a list of regions."""
    for value in record.values():
        if isinstance(value, list) and value and isinstance(value[0], dict) and \
                ("width" in value[0] or "points" in value[0]):
            return value
    return []


def _min_result(label: dict) -> dict:
    kind = "polygonlabels" if "points" in label else "rectanglelabels"
    return {"type": kind, "value": {**label, kind: label.get(kind) or label.get("labels") or []},
            "original_width": label.get("original_width"), "original_height": label.get("original_height")}


def _object(kind: str, value: dict, label: str, width: float, height: float) -> Obj | None:
    if not width or not height:
        return None
    if kind == "polygonlabels":
        points = [float(v) * s / 100 for p in value.get("points") or [] for v, s in zip(p[:2], (width, height))]
        return Obj(label, "polygon", points) if len(points) >= 6 else None
    x, y = value.get("x", 0) * width / 100, value.get("y", 0) * height / 100
    w, h = value.get("width", 0) * width / 100, value.get("height", 0) * height / 100
    if w <= 0 or h <= 0:
        return None
    angle = math.radians(value.get("rotation") or 0)
    if not angle:
        return Obj(label, "box", [x, y, x + w, y + h])
    c, s = math.cos(angle), math.sin(angle)  # Label Studio turns the box about its top-left corner
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    return Obj(label, "corners", [v for dx, dy in corners for v in (x + dx * c - dy * s, y + dx * s + dy * c)])
