"""Deterministic synthetic datasets of every task: squares, circles and triangles on noise.

Generated locally (never downloaded) in YOLO format: ``images/{train,val}/*.png``,
``labels/{train,val}/*.txt`` and a ``data.yaml``; for classification, ``{train,val}/<class>/*.png``.
The same arguments give byte-identical files. Each task's labels are what Ultralytics trains it on:

- detect: ``class x y w h``;
- segment: the shape's outline as a polygon (8 points or more, so it is never read as a rotated box);
- obb: the four corners of a rotated square (``class x1 y1 x2 y2 x3 y3 x4 y4``);
- pose: the box and three keypoints (the shape's top, bottom right and bottom left), ``kpt_shape: [3, 3]``;
- classify: one shape per image, in its class's folder.
"""

from __future__ import annotations

import math
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic

CLASSES = ("square", "circle", "triangle")
TASKS = ("detect", "segment", "obb", "pose", "classify")
KPT_SHAPE = (3, 3)


def _outline(kind: int, box: tuple) -> list:
    """The shape's outline as pixel points (at least 8, going round once)."""
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    if kind == 1:
        return [(cx + r * math.cos(2 * math.pi * k / 16), cy + r * math.sin(2 * math.pi * k / 16)) for k in range(16)]
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] if kind == 0 else [(cx, y0), (x1, y1), (x0, y1)]
    out = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1]):  # each side's midpoint too
        out += [(ax, ay), ((ax + bx) / 2, (ay + by) / 2)]
    return out if len(out) >= 8 else out + [((out[0][0] + out[1][0]) / 2, (out[0][1] + out[1][1]) / 2)]


def _norm(points: list, imgsz: int) -> str:
    return " ".join(f"{min(max(x / imgsz, 0.0), 1.0):.6f} {min(max(y / imgsz, 0.0), 1.0):.6f}" for x, y in points)


def _draw(draw, kind: int, box: tuple, colour: tuple) -> None:
    x0, y0, x1, y1 = box
    if kind == 0:
        draw.rectangle(box, fill=colour)
    elif kind == 1:
        draw.ellipse(box, fill=colour)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)


def _image(rng, imgsz: int, max_objects: int, task: str = "detect"):
    import numpy as np
    from PIL import Image, ImageDraw

    noise = rng.integers(0, 90, size=(imgsz, imgsz, 3), dtype=np.uint8)
    img = Image.fromarray(noise, "RGB")
    draw = ImageDraw.Draw(img)
    labels = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        size = int(rng.integers(imgsz // 6, imgsz // 3))
        x0 = int(rng.integers(0, imgsz - size))
        y0 = int(rng.integers(0, imgsz - size))
        kind = int(rng.integers(0, len(CLASSES)))
        colour = tuple(int(c) for c in rng.integers(130, 256, size=3))
        box = (x0, y0, x0 + size, y0 + size)
        cx, cy, w = (x0 + size / 2) / imgsz, (y0 + size / 2) / imgsz, size / imgsz
        if task == "obb":  # a square turned by a random angle, inside the image
            angle, r = float(rng.uniform(0, math.pi / 2)), size / 2 * 0.7
            corners = [(box[0] + size / 2 + r * math.cos(angle + k * math.pi / 2) * math.sqrt(2),
                        box[1] + size / 2 + r * math.sin(angle + k * math.pi / 2) * math.sqrt(2)) for k in range(4)]
            draw.polygon(corners, fill=colour)
            labels.append(f"0 {_norm(corners, imgsz)}")
            continue
        _draw(draw, kind, box, colour)
        if task == "segment":
            labels.append(f"{kind} {_norm(_outline(kind, box), imgsz)}")
        elif task == "pose":
            points = [((box[0] + box[2]) / 2, box[1]), (box[2], box[3]), (box[0], box[3])]
            labels.append(f"{kind} {cx:.6f} {cy:.6f} {w:.6f} {w:.6f} " +
                          " ".join(f"{x / imgsz:.6f} {y / imgsz:.6f} 2" for x, y in points))
        else:
            labels.append(f"{kind} {cx:.6f} {cy:.6f} {w:.6f} {w:.6f}")
    return img, labels


def _classify(root: Path, rng, train: int, val: int, imgsz: int) -> Path:
    """train/<class>/ and val/<class>/, one shape filling most of each image."""
    import numpy as np
    from PIL import Image, ImageDraw

    for split, count in (("train", train), ("val", val)):
        for n in range(count):
            kind = n % len(CLASSES)
            img = Image.fromarray(rng.integers(0, 90, size=(imgsz, imgsz, 3), dtype=np.uint8), "RGB")
            size = int(rng.integers(imgsz // 2, imgsz - 4))
            x0, y0 = (int(rng.integers(0, imgsz - size + 1)) for _ in range(2))
            _draw(ImageDraw.Draw(img), kind, (x0, y0, x0 + size, y0 + size),
                  tuple(int(c) for c in rng.integers(130, 256, size=3)))
            folder = root / split / CLASSES[kind]
            folder.mkdir(parents=True, exist_ok=True)
            img.save(folder / f"{split}_{n:04d}.png", optimize=False)
    return root


def generate(root: str | Path, train: int = 256, val: int = 64, imgsz: int = 128, seed: int = 0,
             max_objects: int = 3, task: str = "detect") -> Path:
    """Write the dataset under ``root``; return the path of its ``data.yaml`` (for ``classify``: the folder,
    which is what Ultralytics trains a classification model on)."""
    import numpy as np

    if task not in TASKS:
        raise ValueError(f"no generated dataset for task '{task}': one of {', '.join(TASKS)}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    if task == "classify":
        return _classify(root, rng, train, val, imgsz)
    for split, count in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for n in range(count):
            img, labels = _image(rng, imgsz, max_objects, task)
            img.save(root / "images" / split / f"{split}_{n:04d}.png", optimize=False)
            (root / "labels" / split / f"{split}_{n:04d}.txt").write_text("\n".join(labels) + "\n")
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES if task != "obb" else ("square",)))
    extra = f"kpt_shape: [{KPT_SHAPE[0]}, {KPT_SHAPE[1]}]\nflip_idx: [0, 2, 1]\n" if task == "pose" else ""
    data = root / "data.yaml"
    # No 'path:': Ultralytics then resolves the splits beside this file, so the folder can move.
    # Written last and atomically: its presence means the dataset is complete.
    title = "Synthetic shapes dataset" if task == "detect" else f"Synthetic shapes dataset ({task})"
    write_text_atomic(data, f"# {title} generated by YOLO Studio (seed {seed})\n"
                            f"train: images/train\nval: images/val\n{extra}names:\n{names}\n")
    return data
