"""Text-label exports: Darknet (``obj.data``, ``obj.names``, ``train.txt``), a plain folder of images and YOLO
``.txt`` labels with ``classes.txt`` (Label Studio's and CVAT's "YOLO" export), DOTA's rotated boxes
(``x1 y1 ... x4 y4 class difficult``, in pixels), and class folders for classification.

YOLO labels are already normalised: their items have a size of 1 x 1 so that the writer leaves them as they are.
"""

from __future__ import annotations

from pathlib import Path

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES, labels_dir
from yolo_studio.core.data.exports.images import ImageFinder, image_size
from yolo_studio.core.data.exports.model import Export, Item, Obj, split_name
from yolo_studio.core.data.yolo_labels import line_kind, task_from_kinds


def read_key_values(path: Path) -> dict:
    """``key = value`` lines (Darknet's obj.data)."""
    result = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    return result


def is_darknet(values: dict) -> bool:
    return "names" in values and ("train" in values or "valid" in values)


def _darknet_path(folder: Path, written: str) -> Path:
    """A path as obj.data writes it: relative to darknet's own folder, whose ``data/`` is the export itself."""
    written = written.replace("\\", "/")
    for candidate in (folder / written, folder / written.split("/", 1)[-1], folder.parent / written):
        if candidate.exists():
            return candidate
    return folder / written


def read_darknet(obj_data: Path) -> Export:
    folder = obj_data.parent
    values = read_key_values(obj_data)
    names_file = _darknet_path(folder, values["names"])
    export = Export("darknet", "detect", folder, annotation_files=[obj_data])
    if not names_file.is_file():
        raise ValueError(f"{obj_data}: names = {values['names']}, but {names_file} does not exist")
    export.classes = [n.strip() for n in names_file.read_text(encoding="utf-8").splitlines() if n.strip()]
    finder = ImageFinder(folder)
    listed = [(key, split) for key, split in (("train", "train"), ("valid", "val"), ("test", "test")) if key in values]
    for key, split in listed:
        listing = _darknet_path(folder, values[key])
        if not listing.is_file():
            export.notes.append(f"{obj_data.name}: {key} = {values[key]} does not exist")
            continue
        export.annotation_files.append(listing)
        for line in listing.read_text(encoding="utf-8").splitlines():
            if line.strip():
                image = _darknet_path(folder, line.strip())
                image = image if image.is_file() else finder.find(line.strip())
                _read_yolo_item(export, line.strip(), image, split if len(listed) > 1 else "")
    _set_task(export)
    return export


def read_yolo_folder(folder: Path, classes_file: Path) -> Export:
    export = Export("yolo_folder", "detect", folder, annotation_files=[classes_file])
    export.classes = [n.strip() for n in classes_file.read_text(encoding="utf-8").splitlines() if n.strip()]
    for image in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        _read_yolo_item(export, str(image.relative_to(folder)), image, "")
    _set_task(export)
    return export


def _label_file(image: Path) -> Path | None:
    for candidate in (labels_dir(image.parent) / (image.stem + ".txt"), image.with_suffix(".txt"),
                      image.parent.parent / "labels" / (image.stem + ".txt")):
        if candidate.is_file():
            return candidate
    return None


def _read_yolo_item(export: Export, written: str, image: Path | None, split: str) -> None:
    item = Item(written, image if image is not None and image.is_file() else None, 1, 1, split=split)
    export.items.append(item)
    label = _label_file(image) if item.image is not None else None
    if label is None:
        return
    export.annotation_files.append(label)
    for number, line in enumerate(label.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{label.name}:{number}"
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            export.skip("degenerate", f"{where}: not numbers")
            continue
        if not values:
            continue
        cls = int(values[0])
        if not 0 <= cls < len(export.classes):
            export.skip("unknown_class", f"{where}: class {cls}")
            continue
        kind, numbers = line_kind(values), values[1:]
        if kind == "box":
            x, y, w, h = numbers
            item.objects.append(Obj(export.classes[cls], "box", [x - w / 2, y - h / 2, x + w / 2, y + h / 2]))
        elif kind in ("corners", "polygon"):
            item.objects.append(Obj(export.classes[cls], "polygon" if kind == "polygon" else "corners", numbers))
        else:
            export.skip("unknown_shape", f"{where}: {len(values)} numbers")


def _set_task(export: Export) -> None:
    export.task = task_from_kinds({"box": "box", "polygon": "polygon", "corners": "corners"}[o.kind]
                                  for item in export.items for o in item.objects)


DOTA_V1 = ["plane", "ship", "storage-tank", "baseball-diamond", "tennis-court", "basketball-court",
           "ground-track-field", "harbor", "bridge", "large-vehicle", "small-vehicle", "helicopter", "roundabout",
           "soccer-ball-field", "swimming-pool"]
DOTA_CLASSES = (DOTA_V1, DOTA_V1 + ["container-crane"], DOTA_V1 + ["container-crane", "airport", "helipad"])


def is_dota_line(line: str) -> bool:
    fields = line.split()
    if len(fields) not in (9, 10):
        return False
    try:
        [float(v) for v in fields[:8]]
    except ValueError:
        return False
    return not _is_number(fields[8])


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_dota(folder: Path, label_files: list) -> Export:
    export = Export("dota", "obb", folder, annotation_files=list(label_files))
    finder = ImageFinder(folder)
    names = set()
    for label in label_files:
        label = Path(label)
        image = next(filter(None, (finder.find(label.stem + s, label.parent.parent / "images")
                                   for s in (".png", ".jpg", ".tif", ".bmp", ".jpeg"))), None)
        width, height = image_size(image) if image is not None else (0, 0)
        item = Item(label.stem, image, width, height, split=split_name(label.parent.parent.name))
        for number, line in enumerate(label.read_text(encoding="utf-8").splitlines(), 1):
            if not is_dota_line(line):
                continue  # imagesource: / gsd: header lines
            fields = line.split()
            where = f"{label.name}:{number}: {fields[8]}"
            if len(fields) > 9 and fields[9] == "1":
                export.skip("difficult", where)
                continue
            item.objects.append(Obj(fields[8], "corners", [float(v) for v in fields[:8]]))
            names.add(fields[8])
        if image is not None and not (width and height) and item.objects:
            export.skip("no_size", str(image))
        export.items.append(item)
    known = next((order for order in DOTA_CLASSES if names <= set(order)), None)
    export.classes = [n for n in known if n in names] if known else sorted(names)
    if known:
        export.notes.append("classes in DOTA's own order (as Ultralytics' DOTA datasets number them)")
    return export


def class_folders(folder: Path) -> list:
    """The sub-folders of ``folder`` that hold images directly (one per class), when there are two or more."""
    found = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")
             and any(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir())]
    return found if len(found) >= 2 else []


def read_class_folders(folder: Path, classes: list) -> Export:
    export = Export("class_folders", "classify", folder)
    export.classes = [c.name for c in classes]
    for c in classes:
        for image in sorted(p for p in c.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            export.items.append(Item(str(image.relative_to(folder)), image, 1, 1, objects=[Obj(c.name, "class", [])]))
    return export
