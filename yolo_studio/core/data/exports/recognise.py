"""Which export a file or folder is, by its content (never by its name alone)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES
from yolo_studio.core.data.exports import coco, cvat, label_studio, labelme, voc, yolo_text
from yolo_studio.core.data.exports.model import FORMATS, Export, NotAnExport, reading

SCAN_DEPTH = 4  # how deep a picked folder is searched for annotation files


def read_export(path: str | Path, task: str | None = None, annotator: str | None = None) -> Export:
    path = Path(path)
    if not path.exists():
        raise NotAnExport(f"{path} does not exist")
    with reading(path):  # what a reader did not catch itself: at least the picked path is named
        return _read_file(path, task, annotator) if path.is_file() else _read_folder(path, task, annotator)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAnExport(f"{path}: not readable JSON ({exc})") from None


def _load_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise NotAnExport(f"{path}: not readable XML ({exc})") from None


def _read_file(path: Path, task, annotator) -> Export:
    suffix = path.suffix.lower()
    if suffix == ".json":
        content = _load_json(path)
        if coco.is_coco(content):
            return coco.read([path], _images_root(path), task, {path: content})
        if label_studio.is_label_studio(content):
            return label_studio.read(path, content, annotator, task)
        if labelme.is_labelme(content):
            return labelme.read(path.parent, _labelme_files(path.parent), task)
        raise NotAnExport(f"{path}: {_json_looks_like(content)}")
    if suffix == ".xml":
        root = _load_xml(path)
        if cvat.is_cvat_video(root):
            raise NotAnExport(f"{path}: a CVAT for video 1.1 file (tracks): export the task as "
                              "'CVAT for images 1.1' and import that")
        if cvat.is_cvat_images(root):
            return cvat.read(path, root, task)
        if voc.is_voc(root):
            return _read_folder(path.parent, task, annotator)
        raise NotAnExport(f"{path}: {_xml_looks_like(root)}")
    if suffix == ".data" or path.name == "obj.data":
        values = yolo_text.read_key_values(path)
        if yolo_text.is_darknet(values):
            return yolo_text.read_darknet(path)
        raise NotAnExport(f"{path}: a key = value file without 'names' and 'train': not a Darknet obj.data")
    if path.name in ("classes.txt", "obj.names"):
        return _read_folder(path.parent, task, annotator)
    if suffix == ".txt" and _dota_files([path]):
        return _read_folder(path.parent.parent if path.parent.name == "labelTxt" else path.parent, task, annotator)
    if suffix in IMAGE_SUFFIXES:
        raise NotAnExport(f"{path}: an image, not annotations: pick the export's annotation file or its folder")
    raise NotAnExport(f"{path}: not an annotation file the studio reads ({', '.join(FORMATS.values())}; "
                      "or a data YAML, a dataset folder or a ZIP)")


def _images_root(annotation: Path) -> Path:
    """Where an annotation file's images are looked for: its folder, or the folder above when the file sits
    in an ``annotations/`` folder beside the images (COCO's own layout, CVAT's and Detectron's)."""
    if annotation.parent.name.lower() in ("annotations", "annotation", "labels", "json"):
        return annotation.parent.parent
    return annotation.parent


def _json_looks_like(content) -> str:
    if isinstance(content, dict):
        keys = list(content)[:6]
        if {"name", "version"} <= set(content) and ("dependencies" in content or "scripts" in content):
            what = "an npm package.json"
        elif "label_config" in content or "title" in content and "id" in content:
            what = "a Label Studio project's settings, not its export: export the project as JSON"
        elif "images" in content and "annotations" not in content:
            what = "a COCO file without 'annotations' (image list only)"
        else:
            what = "a JSON object"
        return f"{what} (keys: {', '.join(map(str, keys))}); not COCO ('images' + 'annotations'), LabelMe " \
               "('shapes' + 'imagePath') or a Label Studio export (a list of tasks)"
    if isinstance(content, list):
        return "a JSON list, but not of Label Studio tasks ('data' + 'annotations')"
    return f"a JSON {type(content).__name__}, not annotations"


def _xml_looks_like(root: ET.Element) -> str:
    if root.tag == "View":
        return "a Label Studio labeling configuration (<View>), not annotations: export the project as JSON"
    return f"an XML file whose root is <{root.tag}>: not Pascal VOC (<annotation>) or CVAT for images (<annotations>)"


def _walk(folder: Path):
    """(folder, files) under ``folder``, at most SCAN_DEPTH deep, hidden folders left out."""
    base = len(folder.parts)
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if len(Path(current).parts) - base >= SCAN_DEPTH:
            dirs[:] = []
        yield Path(current), sorted(files)


def _json_kind(path: Path) -> str:
    """coco / labelme / label_studio / other, from the start of the file (a full parse comes later)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        head = f.read(65536)
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "label_studio"
    if '"shapes"' in head and '"imagePath"' in head:
        return "labelme"
    if '"images"' in head or '"annotations"' in head or '"categories"' in head:
        return "coco"
    if len(head) == 65536:  # a large file whose start says nothing (a LabelMe file with masks): read it whole
        try:
            content = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return "other"
        return "labelme" if labelme.is_labelme(content) else "coco" if coco.is_coco(content) else \
            "label_studio" if label_studio.is_label_studio(content) else "other"
    return "other"


def _labelme_files(folder: Path) -> list:
    return [d / f for d, files in _walk(folder) for f in files if f.endswith(".json") and _json_kind(d / f) == "labelme"]


def _dota_files(files: list) -> list:
    found = []
    for f in files:
        try:
            lines = Path(f).read_text(encoding="utf-8", errors="replace").splitlines()[:5]
        except OSError:
            continue
        if any(yolo_text.is_dota_line(line) for line in lines):
            found.append(f)
    return found


def _read_folder(folder: Path, task, annotator) -> Export:
    jsons, xmls, txts, datas, images = [], [], [], [], 0
    for current, files in _walk(folder):
        for f in files:
            suffix = os.path.splitext(f)[1].lower()
            if suffix == ".json":
                jsons.append(current / f)
            elif suffix == ".xml":
                xmls.append(current / f)
            elif suffix == ".txt":
                txts.append(current / f)
            elif suffix == ".data":
                datas.append(current / f)
            elif suffix in IMAGE_SUFFIXES:
                images += 1
    for data in datas:
        values = yolo_text.read_key_values(data)
        if yolo_text.is_darknet(values):
            return yolo_text.read_darknet(data)
    kinds: dict = {}
    for j in jsons:
        kinds.setdefault(_json_kind(j), []).append(j)
    if kinds.get("coco"):
        contents = {p: _load_json(p) for p in kinds["coco"]}
        files = [p for p, c in contents.items() if coco.is_coco(c)]
        if files:
            return coco.read(files, folder, task, contents)
    for x in xmls:
        root = _load_xml(x)
        if cvat.is_cvat_images(root):
            return cvat.read(x, root, task)
    voc_files = [x for x in xmls if x.parent.name == "Annotations" or _root_tag(x) == "annotation"]
    if voc_files:
        return voc.read(folder, voc_files)
    if kinds.get("labelme"):
        return labelme.read(folder, kinds["labelme"], task)
    for j in kinds.get("label_studio", []):
        content = _load_json(j)
        if label_studio.is_label_studio(content):
            return label_studio.read(j, content, annotator, task)
    dota = _dota_files([t for t in txts if t.name not in ("classes.txt", "obj.names", "notes.txt")])
    if dota:
        return yolo_text.read_dota(folder, dota)
    classes = [t for t in txts if t.name == "classes.txt"]
    if classes:
        return yolo_text.read_yolo_folder(classes[0].parent, classes[0])
    folders = yolo_text.class_folders(folder)
    if folders:
        return yolo_text.read_class_folders(folder, folders)
    found = f"{images} images, {len(jsons)} JSON, {len(xmls)} XML and {len(txts)} text files"
    raise NotAnExport(f"{folder}: no annotations the studio reads ({found}); it takes "
                      f"{', '.join(FORMATS.values())}, or a YOLO dataset (a data YAML, images/<split> folders, "
                      "train/<class> folders)")


def _root_tag(path: Path) -> str:
    try:
        for _event, element in ET.iterparse(path, events=("start",)):
            return element.tag
    except ET.ParseError:
        return ""
    return ""
