"""Dataset validation: a corpus with one planted defect of each kind, each reported with its file and line."""

import shutil

import pytest
from PIL import Image

from helpers import plant_defects

from yolo_studio.core.data.dataset_validate import validate
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.data.yolo_labels import check_line, parse_line


@pytest.fixture
def clean(tmp_path):
    return generate(tmp_path / "shapes", train=12, val=4, imgsz=64).parent


def test_a_clean_dataset_reports_clean_with_counts_and_statistics(clean):
    report = validate(clean / "data.yaml")
    assert report.clean and report.summary() == "clean: no problems found"
    assert report.task == "detect" and report.names == ["square", "circle", "triangle"]
    assert report.splits["train"]["images"] == 12 and report.splits["val"]["labels"] == 4
    train_boxes = sum(len(p.read_text().splitlines()) for p in (clean / "labels" / "train").glob("*.txt"))
    assert sum(report.class_counts["train"]) == report.splits["train"]["instances"] == train_boxes
    assert len(report.box_sizes) == train_boxes + report.splits["val"]["instances"]
    assert validate(clean).clean  # the folder (with its data.yaml) works the same


def test_each_planted_defect_is_reported_with_its_file_and_line(clean):
    planted = plant_defects(clean)
    report = validate(clean / "data.yaml")
    found = {(f.kind, f.file, f.line) for f in report.findings}
    for kind, (file, line) in planted.items():
        assert (kind, str(file), line) in found, (kind, sorted(found))
    assert {f.kind for f in report.findings} == set(planted) | {"malformed"}  # 6 numbers in a detect line
    assert any("6 numbers, expected 'class x y w h'" in f.message for f in report.findings)
    duplicate = next(f for f in report.findings if f.kind == "duplicate_image")
    assert "val_copy.png (val)" in duplicate.message and "inflates the metrics" in duplicate.message
    assert report.errors and {f.severity for f in report.warnings} == {"warning"}
    assert not report.clean and "errors" in report.summary()


def test_progress_is_reported_and_a_cancel_stops_early(clean):
    seen = []
    report = validate(clean / "data.yaml", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (16, 16) and report.clean
    calls = []
    stopped = validate(clean / "data.yaml", cancelled=lambda: calls.append(1) or len(calls) > 3)
    assert stopped.cancelled and stopped.summary() == "validation cancelled" and not stopped.clean


@pytest.mark.parametrize("task, line, kpt, problem", [
    ("detect", "0 0.5 0.5 0.2 0.2", None, None),
    ("detect", "0 0.5 0.5 0.2", None, "malformed"),
    ("detect", "3 0.5 0.5 0.2 0.2", None, "class"),
    ("detect", "0.5 0.5 0.5 0.2 0.2", None, "class"),
    ("detect", "0 1.2 0.5 0.2 0.2", None, "outside"),
    ("segment", "1 0.1 0.1 0.9 0.1 0.5 0.8", None, None),
    ("segment", "1 0.1 0.1 0.9 0.1 0.5", None, "malformed"),
    ("segment", "1 0.1 0.1 0.5 0.5 0.9 0.9", None, "zero_size"),  # three points on a line
    ("segment", "1 0.5 0.5 0.2 0.2", None, None),  # a box line is accepted in a segment dataset
    ("obb", "2 0.1 0.1 0.4 0.1 0.4 0.3 0.1 0.3", None, None),
    ("obb", "2 0.1 0.1 0.4 0.1 0.4 0.3", None, "malformed"),
    ("obb", "2 0.1 0.1 1.4 0.1 0.4 0.3 0.1 0.3", None, "outside"),
    ("pose", "0 0.5 0.5 0.4 0.4 0.4 0.4 2 0.6 0.6 1", [2, 3], None),
    ("pose", "0 0.5 0.5 0.4 0.4 0.4 0.4 2", [2, 3], "malformed"),
    ("pose", "0 0.5 0.5 0.4 0.4 1.4 0.4 2 0.6 0.6 1", [2, 3], "outside"),
    ("pose", "0 0.5 0.5 0.4 0.4 1.4 0.4 0 0.6 0.6 1", [2, 3], None),  # an invisible keypoint may be anywhere
])
def test_label_lines_of_each_task(task, line, kpt, problem):
    result = check_line(parse_line(line), line, task, 3, kpt)
    assert (result[0] if result else None) == problem, result


def _tiny_image(path, colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path)


def test_segment_and_pose_datasets_are_read_in_their_format(tmp_path):
    seg = tmp_path / "seg"
    for split, colour in (("train", (1, 1, 1)), ("val", (2, 2, 2))):
        _tiny_image(seg / "images" / split / "a.png", colour)
        (seg / "labels" / split).mkdir(parents=True)
        (seg / "labels" / split / "a.txt").write_text("0 0.1 0.1 0.9 0.1 0.5 0.8\n")
    (seg / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [blob]\n")
    report = validate(seg)
    assert report.task == "segment" and report.clean and report.splits["train"]["instances"] == 1
    pose = tmp_path / "pose"
    shutil.copytree(seg / "images", pose / "images")
    for split in ("train", "val"):
        (pose / "labels" / split).mkdir(parents=True)
        (pose / "labels" / split / "a.txt").write_text("0 0.5 0.5 0.4 0.4 0.4 0.4 2 0.6 0.6\n")
    (pose / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [person]\nkpt_shape: [2, 3]\n")
    report = validate(pose)
    assert report.task == "pose" and [f.kind for f in report.findings] == ["malformed", "malformed"]
    assert "expected 'class x y w h' + 2 keypoints x 3 values (11 numbers)" in report.findings[0].message


def test_a_classification_folder_reports_images_per_class_and_empty_classes(tmp_path):
    root = tmp_path / "pets"
    for split, name, colour in (("train", "cat", (1, 2, 3)), ("train", "dog", (4, 5, 6)), ("val", "cat", (7, 8, 9))):
        _tiny_image(root / split / name / f"{name}.png", colour)
    (root / "val" / "dog").mkdir()
    report = validate(root)
    assert report.task == "classify" and report.names == ["cat", "dog"]
    assert report.class_counts == {"train": [1, 1], "val": [1, 0]}
    assert [(f.kind, f.file) for f in report.findings] == [("empty_class", str(root / "val" / "dog"))]


def test_a_corrupt_png_is_called_not_an_image_even_with_ultralytics_patching_pil(tmp_path):
    import ultralytics.utils.patches  # noqa: F401  (patches PIL.Image.open to retry with a HEIF plugin)

    from yolo_studio.core.data.demo_dataset import generate
    from yolo_studio.core.data.dataset_validate import validate as validate_dataset

    data = generate(tmp_path / "shapes", train=3, val=1, imgsz=32)
    image = sorted((data.parent / "images" / "train").glob("*"))[0]
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    report = validate_dataset(data)
    finding = next(f for f in report.findings if f.file == str(image))
    assert "pi_heif" not in finding.message
    assert "damaged" in finding.message or "not an image" in finding.message
