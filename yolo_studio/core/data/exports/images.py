"""Finding an export's images on disk, reading their size, and decoding COCO's run-length masks.

Exports name images in their own ways: a path relative to the annotation file, a path on the labeller's
machine, an upload path with a prefix (Label Studio's ``/data/upload/1/8a3f2c1d-name.jpg``). The finder
tries the path as written, then the file name anywhere under the export's folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES

UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")  # Label Studio prefixes uploaded files with 8 hex digits


class ImageFinder:
    """Finds images under ``root`` by name (one walk of the folder, on first need), preferring the one whose
    path ends as written; an image outside ``root`` is looked for beside each of the ``bases`` given."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._by_name: dict | None = None

    def _index(self) -> dict:
        if self._by_name is None:
            self._by_name = {}
            for folder, dirs, files in os.walk(self.root):
                dirs.sort()
                for f in sorted(files):
                    if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES:
                        path = os.path.join(folder, f)
                        self._by_name.setdefault(f, []).append(path)
                        if f.lower() != f:
                            self._by_name.setdefault(f.lower(), []).append(path)
        return self._by_name

    def find(self, written: str, *bases: Path) -> Path | None:
        """The image an export names ``written`` (a path as the export writes it, perhaps from another machine)."""
        written = written.replace("\\", "/")
        name = written.rsplit("/", 1)[-1]
        index = self._index()
        found = index.get(name) or index.get(name.lower())
        if not found and UPLOAD_PREFIX.match(name):
            found = index.get(UPLOAD_PREFIX.sub("", name))
        if found and len(found) == 1:
            return Path(found[0])
        if found:  # one name, several images (each split's frame_000000.jpg): the one where the export points
            return Path(_closest(found, written, bases))
        for base in bases:
            for candidate in (base / written, base / written.lstrip("/")):
                if candidate.is_file():
                    return candidate
        return None


def _closest(found: list, written: str, bases: tuple) -> str:
    """Of images sharing a name: the one at the written path from a base, else in a base folder, else the one
    whose path ends as written, else the first."""
    absolute = {os.path.abspath(p): p for p in found}
    for base in bases:
        exact = absolute.get(os.path.abspath(os.path.join(base, written.lstrip("/"))))
        if exact:
            return exact
    for base in bases:
        beside = next((p for a, p in absolute.items() if os.path.dirname(a) == os.path.abspath(base)), None)
        if beside:
            return beside
    tail = "/" + written.lstrip("/")
    return next((p for p in found if p.replace(os.sep, "/").endswith(tail)), found[0])


def image_size(path: Path) -> tuple:
    """(width, height) read from the file's header, or (0, 0) when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, SyntaxError):
        return 0, 0


def rle_counts(rle: dict) -> list:
    """The run lengths of a COCO RLE, compressed (a string) or not (a list)."""
    counts = rle["counts"]
    if isinstance(counts, list):
        return counts
    runs, i, data = [], 0, counts.encode() if isinstance(counts, str) else counts
    while i < len(data):  # pycocotools' string form: 5 bits per character, differences after the second run
        x, k, more = 0, 0, True
        while more:
            c = data[i] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            i, k = i + 1, k + 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def rle_polygon(rle: dict) -> list:
    """The outline of a run-length mask's largest part, as x y x y ... (pixels); [] when empty."""
    import cv2
    import numpy as np

    height, width = rle["size"]
    flat = np.zeros(height * width, dtype=np.uint8)
    position, value = 0, 0
    for run in rle_counts(rle):
        if value:
            flat[position:position + run] = 1
        position, value = position + run, 1 - value
    mask = flat.reshape((width, height)).T  # COCO masks run down the columns
    contours, _ = cv2.findContours(np.ascontiguousarray(mask), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    largest = max(contours, key=cv2.contourArea)
    return [float(v) for point in largest.reshape(-1, 2) for v in point]


def rle_box(rle: dict) -> tuple | None:
    """x1 y1 x2 y2 around a run-length mask (pixels), or None when it is empty."""
    height, _width = rle["size"]
    position, value, xs, ys = 0, 0, [], []
    for run in rle_counts(rle):
        if value and run:
            first, last = position, position + run - 1
            xs += [first // height, last // height]
            ys += [first % height, last % height] if first // height == last // height else [0, height - 1]
        position, value = position + run, 1 - value
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1) if xs else None
