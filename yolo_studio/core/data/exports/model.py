"""What an annotation export holds, read into plain data before anything is written.

Every reader (COCO, VOC, CVAT, ...) gives an :class:`Export`: its images, each with its objects in pixel
coordinates and its class *names*, the split the export itself has (if any), and what was skipped and why.
Class ids are decided later (the user may rename, merge and drop classes in the preview).
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = {
    "coco": "COCO JSON", "voc": "Pascal VOC XML", "cvat": "CVAT for images 1.1 XML", "labelme": "LabelMe JSON",
    "label_studio": "Label Studio JSON", "darknet": "YOLO Darknet (obj.data)",
    "yolo_folder": "images + YOLO labels + classes.txt", "dota": "DOTA text (rotated boxes)",
    "class_folders": "class folders (classification)",
}


class NotAnExport(ValueError):
    """What the user picked is not an export the studio reads, or a file of one is damaged; the message says
    which file and what it looks like."""


@contextmanager
def reading(path, where: str = ""):
    """Turn a missing field or a value of the wrong type met while reading ``path`` into a message naming the
    file (and ``where`` in it), instead of a traceback."""
    try:
        yield
    except NotAnExport:
        raise
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        detail = f"the field {exc} is missing" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        raise NotAnExport(f"{path}{': ' + where if where else ''}: cannot be read ({detail}); export it again "
                          "from the tool, or report the file") from None

SKIP_REASONS = {
    "crowd": "crowd annotations (iscrowd): a region of many objects, not one",
    "difficult": "objects marked difficult",
    "empty_keypoints": "keypoint annotations without any labelled keypoint",
    "unknown_shape": "shapes YOLO does not train on (polylines, points, tags, ...)",
    "ignore_label": "regions labelled to be ignored (__ignore__, _background_)",
    "missing_image": "objects on images the annotations list but that are not on disk",
    "degenerate": "shapes without area (zero width or height, fewer than 3 points)",
    "unknown_class": "labels whose class is not in the class list",
    "no_keypoints": "objects of a class without keypoints, in a pose export",
    "no_size": "images whose size is neither in the annotations nor readable from the file",
}


@dataclass
class Obj:
    """One object. ``kind``: ``box`` (points = x1 y1 x2 y2), ``polygon`` (x y x y ...), ``corners`` (a rotated
    box: 4 points), ``keypoints`` (a box plus ``keypoints`` = x y v per point) or ``class`` (an image's class,
    no points). Pixel coordinates."""
    label: str
    kind: str
    points: list
    keypoints: list | None = None

    def box(self) -> tuple:
        """x1, y1, x2, y2 around the object."""
        if self.kind in ("box", "keypoints"):
            return tuple(self.points[:4])
        xs, ys = self.points[0::2], self.points[1::2]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class Item:
    """One image of the export: where it is on disk (None when absent), its size and its objects."""
    name: str  # as the export names it
    image: Path | None
    width: int = 0
    height: int = 0
    objects: list = field(default_factory=list)
    split: str = ""  # the export's own split (train / val / test), "" when it has none
    image_bytes: bytes | None = None  # an image only embedded in the annotation (LabelMe's imageData)


@dataclass
class Export:
    format: str  # coco, voc, cvat, labelme, label_studio, darknet, yolo_folder, dota, class_folders
    task: str  # detect, segment, pose, obb, classify
    source: Path
    items: list = field(default_factory=list)
    classes: list = field(default_factory=list)  # names in the export's own order
    kpt_shape: list | None = None
    keypoint_names: list | None = None  # pose: the name of each keypoint, where the export gives them
    skipped: Counter = field(default_factory=Counter)
    skip_examples: dict = field(default_factory=dict)  # reason -> a few "where: what" lines
    notes: list = field(default_factory=list)  # what the user should know (choices made, quirks met)
    choices: dict = field(default_factory=dict)  # choices the export offers, e.g. {"annotator": [...]}
    untrained: set = field(default_factory=set)  # classes only shapes YOLO does not train on use (tags, lines)
    annotation_files: list = field(default_factory=list)  # what identifies the export (re-import)

    def skip(self, reason: str, where: str, n: int = 1) -> None:
        self.skipped[reason] += n
        examples = self.skip_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(where)

    def leave_out_untrained(self) -> None:
        """Note the classes that only untrained shapes use: the plan drops them unless the user keeps them."""
        used = {o.label for item in self.items for o in item.objects}
        self.untrained -= used
        if self.untrained:
            self.notes.append(f"{', '.join(sorted(self.untrained))}: no object YOLO trains on (only tags, lines or "
                              "points; or no keypoints in a pose export): dropped unless you keep them")

    def add_class(self, name: str) -> None:
        if name not in self.classes:
            self.classes.append(name)

    @property
    def splits(self) -> list:
        """The export's own splits, when it has two or more (one list of everything is no split)."""
        found = sorted({i.split for i in self.items if i.split and i.image is not None},
                       key=lambda s: ("train", "val", "test").index(s) if s in ("train", "val", "test") else 9)
        return found if len(found) > 1 else []


SPLIT_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "test": "test", "testing": "test"}


def split_name(text: str) -> str:
    """The split a file or folder name says, by whole words (``instances_train2017`` -> train,
    ``valid`` -> val; ``latest`` or ``restrain`` say nothing): train, val, test or ""."""
    for word in re.split(r"[^a-z]+", text.lower()):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return ""


def outline_task(export: Export, asked: str | None) -> str:
    """The task of an export of boxes, outlines and rotated boxes: what the user asked (detect or segment),
    else obb when every object is a rotated box, segment when there are outlines, detect for boxes alone."""
    kinds = {o.kind for item in export.items for o in item.objects}
    if asked in ("detect", "segment"):
        return asked
    if kinds == {"corners"}:
        return "obb"
    return "segment" if kinds & {"polygon", "corners"} else "detect"


def join_parts(parts: list) -> list:
    """One outline (x y x y ...) for an object drawn in several polygons (a car cut by a pole), as YOLO keeps
    one outline per object: each next part is joined to the outline so far by a zero-width bridge between
    their two closest points, so the outline goes round every part."""
    outline = [(parts[0][i], parts[0][i + 1]) for i in range(0, len(parts[0]) - 1, 2)]
    for part in parts[1:]:
        points = [(part[i], part[i + 1]) for i in range(0, len(part) - 1, 2)]
        _d, i, j = min(((ax - bx) ** 2 + (ay - by) ** 2, i, j) for i, (ax, ay) in enumerate(outline)
                       for j, (bx, by) in enumerate(points))
        outline = outline[:i + 1] + points[j:] + points[:j + 1] + outline[i:]
    return [v for point in outline for v in point]

