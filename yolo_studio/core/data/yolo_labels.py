"""YOLO label lines: what each task's line looks like, and what is wrong with one that is not.

One ``.txt`` per image, one object per line, coordinates normalised to 0..1:

- detect: ``class x y w h``
- segment: ``class x1 y1 x2 y2 x3 y3 ...`` (a polygon of 3 or more points; a box line is accepted too)
- pose: ``class x y w h`` then ``kpt_shape[0]`` keypoints of ``kpt_shape[1]`` values (x y [visible])
- obb: ``class x1 y1 x2 y2 x3 y3 x4 y4`` (the four corners)

``check_line`` returns ``(kind, message)`` for the first problem of a line, or None. Kinds:
``malformed`` (not numbers, wrong count), ``class`` (id out of range), ``outside`` (coordinates
outside the image), ``zero_size`` (a box or polygon without area).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TASKS = ("detect", "segment", "pose", "obb", "classify")
EPS = 1e-6


@dataclass
class LabelObject:
    cls: int
    box: tuple  # (x_center, y_center, w, h) normalised: the polygon's or corners' bounding box for others
    points: list | None = None  # polygon / obb corners [(x, y), ...]
    keypoints: list | None = None  # [(x, y, visible), ...]


def expected(task: str, kpt_shape=None) -> str:
    if task == "pose" and kpt_shape:
        return f"'class x y w h' + {kpt_shape[0]} keypoints x {kpt_shape[1]} values " \
               f"({5 + kpt_shape[0] * kpt_shape[1]} numbers)"
    return {"detect": "'class x y w h' (5 numbers)", "segment": "'class x1 y1 x2 y2 x3 y3 ...' (3+ points)",
            "obb": "'class x1 y1 x2 y2 x3 y3 x4 y4' (9 numbers)"}.get(task, "'class x y w h'")


def parse_line(line: str):
    """The numbers of a label line, or None when a field is not a number."""
    try:
        return [float(f) for f in line.split()]
    except ValueError:
        return None


LINE_KINDS = {"box": "boxes ('class x y w h')", "corners": "four corners ('class x1 y1 ... x4 y4')",
              "polygon": "polygons ('class x1 y1 x2 y2 x3 y3 ...')",
              "keypoints": "boxes with keypoints ('class x y w h' + keypoints)"}
TRAINS_ON = {"detect": ("detect", "segment", "obb"), "segment": ("segment", "obb"), "obb": ("obb",),
             "pose": ("pose",), "classify": ("classify",)}  # model task -> the dataset tasks it trains on


def line_kind(values: list, kpt_shape=None) -> str:
    """What a label line holds: ``box``, ``corners`` (9 numbers: a rotated box, or a 4-point polygon),
    ``polygon``, ``keypoints`` (a pose dataset's line) or ``other``."""
    n = len(values)
    if kpt_shape:
        return "keypoints"
    return "box" if n == 5 else "corners" if n == 9 else "polygon" if n >= 7 and n % 2 else "other"


def task_from_kinds(kinds, kpt_shape=None) -> str:
    """The task a dataset's labels are for, from the kinds of its lines: pose (``kpt_shape``), obb (every
    line four corners), segment (every line a polygon), else detect (boxes, or boxes and polygons mixed,
    which only a detect model trains on)."""
    if kpt_shape:
        return "pose"
    present = {k for k in kinds if k != "other"}
    if present == {"corners"}:
        return "obb"
    if present and present <= {"polygon", "corners"}:
        return "segment"
    return "detect"


def guess_task(values: list, kpt_shape=None) -> str:
    """The task a single line's length suggests (9 numbers read as obb, which is also a 4-point polygon)."""
    if kpt_shape:
        return "pose"
    n = len(values)
    return "detect" if n == 5 else "obb" if n == 9 else "segment" if n >= 7 and n % 2 == 1 else "detect"


def check_line(values: list | None, line: str, task: str, nc: int, kpt_shape=None) -> tuple | None:
    """The first problem of one label line for ``task`` (``auto`` accepts any task's format)."""
    if values is None:
        return "malformed", f"'{line.strip()[:60]}' is not numbers: expected {expected(task, kpt_shape)}"
    odd = next((field for field, v in zip(line.split(), values) if not math.isfinite(v)), None)
    if odd is not None:  # NaN passes every comparison below; inf and -inf would pass some
        return "malformed", f"'{odd}' is not a finite number (line '{line.strip()[:60]}'): expected " \
                            f"{expected(task, kpt_shape)} with values in 0..1"
    count_problem = _count_problem(values, task, kpt_shape)
    if count_problem:
        return "malformed", count_problem
    cls = values[0]
    if cls != int(cls) or not 0 <= cls < max(nc, 1):
        return "class", f"class {line.split()[0]} is not one of the dataset's {nc} classes (0..{nc - 1})"
    obj = to_object(values, task if task != "auto" else guess_task(values, kpt_shape), kpt_shape)
    coords = values[1:5] if obj.points is None else [c for p in obj.points for c in p]
    if any(c < -EPS or c > 1 + EPS for c in coords):
        return "outside", "coordinates outside 0..1: labels are normalised by the image width and height"
    x, y, w, h = obj.box
    if obj.points is None and (x - w / 2 < -1e-3 or x + w / 2 > 1 + 1e-3 or y - h / 2 < -1e-3 or y + h / 2 > 1 + 1e-3):
        return "outside", f"the box ({x:.3f} {y:.3f} {w:.3f} {h:.3f}) reaches outside the image"
    if w <= EPS or h <= EPS or (obj.points is not None and polygon_area(obj.points) <= EPS * EPS):
        return "zero_size", "the object has no area (zero width or height): delete the line or fix its size"
    if obj.keypoints:
        for i, (kx, ky, visible) in enumerate(obj.keypoints):
            if visible and not (-EPS <= kx <= 1 + EPS and -EPS <= ky <= 1 + EPS):
                return "outside", f"keypoint {i} ({kx:.3f}, {ky:.3f}) is outside 0..1"
    return None


def _count_problem(values: list, task: str, kpt_shape) -> str | None:
    n = len(values)
    if task == "detect" and n != 5:
        return f"{n} numbers, expected {expected(task)}"
    if task == "obb" and n != 9:
        return f"{n} numbers, expected {expected(task)}"
    if task == "pose":
        if not kpt_shape:
            return "a pose dataset needs 'kpt_shape: [keypoints, 2 or 3]' in its data YAML"
        want = 5 + kpt_shape[0] * kpt_shape[1]
        if n != want:
            return f"{n} numbers, expected {expected(task, kpt_shape)}"
    if task == "segment" and n != 5 and (n < 7 or (n - 1) % 2):
        return f"{n} numbers, expected {expected(task)}"
    if task == "auto" and n < 5:
        return f"{n} numbers, expected at least 'class x y w h' (5)"
    return None


def to_object(values: list, task: str, kpt_shape=None) -> LabelObject:
    """A parsed line (already checked) as an object with its bounding box."""
    cls = int(values[0])
    if task == "pose" and kpt_shape:
        dims = kpt_shape[1]
        raw = values[5:]
        keypoints = [(raw[i], raw[i + 1], raw[i + 2] if dims == 3 else 1.0) for i in range(0, len(raw), dims)]
        return LabelObject(cls, tuple(values[1:5]), keypoints=keypoints)
    if task in ("segment", "obb") and len(values) > 5:
        points = [(values[i], values[i + 1]) for i in range(1, len(values) - 1, 2)]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys))
        return LabelObject(cls, box, points=points)
    return LabelObject(cls, tuple(values[1:5]))


def polygon_area(points: list) -> float:
    """Shoelace area of a polygon (normalised units)."""
    area = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        area += x0 * y1 - x1 * y0
    return abs(area) / 2
