"""The libraries compared by compare_converters.py, each behind one function: ``run_<library>(case)`` loads or
converts a corpus case with the library's documented public API and returns the images and the objects per
class name it found (plus notes on what it kept or lost). A library that cannot read a format raises
``NotSupported``; helpers for the layouts each library wants live here too.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
LIBRARIES = ["ours", "ultralytics", "supervision", "globox", "datumaro"]


class NotSupported(Exception):
    pass


def scratch(prefix: str) -> Path:
    """A temporary folder, removed when the script ends."""
    import atexit
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def read_yaml(path: Path) -> dict:
    try:
        import yaml
    except ImportError:
        raise SystemExit("PyYAML is needed to read expected.yaml (pip install pyyaml)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def library_version(name: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def importable(name: str) -> bool:
    if name == "ours":
        try:
            __import__("yolo_studio.core.data.exports")
            return True
        except Exception:
            return False
    try:
        __import__({"ultralytics": "ultralytics.data.converter"}.get(name, name))
        return True
    except Exception:
        return False


@contextlib.contextmanager
def quiet():
    """Libraries print progress bars and warnings; the table is what this script prints."""
    logging.disable(logging.CRITICAL)
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        try:
            yield caught
        finally:
            logging.disable(logging.NOTSET)


# ----------------------------------------------------------------------------------------------- layouts

def files_under(path: Path, suffixes) -> list:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def coco_files(pick: Path) -> list:
    """(json, its image folder, its data) for every COCO annotation file under the pick. The image folder is
    where the first image's file_name is found: the one thing a user of any library must know."""
    out = []
    for js in files_under(pick, {".json"}):
        data = json.loads(js.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
            continue
        folder = js.parent
        if data["images"]:
            name = data["images"][0]["file_name"]
            hits = [p for p in pick.rglob(Path(name).name) if p.as_posix().endswith(name)]
            folder = Path(str(hits[0])[: -len(name)]) if hits else js.parent
        out.append((js, folder, data))
    return out


def voc_dirs(pick: Path) -> tuple:
    ann = next((p for p in pick.rglob("Annotations") if p.is_dir()), None)
    if ann is None:
        return pick, pick
    return ann, ann.parent / "JPEGImages"


def yolo_layout(case_format: str, pick: Path) -> tuple:
    """(images folder, labels folder, class names) of the darknet and YOLO-folder cases."""
    if case_format == "darknet":
        names = (pick / "obj.names").read_text(encoding="utf-8").split()
        folder = next(p for p in pick.iterdir() if p.is_dir() and p.name.startswith("obj_"))
        return folder, folder, names
    names = [n.strip() for n in (pick / "classes.txt").read_text(encoding="utf-8").splitlines() if n.strip()]
    return pick / "images", pick / "labels", names


def present(paths) -> tuple:
    paths = list(paths)
    return sum(1 for p in paths if Path(p).is_file()), sum(1 for p in paths if not Path(p).is_file())


# ----------------------------------------------------------------------------------------------- adapters
# Each adapter returns a dict: images (present images the library yields), missing_kept (listed-but-absent
# images it yields without complaint), objects (Counter of trainable objects per class name, as returned),
# filtered (Counter after dropping what the library flags as crowd/difficult; None when it flags nothing),
# geometry (None when the task's geometry is kept, else what is lost), notes, call.

def run_ours(case: dict) -> dict:
    from yolo_studio.core.data.exports import read_export
    from yolo_studio.core.data.exports.plan import ImportPlan
    export = read_export(case["pick"])
    preview = ImportPlan(export).preview()
    objects = Counter({c["name"]: c["objects"] for c in preview["classes"] if c["objects"]})
    notes = [f"skipped {dict((k, v['count']) for k, v in preview['skipped'].items())}"] if preview["skipped"] else []
    return {"images": preview["images"], "missing_kept": 0, "missing_reported": len(preview["missing"]),
            "objects": objects, "filtered": None, "geometry": None, "notes": notes,
            "call": "read_export(pick); ImportPlan(export).preview()"}


def run_ultralytics(case: dict) -> dict:
    from ultralytics.data.converter import convert_coco, convert_dota_to_yolo_obb
    fmt, task, pick = case["format"], case["task"], case["pick"]
    tmp = Path(tempfile.mkdtemp(prefix="cmp_ul_"))
    try:
        if fmt == "refuse":
            if case["pick"].suffix != ".json":
                raise NotSupported("no XML reader")
            with quiet():
                convert_coco(str(pick.parent), save_dir=str(tmp / "out"), cls91to80=False)
            return {"images": 0, "missing_kept": 0, "objects": Counter(), "filtered": None, "geometry": None,
                    "notes": [], "call": "convert_coco"}
        if fmt == "coco":
            objects, label_files, notes, used = Counter(), 0, [], set()
            geometry, default_rows = None, Counter()
            for n, folder in enumerate(sorted({js.parent for js, _, _ in coco_files(pick)})):
                names = {}
                for js, _, data in coco_files(pick):
                    if js.parent == folder:
                        names.update({c["id"]: c["name"] for c in data["categories"]})
                out = tmp / f"out{n}"
                with quiet():
                    convert_coco(str(folder), save_dir=str(out), use_segments=task == "segment",
                                 use_keypoints=task == "pose", cls91to80=False)
                for txt in (out / "labels").rglob("*.txt"):
                    label_files += 1
                    for line in txt.read_text().splitlines():
                        row = line.split()
                        used.add(int(row[0]))
                        objects[names.get(int(row[0]) + 1, f"id{row[0]}")] += 1
                        if task == "segment" and len(row) <= 5:
                            geometry = "polygons lost"
                        if task == "pose" and len(row) < 5 + 3 * case["kpt_shape"][0]:
                            geometry = "keypoints lost"
                try:  # the default, cls91to80=True: COCO's 91 ids mapped to its 80 classes
                    with quiet():
                        convert_coco(str(folder), save_dir=str(tmp / f"default{n}"), use_segments=task == "segment",
                                     use_keypoints=task == "pose")
                    for txt in (tmp / f"default{n}" / "labels").rglob("*.txt"):
                        default_rows.update(int(line.split()[0]) for line in txt.read_text().splitlines())
                except Exception as e:  # noqa: BLE001
                    default_rows["crash"] = _root_cause(e)
            if sorted(used) != list(range(len(used))):
                notes.append(f"class ids are category_id - 1, so {sorted(used)}: empty classes in between")
            if "crash" in default_rows:
                notes.append(f"with the default cls91to80=True: {default_rows['crash']}")
            elif sorted(default_rows) != sorted(used):
                notes.append(f"with the default cls91to80=True the ids are {sorted(default_rows)} (COCO-80 ids)")
            extra = " or kpt_shape" if task == "pose" else ""
            notes.append(f"{label_files} label files; writes no class names, data.yaml{extra}, copies no images "
                         "(names mapped back here from the JSON categories)")
            args = f"use_segments={task == 'segment'}, use_keypoints={task == 'pose'}, cls91to80=False"
            return {"images": None, "missing_kept": 0, "objects": objects, "filtered": None, "geometry": geometry,
                    "notes": notes, "call": f"convert_coco(<folder of the JSON>, {args})"}
        if fmt == "dota":
            import ultralytics
            import yaml
            names = yaml.safe_load((Path(ultralytics.__file__).parent / "cfg/datasets/DOTAv1.yaml")
                                   .read_text())["names"]
            (tmp / "images").mkdir()
            shutil.copytree(pick / "images", tmp / "images" / "train")
            shutil.copytree(pick / "labelTxt", tmp / "labels" / "train_original")
            (tmp / "images" / "val").mkdir()
            (tmp / "labels" / "val_original").mkdir()
            with quiet():
                convert_dota_to_yolo_obb(str(tmp))
            objects, files = Counter(), 0
            for txt in (tmp / "labels" / "train").glob("*.txt"):
                files += 1
                for line in txt.read_text().splitlines():  # DOTAv1.yaml says "small vehicle", DOTA "small-vehicle"
                    objects[names[int(line.split()[0])].replace(" ", "-")] += 1
            return {"images": files, "missing_kept": 0, "objects": objects, "filtered": None, "geometry": None,
                    "notes": ["needs images/train + labels/train_original (copied here); the 'difficult' column "
                              "is ignored; fixed DOTA class table (a label outside it raises KeyError)"],
                    "call": "convert_dota_to_yolo_obb(<root>)"}
        raise NotSupported(f"no {fmt} converter")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_supervision(case: dict) -> dict:
    import supervision as sv
    fmt, task, pick = case["format"], case["task"], case["pick"]
    notes, call = [], ""

    def count(datasets) -> dict:
        objects, filtered, crowd, paths, geometry = Counter(), Counter(), 0, [], None
        for ds in datasets:
            for path, det in ds.annotations.items():
                paths.append(path)
                flags = det.data.get("iscrowd") if det.data else None
                for i, cid in enumerate(det.class_id):
                    name = ds.classes[cid]
                    objects[name] += 1
                    if flags is not None and flags[i]:
                        crowd += 1
                    else:
                        filtered[name] += 1
                if task == "segment" and len(det) and det.mask is None:
                    geometry = "polygons lost"
        if task == "pose":
            geometry = "keypoints lost (DetectionDataset holds boxes and masks only)"
        images, missing = present(paths)
        return {"images": images, "missing_kept": missing, "objects": objects,
                "filtered": filtered if crowd else None, "geometry": geometry,
                "flag": f"{crowd} crowd kept, flagged in Detections.data['iscrowd']" if crowd else None}

    if fmt == "refuse":
        if pick.suffix == ".json":
            sv.DetectionDataset.from_coco(str(pick.parent), str(pick))
            return {"images": 0, "missing_kept": 0, "objects": Counter(), "filtered": None, "geometry": None,
                    "notes": [], "call": "from_coco"}
        sv.DetectionDataset.from_pascal_voc(str(pick.parent), str(pick.parent))
        return {"images": 0, "missing_kept": 0, "objects": Counter(), "filtered": None, "geometry": None,
                "notes": [], "call": "from_pascal_voc"}
    with quiet() as caught:
        if fmt == "coco":
            datasets, used, cats = [], set(), {}
            for js, folder, data in coco_files(pick):
                datasets.append(sv.DetectionDataset.from_coco(str(folder), str(js), force_masks=task == "segment"))
                cats.update({c["id"]: c["name"] for c in data["categories"]})
                used |= {a["category_id"] for a in data["annotations"]}
            unused = [name for i, name in sorted(cats.items()) if i not in used]
            if unused:
                notes.append(f"categories no annotation uses stay classes: {unused}")
            call = "DetectionDataset.from_coco(<image folder>, <json>) per JSON"
        elif fmt == "voc":
            ann, img = voc_dirs(pick)
            datasets = [sv.DetectionDataset.from_pascal_voc(str(img), str(ann))]
            call = "DetectionDataset.from_pascal_voc(<JPEGImages>, <Annotations>)"
            notes.append("difficult objects kept, no flag")
        elif fmt in ("darknet", "yolo_folder"):
            images, labels, names = yolo_layout(fmt, pick)
            yaml_path = scratch("cmp_sv_") / "data.yaml"
            yaml_path.write_text("names:\n" + "".join(f"  - {n}\n" for n in names))
            datasets = [sv.DetectionDataset.from_yolo(str(images), str(labels), str(yaml_path))]
            call = "DetectionDataset.from_yolo(<images>, <labels>, <data.yaml>)"
            notes.append("glue: a data.yaml written from " + ("obj.names" if fmt == "darknet" else "classes.txt"))
        elif fmt == "labelme":
            datasets = [sv.DetectionDataset.from_labelme(str(pick), str(pick), force_masks=task == "segment")]
            call = "DetectionDataset.from_labelme(<folder>, <folder>, force_masks=True)"
        elif fmt == "class_folders":
            ds = sv.ClassificationDataset.from_folder_structure(str(pick))
            objects = Counter(ds.classes[c.class_id[0]] for c in ds.annotations.values())
            images, missing = present(ds.annotations)
            return {"images": images, "missing_kept": missing, "objects": objects, "filtered": None,
                    "geometry": None, "notes": [],
                    "call": "ClassificationDataset.from_folder_structure(<folder>)"}
        else:
            raise NotSupported(f"no {fmt} reader")
    result = count(datasets)
    skipped_types = sorted({t for w in caught for t in _shape_types(str(w.message))})
    if skipped_types:
        notes.append(f"warns and drops shape types {skipped_types}")
    if result.pop("flag"):
        notes.insert(0, "crowd kept, flagged in Detections.data['iscrowd']")
    return dict(result, notes=notes, call=call)


def _shape_types(message: str) -> list:
    if "shape type" not in message or "[" not in message:
        return []
    return [t.strip(" '") for t in message.split("[", 1)[1].split("]", 1)[0].split(",")]


def run_globox(case: dict) -> dict:
    from globox import AnnotationSet
    fmt, task, pick = case["format"], case["task"], case["pick"]
    notes = []
    geometry = {"segment": "polygons lost (boxes only)", "pose": "keypoints lost (boxes only)",
                "obb": "rotation lost"}.get(task)

    def result(sets, image_dirs=None, call=""):
        objects, names = Counter(), []
        for s in sets:
            for ann in s:
                names.append(ann.image_id)
                objects.update(b.label for b in ann.boxes)
        images, missing = len(names), 0
        if image_dirs:
            paths = [next((d / n for d in image_dirs if (d / n).is_file()), image_dirs[0] / n) for n in names]
            images, missing = present(paths)
        return {"images": images, "missing_kept": missing, "objects": objects, "filtered": None,
                "geometry": geometry, "notes": notes, "call": call}

    with quiet():
        if fmt == "refuse":
            loader = AnnotationSet.from_coco if pick.suffix == ".json" else AnnotationSet.from_cvat
            return result([loader(pick)], call=loader.__name__)
        if fmt == "coco":
            files = coco_files(pick)
            if any(a.get("iscrowd") for _, _, d in files for a in d["annotations"]):
                notes.append("crowd kept, no flag")
            return result([AnnotationSet.from_coco(js) for js, _, _ in files], [f for _, f, _ in files],
                          "AnnotationSet.from_coco(<json>) per JSON")
        if fmt == "voc":
            ann, img = voc_dirs(pick)
            notes.append("difficult objects kept, no flag")
            return result([AnnotationSet.from_pascal_voc(ann)], [img], "AnnotationSet.from_pascal_voc(<Annotations>)")
        if fmt == "cvat":
            return result([AnnotationSet.from_cvat(pick / "annotations.xml")], [pick / "images"],
                          "AnnotationSet.from_cvat(<annotations.xml>)")
        if fmt == "labelme":
            return result([AnnotationSet.from_labelme(pick, include_poly=True)], [pick],
                          "AnnotationSet.from_labelme(<folder>, include_poly=True)")
        if fmt in ("darknet", "yolo_folder"):
            images, labels, names = yolo_layout(fmt, pick)
            s = AnnotationSet.from_yolo_darknet(labels, image_folder=images)
            s = s.map_labels({str(i): n for i, n in enumerate(names)})
            notes.append("glue: map_labels from " + ("obj.names" if fmt == "darknet" else "classes.txt")
                         + " (labels are the ids as strings)")
            return result([s], [images], "AnnotationSet.from_yolo_darknet(<labels>, image_folder=<images>)")
    raise NotSupported(f"no {fmt} reader")


DATUMARO_FORMAT = {"voc": "voc_detection", "cvat": "cvat", "darknet": "yolo", "yolo_folder": "yolo",
                   "dota": "dota", "class_folders": "imagenet"}
DATUMARO_UNSUPPORTED = {"labelme": "only the LabelMe XML format ('label_me'), not LabelMe JSON",
                        "label_studio": "no Label Studio reader"}


def run_datumaro(case: dict) -> dict:
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType
    fmt, task, pick = case["format"], case["task"], case["pick"]
    if fmt in DATUMARO_UNSUPPORTED:
        raise NotSupported(DATUMARO_UNSUPPORTED[fmt])
    notes = []
    with quiet():
        if fmt in ("coco", "refuse"):
            where = pick if pick.is_dir() else pick.parent
            name = dm.Dataset.detect(str(where))  # raises NoMatchingFormatsError for a non-export
        else:
            where, name = pick, DATUMARO_FORMAT[fmt]
        ds = dm.Dataset.import_from(str(where), name)
        items = list(ds)
    call = f"Dataset.import_from(<pick>, '{name}')" + (" (format from Dataset.detect)" if fmt == "coco" else "")
    labels = ds.categories().get(AnnotationType.label)
    names = [lab.name for lab in labels] if labels else []
    trainable = {AnnotationType.bbox, AnnotationType.polygon, AnnotationType.mask}
    if hasattr(AnnotationType, "rotated_bbox"):
        trainable.add(AnnotationType.rotated_bbox)
    seen, objects, filtered, flagged, paths, kinds = set(), Counter(), Counter(), Counter(), [], set()
    untrained = Counter()
    for item in items:
        if item.id in seen:  # VOC's trainval subset repeats train and val
            if "repeats" not in " ".join(notes):
                notes.append(f"subsets {sorted(ds.subsets())}: trainval repeats train + val (counted once here)")
            continue
        seen.add(item.id)
        paths.append(getattr(item.media, "path", None) or "")
        if fmt == "class_folders":
            for a in item.annotations:
                objects[names[a.label]] += 1
            continue
        groups = {}
        for a in item.annotations:
            if a.type not in trainable and not (task == "pose" and a.type == AnnotationType.points):
                untrained[a.type.name] += 1
                continue
            key = ("g", a.group) if a.group else ("a", id(a))
            groups.setdefault(key, []).append(a)
        for anns in groups.values():
            label = names[anns[0].label]
            objects[label] += 1
            kinds.update(a.type for a in anns)
            flags = [k for a in anns for k, v in a.attributes.items()
                     if k in ("is_crowd", "difficult", "difficulty") and v not in (False, 0, "0", None)]
            points = [a for a in anns if a.type == AnnotationType.points]
            if task == "pose" and not flags and points and not any(v.value for v in points[0].visibility):
                flags = ["no visible keypoint"]
            if flags:
                flagged[flags[0]] += 1
            else:
                filtered[label] += 1
    geometry = None
    if task == "segment" and not kinds & {AnnotationType.polygon, AnnotationType.mask}:
        geometry = "polygons lost"
    if task == "pose" and AnnotationType.points not in kinds:
        geometry = "keypoints lost"
    if flagged:
        notes.insert(0, "kept, with a flag to filter on: " + ", ".join(f"{n} {k}" for k, n in flagged.items()))
    if untrained:
        notes.append("also returns " + ", ".join(f"{n} {k}" for k, n in sorted(untrained.items())))
    images, missing = present(paths)
    return {"images": images, "missing_kept": missing, "objects": objects,
            "filtered": filtered if flagged else None, "geometry": geometry, "notes": notes, "call": call}


def datumaro_fix(case: dict) -> tuple | None:
    """After datumaro fails at the pick: the smallest change of layout that makes it read the export (made in
    a temporary copy), so the table can say what it would take. None where no layout change helps."""
    fmt, pick = case["format"], case["pick"]
    tmp = scratch("cmp_dm_")
    if fmt == "dota":
        return "picking the folder above (it wants <subset>/images and <subset>/labelTxt)", pick.parent
    if fmt == "class_folders":
        shutil.copytree(pick, tmp / "x", ignore=lambda d, names: [n for n in names if Path(d) == pick
                                                                   and (pick / n).is_file()])
        return "removing the non-image files at the root (LICENSE.txt)", tmp / "x"
    if fmt == "yolo_folder":
        shutil.copytree(pick, tmp / "x")
        (tmp / "x" / "classes.txt").rename(tmp / "x" / "obj.names")
        return "renaming classes.txt to obj.names", tmp / "x"
    if fmt == "voc":
        for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
            (tmp / "x" / sub).mkdir(parents=True)
        stems = []
        for f in pick.iterdir():
            if f.suffix == ".xml":
                shutil.copy(f, tmp / "x" / "Annotations")
                stems.append(f.stem)
            elif f.suffix.lower() in IMAGE_EXTS:
                shutil.copy(f, tmp / "x" / "JPEGImages")
        (tmp / "x" / "ImageSets/Main/train.txt").write_text("".join(f"{s}\n" for s in sorted(stems)))
        import xml.etree.ElementTree as ET
        labels = sorted({o.findtext("name") for f in (tmp / "x" / "Annotations").iterdir()
                         for o in ET.parse(f).getroot().iter("object")})
        (tmp / "x" / "labelmap.txt").write_text("".join(f"{n}:::\n" for n in labels))  # else: VOC's 20 only
        return ("moving it into Annotations/, JPEGImages/, an ImageSets/Main/train.txt list and a labelmap.txt "
                "(without one only VOC's 20 class names are accepted)", tmp / "x")
    if fmt == "coco" and not (pick / "images").is_dir():
        shutil.copytree(pick, tmp / "x")
        (tmp / "x" / "images").mkdir()
        for folder in sorted({f for _, f, _ in coco_files(tmp / "x")}):
            if folder.resolve() != (tmp / "x").resolve():
                folder.rename(tmp / "x" / "images" / folder.name)
        return "moving the image folders under images/", tmp / "x"
    shutil.rmtree(tmp)
    return None


FIXES = {"datumaro": datumaro_fix}


ADAPTERS = {"ours": run_ours, "ultralytics": run_ultralytics, "supervision": run_supervision,
            "globox": run_globox, "datumaro": run_datumaro}


def _root_cause(exc: BaseException) -> str:
    chain = [exc]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    last = chain[-1]
    message = sanitise(" ".join(str(last).split()))
    return f"{type(last).__name__}: {message[:200]}"


def sanitise(text: str) -> str:
    """No machine's paths in the table: the corpus relative to the repository, temporary copies as <copy>."""
    import re
    text = text.replace(str(ROOT) + os.sep, "")
    return re.sub(r"(/private)?" + re.escape(tempfile.gettempdir()) + r"/cmp_[^/\s']*(/x)?", "<copy>", text)
