"""Quirks of real exports that a review found the readers getting wrong, each with the input that showed it."""

import base64
import io
import json

from PIL import Image

from yolo_studio.core.data.exports import read_export
from yolo_studio.core.data.exports.model import split_name
from yolo_studio.core.data.exports.plan import ImportPlan
from yolo_studio.core.data.exports.write import fingerprint, write


def _image(path, size=(40, 40), colour=(0, 0, 0)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _coco(path, images, annotations, categories):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def test_each_split_keeps_its_own_image_when_two_splits_use_one_file_name(tmp_path):
    for split, colour in (("train", (255, 0, 0)), ("valid", (0, 0, 255))):
        _image(tmp_path / split / "frame_000000.jpg", colour=colour)
        _coco(tmp_path / split / "_annotations.coco.json", [{"id": 0, "file_name": "frame_000000.jpg", "width": 40,
              "height": 40}], [{"id": 0, "image_id": 0, "category_id": 1, "bbox": [1, 1, 9, 9], "iscrowd": 0}],
              [{"id": 1, "name": "car"}])
    export = read_export(tmp_path)
    assert {i.split: i.image.parent.name for i in export.items} == {"train": "train", "val": "valid"}


def test_a_coco_export_with_images_in_split_folders_is_converted_not_registered(tmp_path):
    from yolo_studio.core.project.dataset_import import import_dataset
    from yolo_studio.core.project.projects import create_project

    for split in ("train", "val"):
        _image(tmp_path / "export" / "images" / split / f"{split}.jpg")
        _coco(tmp_path / "export" / "annotations" / f"instances_{split}.json", [{"id": 1, "file_name": f"{split}.jpg",
              "width": 40, "height": 40}], [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 1, 9, 9],
                                            "iscrowd": 0}], [{"id": 3, "name": "bird"}])
    result = import_dataset(tmp_path / "export", create_project(tmp_path / "project"))
    assert "imported coco export" in result.message and "0: bird" in result.entry.data.read_text()


def test_two_class_folder_exports_are_two_exports(tmp_path):
    for root, classes in (("flowers", ("rose", "tulip")), ("pets", ("cat", "dog"))):
        for c in classes:
            _image(tmp_path / root / c / "1.jpg")
    prints = {fingerprint(ImportPlan(read_export(tmp_path / r))) for r in ("flowers", "pets")}
    assert len(prints) == 2


def test_two_images_of_one_stem_get_two_label_files(tmp_path):
    for name in ("x.jpg", "x.png", "y.jpg"):
        _image(tmp_path / name)
        (tmp_path / name).with_suffix(".txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "classes.txt").write_text("cat\n")
    export = read_export(tmp_path / "classes.txt")
    for item in export.items:  # x.jpg and x.png in one split
        item.split = "val" if item.name == "y.jpg" else "train"
    write(ImportPlan(export), tmp_path / "ds")
    labels = sorted(p.name for p in (tmp_path / "ds" / "labels" / "train").iterdir())
    images = sorted(p.stem for p in (tmp_path / "ds" / "images" / "train").iterdir())
    assert len(labels) == 2 and sorted(p[:-4] for p in labels) == images


def test_a_large_labelme_file_with_masks_is_read(tmp_path):
    _image(tmp_path / "a.jpg", (80, 60))
    mask = io.BytesIO()
    Image.new("L", (300, 300), 255).save(mask, format="PNG", compress_level=0)
    shapes = [{"label": "blob", "points": [[0, 0], [20, 20]], "shape_type": "mask",
               "mask": base64.b64encode(mask.getvalue()).decode()}]
    (tmp_path / "a.json").write_text(json.dumps({"version": "5.5.0", "flags": {}, "shapes": shapes,
                                                "imagePath": "a.jpg", "imageData": None, "imageHeight": 60,
                                                "imageWidth": 80}))
    assert (tmp_path / "a.json").stat().st_size > 65536
    export = read_export(tmp_path)
    assert export.format == "labelme" and [o.label for i in export.items for o in i.objects] == ["blob"]


def test_objects_outside_their_image_are_counted_when_left_out(tmp_path):
    from yolo_studio.core.project.dataset_import import import_dataset
    from yolo_studio.core.project.projects import create_project

    for n in range(4):
        _image(tmp_path / "export" / f"{n}.jpg", (100, 100))
    _coco(tmp_path / "export" / "c.json", [{"id": n, "file_name": f"{n}.jpg", "width": 100, "height": 100}
                                           for n in range(4)],
          [{"id": 1, "image_id": 0, "category_id": 1, "bbox": [120, 10, 30, 30], "iscrowd": 0},
           *({"id": 2 + n, "image_id": n, "category_id": 1, "bbox": [10, 10, 30, 30], "iscrowd": 0} for n in range(4))],
          [{"id": 1, "name": "x"}])
    result = import_dataset(tmp_path / "export" / "c.json", create_project(tmp_path / "p"))
    assert "4 objects" in result.message and "1 objects left out: no area inside their image" in result.message


def test_a_pose_export_leaves_out_classes_without_keypoints(tmp_path):
    _image(tmp_path / "a.jpg", (100, 100))
    path = _coco(tmp_path / "p.json", [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}], [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "iscrowd": 0, "num_keypoints": 1,
         "keypoints": [20, 20, 2]},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 20, 20], "iscrowd": 0}],
        [{"id": 1, "name": "person", "keypoints": ["nose"]}, {"id": 2, "name": "car"}])
    plan = ImportPlan(read_export(path))
    assert plan.export.task == "pose" and plan.classes() == ["person"]
    assert plan.preview()["skipped"]["no_keypoints"]["count"] == 1


def test_a_rotated_cvat_box_keeps_its_angle(tmp_path):
    _image(tmp_path / "images" / "a.jpg", (100, 100))
    (tmp_path / "annotations.xml").write_text(
        "<annotations><version>1.1</version><meta><task><labels><label><name>ship</name></label></labels></task>"
        "</meta><image id='0' name='a.jpg' width='100' height='100'><box label='ship' xtl='20' ytl='40' xbr='80' "
        "ybr='60' rotation='90' occluded='0'/></image></annotations>")
    export = read_export(tmp_path / "annotations.xml")
    corners = export.items[0].objects[0].points
    assert export.task == "obb" and round(min(corners[0::2])) == 40 and round(max(corners[1::2])) == 80


def test_label_studio_finds_the_image_field_the_regions_were_drawn_on(tmp_path):
    _image(tmp_path / "my photo.jpg", (100, 100))
    region = {"type": "rectanglelabels", "to_name": "img", "from_name": "label", "original_width": 100,
              "original_height": 100, "value": {"x": 10, "y": 10, "width": 20, "height": 20,
                                                "rectanglelabels": ["cat"]}}
    tasks = [{"id": 1, "data": {"caption": "a cat", "img": "/data/local-files/?d=pics/my%20photo.jpg"},
              "annotations": [{"id": 1, "completed_by": 1, "result": [region]}]},
             {"id": 2, "data": {"img": "b.jpg"}, "annotations": [{"id": 2, "was_cancelled": True, "result": []}]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    export = read_export(tmp_path / "export.json")
    assert [i.image.name for i in export.items] == ["my photo.jpg"]  # the cancelled-only task is left out
    assert any("left out" in n for n in export.notes)
    minimal = [{"image": "my photo.jpg", "id": 1, "annotator": 1, "annotation_id": 1,
                "bbox": [{"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cat"],
                          "original_width": 100, "original_height": 100}]}]
    (tmp_path / "min.json").write_text(json.dumps(minimal))
    assert [o.label for o in read_export(tmp_path / "min.json").items[0].objects] == ["cat"]


def test_coco_split_files_with_their_own_category_ids_are_joined_by_name(tmp_path):
    for split, ids in (("train", {1: "cat", 2: "dog"}), ("val", {1: "dog", 2: "cat"})):
        _image(tmp_path / split / f"{split}.jpg")
        _coco(tmp_path / split / f"instances_{split}.json", [{"id": 1, "file_name": f"{split}.jpg", "width": 40,
              "height": 40}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9], "iscrowd": 0}],
              [{"id": i, "name": n} for i, n in ids.items()])
    export = read_export(tmp_path)
    assert {i.split: i.objects[0].label for i in export.items} == {"train": "cat", "val": "dog"}


def test_split_names_are_read_by_whole_words():
    assert [split_name(t) for t in ("instances_train2017", "valid", "person_keypoints_val2017", "latest",
                                    "restrain", "evaluation", "test-set")] == \
        ["train", "val", "val", "", "", "", "test"]
