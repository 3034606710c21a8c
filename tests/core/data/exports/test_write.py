"""Writing an import: YOLO lines for each task, images linked never moved, nothing left by a cancel, and the
same export found again."""

import json
import os

import pytest
from PIL import Image

from yolo_studio.core.data.exports import read_export
from yolo_studio.core.data.exports.model import Export, Item, Obj
from yolo_studio.core.data.exports.plan import ImportPlan
from yolo_studio.core.data.exports.write import Cancelled, flip_index, link, write


def _coco(folder, n=10, size=(80, 40)):
    (folder / "pics").mkdir(parents=True)
    images, annotations = [], []
    for i in range(n):
        Image.new("RGB", size).save(folder / "pics" / f"v{i % 5}_{i:03d}.jpg")
        images.append({"id": i + 7, "file_name": f"pics/v{i % 5}_{i:03d}.jpg", "width": size[0], "height": size[1]})
        annotations.append({"id": i, "image_id": i + 7, "category_id": 5 if i % 2 else 9, "iscrowd": 0,
                            "bbox": [8, 4, 40, 20], "segmentation": [[8, 4, 48, 4, 48, 24]]})
    (folder / "instances.json").write_text(json.dumps({
        "images": images, "annotations": annotations,
        "categories": [{"id": 9, "name": "nut"}, {"id": 5, "name": "bolt"}]}))
    return folder / "instances.json"


def test_boxes_and_outlines_are_written_normalised_with_ids_in_category_order(tmp_path):
    plan = ImportPlan(read_export(_coco(tmp_path / "export")))
    assert plan.export.task == "segment" and plan.classes() == ["bolt", "nut"]  # ids 5 < 9
    written = write(plan, tmp_path / "ds")
    label = (tmp_path / "ds" / "labels").rglob("v0_000.txt").__next__().read_text().split()
    assert label == ["1", "0.1", "0.1", "0.6", "0.1", "0.6", "0.6"]  # nut (id 9 -> 1); x / 80, y / 40
    plan.export.task = "detect"
    write(plan, tmp_path / "boxes")
    line = next((tmp_path / "boxes" / "labels").rglob("v0_000.txt")).read_text().split()
    assert line == ["1", "0.35", "0.35", "0.5", "0.5"]
    source = tmp_path / "export" / "pics" / "v0_000.jpg"
    inside = next((tmp_path / "ds" / "images").rglob("v0_000.jpg"))
    assert os.path.samefile(source, inside) and written.linked["hard link"] == 10  # linked, not copied
    data = (tmp_path / "ds" / "data.yaml").read_text()
    assert "names:\n  0: bolt\n  1: nut" in data and "train: images/train" in data
    lists = (tmp_path / "ds" / "splits" / "train.txt").read_text()
    assert str(tmp_path / "export" / "pics") in lists  # the split, as lists of the source images


def test_renames_merges_and_drops_change_the_ids(tmp_path):
    plan = ImportPlan(read_export(_coco(tmp_path / "export")), rename={"nut": "part", "bolt": "part"})
    assert plan.classes() == ["part"] and plan.objects_per_class() == {"part": 10}
    plan = ImportPlan(plan.export, drop={"bolt"})
    write(plan, tmp_path / "ds")
    lines = [f.read_text() for f in (tmp_path / "ds" / "labels").rglob("*.txt")]
    assert sum(1 for t in lines if t) == 5 and all(t == "" or t.startswith("0 ") for t in lines)


def test_a_cancelled_import_leaves_nothing_and_the_source_is_untouched(tmp_path):
    plan = ImportPlan(read_export(_coco(tmp_path / "export", n=200)))
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "export").rglob("*")}
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2
    with pytest.raises(Cancelled):
        write(plan, tmp_path / "datasets" / "ds", cancelled=cancelled)
    assert list((tmp_path / "datasets").iterdir()) == []
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "export").rglob("*")} == before


def test_a_link_falls_back_to_a_symbolic_link_then_a_copy(tmp_path, monkeypatch):
    source = tmp_path / "a.jpg"
    source.write_bytes(b"image")

    def refuse(*_args):
        raise OSError("cross-device link")
    monkeypatch.setattr(os, "link", refuse)
    assert link(source, tmp_path / "b.jpg") == "symbolic link" and (tmp_path / "b.jpg").read_bytes() == b"image"
    monkeypatch.setattr(os, "symlink", refuse)
    assert link(source, tmp_path / "c.jpg") == "copied" and (tmp_path / "c.jpg").read_bytes() == b"image"


def test_pose_and_obb_lines(tmp_path):
    Image.new("RGB", (100, 50)).save(tmp_path / "a.png")
    pose = Export("coco", "pose", tmp_path, kpt_shape=[2, 3], keypoint_names=["left_eye", "right_eye"])
    pose.classes = ["person"]
    pose.items = [Item("a.png", tmp_path / "a.png", 100, 50, split="train", objects=[
        Obj("person", "keypoints", [10, 10, 60, 40], [20, 20, 2, 0, 0, 0])])]
    write(ImportPlan(pose), tmp_path / "pose")
    assert (tmp_path / "pose" / "labels" / "train" / "a.txt").read_text().split() == \
        ["0", "0.35", "0.5", "0.5", "0.6", "0.2", "0.4", "2", "0", "0", "0"]
    assert "kpt_shape:\n- 2\n- 3\nflip_idx:\n- 1\n- 0" in (tmp_path / "pose" / "data.yaml").read_text()
    obb = Export("dota", "obb", tmp_path, classes=["ship"], items=[Item("a.png", tmp_path / "a.png", 100, 50,
                 split="train", objects=[Obj("ship", "corners", [10, 10, 90, 10, 90, 40, 10, 40])])])
    write(ImportPlan(obb), tmp_path / "obb")
    assert (tmp_path / "obb" / "labels" / "train" / "a.txt").read_text().split() == \
        ["0", "0.1", "0.2", "0.9", "0.2", "0.9", "0.8", "0.1", "0.8"]


def test_flip_index_from_keypoint_names():
    assert flip_index(["nose", "left_eye", "right_eye"], 3) == [0, 2, 1]
    assert flip_index(None, 3) is None


def test_a_damaged_export_gets_a_message_naming_the_file_not_a_traceback(tmp_path):
    from yolo_studio.core.data.exports import NotAnExport

    damaged = tmp_path / "coco.json"
    damaged.write_text(json.dumps({"images": [{"file_name": "a.jpg"}], "annotations": [], "categories": []}))
    with pytest.raises(NotAnExport, match=r"coco.json: cannot be read \(the field 'id' is missing\)"):
        read_export(damaged)
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text("<annotation><filename>a.jpg</filename><object><name>x</name>"
                                            "<bndbox><xmin>left</xmin></bndbox></object></annotation>")
    with pytest.raises(NotAnExport, match=r"voc/a.xml: <object> x: cannot be read \(ValueError: could not convert"):
        read_export(tmp_path / "voc")


def test_an_object_in_two_parts_becomes_one_outline_round_both():
    from yolo_studio.core.data.exports.model import join_parts

    left, right = [0, 0, 2, 0, 2, 2, 0, 2], [5, 0, 7, 0, 7, 2, 5, 2]
    outline = join_parts([left, right])
    points = set(zip(outline[0::2], outline[1::2]))
    assert points == set(zip(left[0::2], left[1::2])) | set(zip(right[0::2], right[1::2]))
    assert len(outline) == len(left) + len(right) + 4  # the bridge: one point of each part twice
