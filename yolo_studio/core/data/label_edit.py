"""Fixing one label where an evaluation shows it wrong: YOLO label files edited line by line, safely.

Not an annotation tool: the edits an evaluation asks for (delete a label, change its class, move or resize its
box, add the box the model found). Each edit rewrites the label file atomically; the first edit of a file keeps
a copy of the original (``<dataset>/labels-backup/<split>/<name>.txt``, never overwritten), and each edit returns
the text it replaced, so undo is writing that text back.
"""

from __future__ import annotations

from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic

BACKUP = "labels-backup"


def label_path(image: str | Path) -> Path:
    """The YOLO label file of an image: ``.../images/<split>/x.png`` -> ``.../labels/<split>/x.txt``."""
    image = Path(image)
    parts = list(image.parts)
    if "images" not in parts:
        raise ValueError(f"{image} is not in an 'images' folder: its label file cannot be found")
    k = len(parts) - 1 - parts[::-1].index("images")
    return Path(*parts[:k], "labels", *parts[k + 1:]).with_suffix(".txt")


def backup_path(label: Path) -> Path:
    parts = list(label.parts)
    k = len(parts) - 1 - parts[::-1].index("labels")
    return Path(*parts[:k], BACKUP, *parts[k + 1:])


def read_lines(label: Path) -> list:
    return [line for line in label.read_text(encoding="utf-8").splitlines() if line.strip()] if label.is_file() else []


def _write(label: Path, lines: list) -> str:
    """Write ``lines``; returns the text the file had (``""`` when it had none), for undo."""
    before = label.read_text(encoding="utf-8") if label.is_file() else ""
    backup = backup_path(label)
    if not backup.exists():
        backup.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(backup, before)
    label.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(label, "".join(f"{line}\n" for line in lines))
    return before


def restore(label: Path, text: str) -> None:
    """Undo: put back the text an edit returned."""
    write_text_atomic(label, text)


def _line(lines: list, k: int) -> list:
    if not 0 <= k < len(lines):
        raise IndexError(f"the label file has {len(lines)} labels, not a label {k + 1}")
    return lines[k].split()


def find_line(label: Path, cls: int, box: tuple, size: tuple, outline: bool = False, tolerance: float = 1.5) -> int:
    """The line of ``label`` that holds the object of class ``cls`` whose box is ``box`` (``x1 y1 x2 y2`` pixels
    of an image of ``size`` (h, w); ``outline``: the lines are polygons or corners (segment, OBB), read by the
    box around them; else a box first (detect, pose)): what an
    evaluation kept is not always the file's order (Ultralytics drops duplicate lines and sorts the rest).
    Raises ``ValueError`` when no line matches: the file changed since."""
    h, w = size
    for k, line in enumerate(read_lines(label)):
        values = line.split()
        try:
            numbers = [float(v) for v in values[1:]]
            if int(float(values[0])) != int(cls):
                continue
        except (ValueError, IndexError):
            continue
        if not outline and len(numbers) >= 4:
            cx, cy, bw, bh = numbers[:4]  # a box, or a pose line (box, then keypoints)
            found = ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
        elif len(numbers) >= 6:
            xs, ys = numbers[0::2], numbers[1::2]
            found = (min(xs) * w, min(ys) * h, max(xs) * w, max(ys) * h)
        else:
            continue
        if all(abs(a - b) <= tolerance for a, b in zip(found, box)):
            return k
    raise ValueError(f"{label.name} has no label of class {cls} at that place any more: it changed since the "
                     "evaluation; evaluate again")


def delete(label: Path, k: int) -> str:
    lines = read_lines(label)
    _line(lines, k)
    return _write(label, lines[:k] + lines[k + 1:])


def set_class(label: Path, k: int, cls: int) -> str:
    lines = read_lines(label)
    values = _line(lines, k)
    lines[k] = " ".join([str(int(cls)), *values[1:]])
    return _write(label, lines)


def set_box(label: Path, k: int, box: tuple, size: tuple) -> str:
    """Move or resize label ``k`` to ``box`` (``x1 y1 x2 y2`` pixels of an image of ``size`` (h, w)); only for a
    box label (a polygon is deleted or re-classed, not redrawn here)."""
    lines = read_lines(label)
    values = _line(lines, k)
    if len(values) != 5:
        raise ValueError("this label is a polygon or has keypoints: delete it or change its class here, redraw it in "
                         "an annotation tool")
    lines[k] = " ".join([values[0], *_normalised(box, size)])
    return _write(label, lines)


def add_box(label: Path, cls: int, box: tuple, size: tuple) -> str:
    """A box label added; refused in a file of polygons or keypoints (a line of another kind would make
    Ultralytics drop the whole image)."""
    lines = read_lines(label)
    if any(len(line.split()) != 5 for line in lines):
        raise ValueError(f"{label.name} holds polygons or keypoints: a box cannot be added to it; add the object in "
                         "an annotation tool")
    return _write(label, [*lines, " ".join([str(int(cls)), *_normalised(box, size)])])


def _normalised(box: tuple, size: tuple) -> list:
    h, w = size
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = sorted((min(max(x1, 0.0), w), min(max(x2, 0.0), w)))
    y1, y2 = sorted((min(max(y1, 0.0), h), min(max(y2, 0.0), h)))
    return [f"{v:.6f}" for v in ((x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h)]
