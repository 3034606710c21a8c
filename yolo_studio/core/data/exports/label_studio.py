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

from yolo_studio.core.data.exports.images import ImageFinder
from yolo_studio.core.data.exports.model import Export, Item, Obj

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
    for n, record in enumerate(content):
        if "annotation_id" in record:  # JSON-MIN
            written, results = str(record.get("image", "")), [_min_result(r) for r in record.get("label") or []]
        else:
            written = str(next(iter((record.get("data") or {}).values()), ""))
            chosen = _choose(record.get("annotations") or [], annotator)
            results = chosen.get("result") or [] if chosen else []
        written = written.split("?d=")[-1]
        image = finder.find(written, json_file.parent)
        item = Item(written, image)
        for r in results:
            kind, value = r.get("type"), r.get("value") or {}
            labels = value.get(kind) or []
            where = f"{json_file.name}: task {record.get('id', n)} {kind} {labels}"
            if kind not in SHAPES or not labels:
                export.skip("unknown_shape", where)
                continue
            w, h = r.get("original_width") or 0, r.get("original_height") or 0
            item.width, item.height = item.width or int(w), item.height or int(h)
            obj = _object(kind, value, str(labels[0]), w, h)
            if obj is None:
                export.skip("degenerate" if w and h else "no_size", where)
                continue
            item.objects.append(obj)
            names.add(obj.label)
        export.items.append(item)
    export.classes = sorted(names)
    kinds = {o.kind for item in export.items for o in item.objects}
    export.task = task if task in ("detect", "segment") else "segment" if kinds & {"polygon", "corners"} else "detect"
    return export


def _choose(annotations: list, annotator: str | None) -> dict | None:
    kept = [a for a in annotations if not a.get("was_cancelled")]
    if annotator:
        mine = [a for a in kept if _who(a.get("completed_by")) == annotator]
        kept = mine or kept
    return max(kept, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0),
               default=None)


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
