"""COCO JSON: boxes, polygons (an object in several parts joined into one outline), run-length masks
and keypoints; one file, or one per split.

Class ids in COCO files start anywhere and have gaps (COCO itself: 1..90 for 80 classes; Roboflow: 0 is an
unused category named after the dataset, the supercategory of the others). Classes are taken in id order;
a category that no annotation uses and that only names the others' supercategory is left out.
"""

from __future__ import annotations

import json
from pathlib import Path

from yolo_studio.core.data.exports.images import ImageFinder, rle_box, rle_polygon
from yolo_studio.core.data.exports.model import Export, Item, Obj, join_parts, outline_task, reading, split_name


def is_coco(content) -> bool:
    return isinstance(content, dict) and isinstance(content.get("images"), list) and \
        isinstance(content.get("annotations"), list)


def read(files: list, root: Path, task: str | None = None, contents: dict | None = None) -> Export:
    """Read COCO files (one per split, or one for all); ``contents`` holds files already parsed."""
    export = Export("coco", "detect", root, annotation_files=list(files))
    finder = ImageFinder(root)
    categories: dict = {}
    for path in files:
        data = (contents or {}).get(path) or json.loads(Path(path).read_text(encoding="utf-8"))
        with reading(path):
            own = {c["id"]: c for c in data.get("categories") or []}  # ids are each file's own: names join them
            for cid, c in own.items():
                categories.setdefault(cid, c)
            _read_file(export, data, Path(path), root, finder, own, len(files) > 1)
    used = {o.label for item in export.items for o in item.objects}
    supers = {c.get("supercategory") for c in categories.values()}
    for cid in sorted(categories, key=lambda i: (not isinstance(i, int), str(i) if not isinstance(i, int) else i)):
        name = str(categories[cid]["name"])
        if name not in used and name in supers:
            export.notes.append(f"category {cid} '{name}' is only the supercategory of others and no "
                                "annotation uses it: left out")
            continue
        export.add_class(name)
    export.task = _task(export, categories, task)
    if export.skipped["crowd"]:
        export.notes.append(f"{export.skipped['crowd']} crowd annotations skipped (one region for many objects). "
                            "CVAT's COCO export marks its masks as crowd: import CVAT's own XML to keep them")
    return export


def _read_file(export: Export, data: dict, path: Path, root: Path, finder: ImageFinder,
               categories: dict, several: bool) -> None:
    split = (split_name(path.stem) or split_name(path.parent.name)) if several else ""
    names = {cid: str(c["name"]) for cid, c in categories.items()}
    items = {}
    pose = any(c.get("keypoints") for c in categories.values())
    for im in data["images"]:
        image = finder.find(str(im["file_name"]), path.parent, path.parent / "images", root, root / "images",
                            root / "images" / path.stem.split("_")[-1])
        item = Item(str(im["file_name"]), image, int(im.get("width") or 0), int(im.get("height") or 0), split=split)
        items[im["id"]] = item
        export.items.append(item)
    kpt_sizes = {cid: len(c["keypoints"]) for cid, c in categories.items() if c.get("keypoints")}
    for ann in data["annotations"]:
        item = items.get(ann.get("image_id"))
        where = f"{path.name}: annotation {ann.get('id')}"
        if item is None:
            export.skip("missing_image", f"{where}: image id {ann.get('image_id')} is not in 'images'")
            continue
        label = names.get(ann.get("category_id"))
        if label is None:
            export.skip("unknown_class", f"{where}: category {ann.get('category_id')} is not in 'categories'")
            continue
        if ann.get("iscrowd"):
            export.skip("crowd", f"{where} ({item.name})")
            continue
        if pose and ann.get("category_id") not in kpt_sizes:  # a pose dataset's every line has keypoints
            export.skip("no_keypoints", f"{where} ({item.name}): {label}")
            export.untrained.add(label)
            continue
        with reading(path, f"annotation {ann.get('id')}"):
            obj = _object(ann, label, kpt_sizes.get(ann.get("category_id")))
        if obj is None:
            export.skip("degenerate", f"{where} ({item.name})")
        elif obj == "empty_keypoints":
            export.skip("empty_keypoints", f"{where} ({item.name})")
        else:
            item.objects.append(obj)


def _object(ann: dict, label: str, kpt_values: int | None):
    bbox = ann.get("bbox") or []
    box = [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]] if len(bbox) == 4 else None
    if kpt_values:
        if not ann.get("num_keypoints", 1) or not any(ann.get("keypoints") or []):
            return "empty_keypoints"
        if box is None or bbox[2] <= 0 or bbox[3] <= 0:
            return None
        return Obj(label, "keypoints", box, [float(v) for v in ann["keypoints"]])
    segmentation = ann.get("segmentation")
    polygon = []
    if isinstance(segmentation, list) and segmentation:
        parts = [[float(v) for v in p] for p in segmentation if isinstance(p, list) and len(p) >= 6]
        polygon = join_parts(parts) if parts else []
    elif isinstance(segmentation, dict) and "counts" in segmentation:
        polygon = rle_polygon(segmentation)
        if box is None:
            found = rle_box(segmentation)
            box = list(found) if found else None
    if len(polygon) >= 6:
        return Obj(label, "polygon", polygon)
    if box is None or box[2] <= box[0] or box[3] <= box[1]:
        return None
    return Obj(label, "box", [float(v) for v in box])


def _task(export: Export, categories: dict, asked: str | None) -> str:
    kpts = [c for c in categories.values() if c.get("keypoints")]
    if kpts:
        export.kpt_shape = [len(kpts[0]["keypoints"]), 3]
        export.keypoint_names = [str(n) for n in kpts[0]["keypoints"]]
        export.leave_out_untrained()
        return "pose"
    return outline_task(export, asked)
