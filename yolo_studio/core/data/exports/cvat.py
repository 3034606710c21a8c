"""CVAT for images 1.1 XML (``annotations.xml`` beside an ``images/`` folder).

Boxes (a rotated one as its four corners) and polygons are trained; polylines, points, tags, ellipses, cuboids, skeletons and masks are reported
as not trained. Classes in the order of the task's (or project's) label list. An image's ``subset`` attribute
(a project export) is its split.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from yolo_studio.core.data.exports.images import ImageFinder
from yolo_studio.core.data.exports.model import Export, Item, Obj, outline_task, reading, split_name

REPORTED = ("polyline", "points", "tag", "ellipse", "cuboid", "skeleton", "mask")


def is_cvat_images(root: ET.Element) -> bool:
    return root.tag == "annotations" and root.find("image") is not None or \
        (root.tag == "annotations" and root.find("meta") is not None and root.find("track") is None)


def is_cvat_video(root: ET.Element) -> bool:
    return root.tag == "annotations" and root.find("track") is not None


def read(xml_file: Path, root: ET.Element, task: str | None = None) -> Export:
    export = Export("cvat", "detect", xml_file.parent, annotation_files=[xml_file])
    for label in root.iter("label"):
        name = (label.findtext("name") or "").strip()
        if name:
            export.add_class(name)
    finder = ImageFinder(xml_file.parent)
    for im in root.iter("image"):
        name = im.get("name", "")
        image = finder.find(name, xml_file.parent / "images", xml_file.parent)
        item = Item(name, image, int(float(im.get("width") or 0)), int(float(im.get("height") or 0)),
                    split=split_name(im.get("subset") or ""))
        for shape in im:
            label = shape.get("label", "")
            where = f"{xml_file.name}: image '{name}' {shape.tag} '{label}'"
            if shape.tag == "box":
                with reading(xml_file, where):
                    obj = _box(label, [float(shape.get(k)) for k in ("xtl", "ytl", "xbr", "ybr")],
                               float(shape.get("rotation") or 0))
            elif shape.tag == "polygon":
                with reading(xml_file, where):
                    points = [float(v) for pair in shape.get("points", "").split(";") if pair for v in pair.split(",")]
                obj = Obj(label, "polygon", points) if len(points) >= 6 else None
            elif shape.tag in REPORTED:
                export.skip("unknown_shape", where)
                export.untrained.add(label)
                continue
            else:
                continue
            if obj is None:
                export.skip("degenerate", where)
            else:
                item.objects.append(obj)
                export.add_class(label)
        export.items.append(item)
    export.leave_out_untrained()
    export.task = outline_task(export, task)
    return export


def _box(label: str, box: list, rotation: float) -> Obj | None:
    """A box, or its four corners when CVAT's ``rotation`` (degrees, clockwise, about the centre) turns it."""
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        return None
    if not rotation:
        return Obj(label, "box", box)
    cx, cy, c, s = (x1 + x2) / 2, (y1 + y2) / 2, math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    return Obj(label, "corners", [v for x, y in corners for v in (cx + (x - cx) * c - (y - cy) * s,
                                                                   cy + (x - cx) * s + (y - cy) * c)])
