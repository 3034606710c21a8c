"""Pascal VOC XML: a VOCdevkit tree (Annotations/, JPEGImages/, ImageSets/Main/<split>.txt) or a flat folder
with one XML beside each image (labelImg). Objects marked ``difficult`` are skipped, as Ultralytics' own VOC
conversion does; ``truncated`` ones are kept. Classes in alphabetical order (VOC files carry no class list)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from yolo_studio.core.data.exports.images import ImageFinder
from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES
from yolo_studio.core.data.exports.model import Export, Item, Obj, reading


def is_voc(root: ET.Element) -> bool:
    return root.tag == "annotation" and root.find("object") is not None or \
        (root.tag == "annotation" and root.find("filename") is not None)


def read(folder: Path, xml_files: list) -> Export:
    export = Export("voc", "detect", folder, annotation_files=list(xml_files))
    finder = ImageFinder(folder)
    splits = _image_sets(xml_files)
    names = set()
    for xml_file in xml_files:
        xml_file = Path(xml_file)
        try:
            root = ET.parse(xml_file).getroot()
        except ET.ParseError as exc:
            raise ValueError(f"{xml_file}: not readable XML ({exc})") from None
        filename = (root.findtext("filename") or "").strip() or xml_file.stem
        if not Path(filename).suffix:
            filename += ".jpg"
        bases = [xml_file.parent, xml_file.parent.parent / "JPEGImages", xml_file.parent.parent / "images"]
        image = finder.find(filename, *bases)
        if image is None:
            image = next((p for b in bases for p in b.glob(xml_file.stem + ".*")
                          if p.suffix.lower() in IMAGE_SUFFIXES), None)
        size = root.find("size")
        with reading(xml_file, "<size>"):
            width = int(float(size.findtext("width") or 0)) if size is not None else 0
            height = int(float(size.findtext("height") or 0)) if size is not None else 0
        item = Item(filename, image, width, height, split=splits.get((xml_file.parent.parent, xml_file.stem), ""))
        for o in root.iter("object"):
            name = (o.findtext("name") or "").strip()
            where = f"{xml_file.name}: {name}"
            if (o.findtext("difficult") or "0").strip() in ("1", "true"):
                export.skip("difficult", where)
                continue
            b = o.find("bndbox")
            if b is None:
                export.skip("unknown_shape", f"{where}: no <bndbox>")
                continue
            with reading(xml_file, f"<object> {name}"):
                box = [float(b.findtext(k) or 0) for k in ("xmin", "ymin", "xmax", "ymax")]
            if box[2] <= box[0] or box[3] <= box[1]:
                export.skip("degenerate", where)
                continue
            item.objects.append(Obj(name, "box", box))
            names.add(name)
        export.items.append(item)
    export.classes = sorted(names)
    return export


def _image_sets(xml_files: list) -> dict:
    """(year folder, image id) -> split, from ImageSets/Main/{train,val,test}.txt (trainval when no train)."""
    result = {}
    for year in {Path(f).parent.parent for f in xml_files}:
        main = year / "ImageSets" / "Main"
        lists = {s: main / f"{s}.txt" for s in ("train", "val", "test", "trainval")}
        order = ["train", "val", "test"] if lists["train"].is_file() else ["trainval", "test"]
        for split in order:
            if lists[split].is_file():
                for line in lists[split].read_text(encoding="utf-8").split("\n"):
                    if line.strip():
                        result.setdefault((year, line.split()[0]), "train" if split == "trainval" else split)
    return result
