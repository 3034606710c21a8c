"""Writing an import: YOLO labels, a data YAML and the split lists into a new dataset folder, the images
linked (hard link, else symbolic link, else copied; the result says which), never moved or changed.

Everything is written into a hidden folder beside the target and renamed into place at the end: a cancelled
or failed import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from yolo_studio.core.data.exports.images import image_size
from yolo_studio.core.data.exports.plan import ImportPlan

RECORD = ".yolo-studio-import.json"


class Cancelled(Exception):
    pass


@dataclass
class Written:
    folder: Path
    data: Path  # the data YAML, or the folder for classification
    linked: Counter = field(default_factory=Counter)  # hard link / symbolic link / copied / written -> count
    labels: int = 0
    objects: int = 0
    left_out: int = 0  # objects with no area inside their image, or on an image whose size is unknown

    def how(self) -> str:
        return ", ".join(f"{n} {way}" for way, n in self.linked.most_common())


def fingerprint(plan: ImportPlan) -> str:
    """What identifies an export: its format and the content of its annotation files; for class folders,
    which have none, each image's place and size."""
    digest = hashlib.sha256(plan.export.format.encode())
    for path in sorted({Path(p) for p in plan.export.annotation_files}):
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    if not plan.export.annotation_files:
        for item in plan.export.items:
            size = item.image.stat().st_size if item.image is not None else -1
            digest.update(f"{item.name}\0{size}\0{[o.label for o in item.objects]}\n".encode())
    return digest.hexdigest()


def link(source: Path, target: Path) -> str:
    try:
        os.link(source, target)
        return "hard link"
    except OSError:
        pass
    try:
        os.symlink(source.resolve(), target)
        return "symbolic link"
    except OSError:
        shutil.copy2(source, target)
        return "copied"


def write(plan: ImportPlan, target: Path, progress=None, cancelled=None, digest: str = "") -> Written:
    """Write the dataset of ``plan`` into ``target`` (which must not exist); ``progress(done, total)`` and
    ``cancelled() -> bool`` are optional. Raises Cancelled (nothing written) when cancelled."""
    if target.exists():
        raise ValueError(f"{target} already exists")
    partial = target.parent / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        written = _write(plan, partial, progress, cancelled)
        write_record(partial, plan, digest, written)
        partial.rename(target)
    except OSError as exc:  # a full disk, a file the user may not read: said, and nothing left behind
        shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(f"the dataset could not be written into {target.parent}: {exc}") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    written.folder = target
    written.data = target / written.data.relative_to(partial)
    return written


def _write(plan: ImportPlan, folder: Path, progress, cancelled) -> Written:
    export, task = plan.export, plan.export.task
    classes = plan.classes()
    ids = {name: n for n, name in enumerate(classes)}
    items, split_of = plan.present(), plan.splits()
    written = Written(folder, folder if task == "classify" else folder / "data.yaml")
    used_names: dict = {}
    lists: dict = {}
    made: set = set()  # folders made: one mkdir each, not one per image
    root = str(folder)
    for done, (item, split) in enumerate(zip(items, split_of)):
        if cancelled is not None and done % 64 == 0 and cancelled():
            raise Cancelled()
        if progress is not None and done % 64 == 0:
            progress(done, len(items))
        name = _unique_name(item, used_names, split)
        if task == "classify":
            label = plan.new_name(item.objects[0].label)
            if label is None:
                continue
            inside = f"{split}/{label}/{name}"
        else:
            inside = f"images/{split}/{name}"
        target = os.path.join(root, inside)
        _make_folder(os.path.dirname(target), made)
        if item.image is not None:
            written.linked[link(item.image, Path(target))] += 1
        else:
            with open(target, "wb") as f:
                f.write(item.image_bytes)
            written.linked["written from the annotation"] += 1
        lists.setdefault(split, []).append((str(item.image or item.name), f"./{inside}"))
        if task != "classify":
            lines = _label_lines(plan, item, ids, target)
            written.left_out += sum(1 for o in item.objects if plan.new_name(o.label) is not None) - len(lines)
            label_dir = os.path.join(root, "labels", split)
            _make_folder(label_dir, made)
            with open(os.path.join(label_dir, os.path.splitext(name)[0] + ".txt"), "w", encoding="utf-8") as f:
                f.write("".join(lines))
            written.labels += 1
            written.objects += len(lines)
    if progress is not None:
        progress(len(items), len(items))
    _write_lists(folder, lists)
    if task != "classify":
        # no 'path:': Ultralytics resolves the splits beside the YAML, so the dataset folder can move
        data = {**{s: f"images/{s}" for s in ("train", "val", "test") if s in lists},
                "names": dict(enumerate(classes))}
        if "val" not in data and "test" in data:  # Ultralytics validates on val: the export's test serves
            data["val"] = data["test"]
        if task == "pose":
            data["kpt_shape"] = export.kpt_shape
            flip = flip_index(export.keypoint_names, export.kpt_shape[0])
            if flip:
                data["flip_idx"] = flip
        header = f"# Imported by YOLO Studio from {export.source} ({export.format}, {task})\n"
        (folder / "data.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                                          encoding="utf-8")
    return written


def _make_folder(path: str, made: set) -> None:
    if path not in made:
        os.makedirs(path, exist_ok=True)
        made.add(path)


def _unique_name(item, used: dict, split: str) -> str:
    """The image's file name in the dataset; a name (or stem) met twice in a split gets its folder as a prefix."""
    source = Path(str(item.image) if item.image is not None else item.name.replace("\\", "/"))
    name = source.name

    def key(n: str):  # Ultralytics pairs an image with the label of its stem: x.jpg and x.png would share one
        return split, os.path.splitext(n)[0].lower()
    if key(name) in used:
        name = f"{source.parent.name}_{name}"
        n = 2
        while key(name) in used:
            name, n = f"{source.parent.name}_{n}_{source.name}", n + 1
    used[key(name)] = True
    return name


def _label_lines(plan: ImportPlan, item, ids: dict, image: str) -> list:
    width, height = item.width, item.height
    if not (width and height):
        width, height = image_size(Path(image))
        if not (width and height):
            return []
    task, lines = plan.export.task, []
    for obj in item.objects:
        name = plan.new_name(obj.label)
        if name is None:
            continue
        numbers = _numbers(task, obj, width, height)
        if numbers:
            lines.append(f"{ids[name]} " + " ".join(f"{v:.6g}" for v in numbers) + "\n")
    return lines


def _clip(v: float) -> float:
    return min(max(v, 0.0), 1.0)


def _numbers(task: str, obj, width: float, height: float) -> list:
    x1, y1, x2, y2 = obj.box()
    x1, x2 = _clip(x1 / width), _clip(x2 / width)
    y1, y2 = _clip(y1 / height), _clip(y2 / height)
    if x2 <= x1 or y2 <= y1:
        return []
    box = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
    if task in ("detect", "pose") and obj.kind != "keypoints":
        return box
    if task == "pose":
        kpts = []
        for x, y, v in zip(obj.keypoints[0::3], obj.keypoints[1::3], obj.keypoints[2::3]):
            kpts += [_clip(x / width), _clip(y / height), v] if v else [0.0, 0.0, 0.0]
        return box + kpts
    if obj.kind == "box":
        points = [obj.points[0], obj.points[1], obj.points[2], obj.points[1],
                  obj.points[2], obj.points[3], obj.points[0], obj.points[3]]
    else:
        points = obj.points
    if task == "obb" and len(points) != 8:
        points = [x1 * width, y1 * height, x2 * width, y1 * height, x2 * width, y2 * height, x1 * width, y2 * height]
    return [_clip(v / (width if n % 2 == 0 else height)) for n, v in enumerate(points)]


def flip_index(names, k: int) -> list | None:
    """Where each keypoint goes in a left-right flip, from names saying left/right; None when not known."""
    if not names or len(names) != k:
        return None
    index = {n: i for i, n in enumerate(names)}
    result = []
    for n in names:
        other = n.replace("left", "\0").replace("right", "left").replace("\0", "right")
        result.append(index.get(other, index[n]))
    return result


def _write_lists(folder: Path, lists: dict) -> None:
    """splits/<split>.txt: the source image of each dataset image, to see and repeat the split."""
    (folder / "splits").mkdir()
    for split, pairs in lists.items():
        (folder / "splits" / f"{split}.txt").write_text(
            "".join(f"{source}\t{inside}\n" for source, inside in sorted(pairs)), encoding="utf-8")


def write_record(folder: Path, plan: ImportPlan, digest: str, written: Written) -> None:
    record = {"source": str(plan.export.source), "format": plan.export.format, "task": plan.export.task,
              "fingerprint": digest, "rename": plan.rename, "drop": sorted(plan.drop), "ratios": plan.ratios,
              "seed": plan.seed, "split_from_export": plan.uses_export_split(), "images": dict(written.linked),
              "labels": written.labels, "objects": written.objects, "left_out": written.left_out}
    (folder / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


def read_record(folder: Path) -> dict:
    try:
        return json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
