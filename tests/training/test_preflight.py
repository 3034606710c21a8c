"""Preflight finds each problem before a training starts, and says what to do."""

import shutil

import pytest

from yolo_studio.core.devices import requested_gpus
from yolo_studio.training.preflight import Plan, free_name, preflight
from yolo_studio.training.train_config import resolve


@pytest.fixture
def dataset(tiny_dataset, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(tiny_dataset.parent, root)
    data = root / "data.yaml"
    data.write_text(data.read_text().replace(str(tiny_dataset.parent.as_posix()), root.as_posix()))
    return data


def plan_for(tmp_path, data, model, name="exp", **overrides):
    resolved = resolve({"epochs": 1, "imgsz": 64, "device": "cpu", **overrides})
    return Plan(model, data, tmp_path / "project" / "runs", name, resolved.config), resolved.problems


def messages(result, topic=None, severity="error"):
    return [c.message for c in result.checks if c.severity == severity and (topic is None or c.topic == topic)]


def test_a_good_plan_passes_with_a_summary(tmp_path, dataset, resources):
    plan, problems = plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml")
    result = preflight(plan, problems)
    assert result.ok, messages(result)
    assert result.task == "detect"
    assert any("3 classes" in m for m in messages(result, "dataset", "ok"))


def test_argument_problems_block_the_start(tmp_path, dataset, resources):
    plan, problems = plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml", lr0=5.0)
    result = preflight(plan, problems)
    assert not result.ok and any("'lr0=5.0'" in m for m in messages(result, "arguments"))


def test_run_name_and_existing_run(tmp_path, dataset, resources):
    model = resources / "models" / "yolo11n-demo.yaml"
    plan, _ = plan_for(tmp_path, dataset, model, name="bad/name")
    assert any("cannot be a run name" in m for m in messages(preflight(plan), "run"))
    plan, _ = plan_for(tmp_path, dataset, model, name="exp")
    (plan.runs_dir / "exp").mkdir(parents=True)
    (plan.runs_dir / "exp" / "events.jsonl").write_text("")
    result = preflight(plan)
    check = next(c for c in result.checks if c.topic == "run")
    assert "already exists" in check.message and check.fix == ("set_name", "exp-2")
    assert free_name(plan.runs_dir, "exp") == "exp-2"


def test_dataset_problems_name_the_file(tmp_path, dataset, resources):
    model = resources / "models" / "yolo11n-demo.yaml"
    root = dataset.parent
    label = sorted((root / "labels" / "train").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.2\n")
    other = sorted((root / "labels" / "train").glob("*.txt"))[1]
    other.write_text("7 0.5 0.5 0.2 0.2\n")
    shutil.rmtree(root / "images" / "val")
    result = preflight(plan_for(tmp_path, dataset, model)[0])
    errors = messages(result, "dataset")
    assert any(f"{label}:1: 4 numbers, expected at least" in m for m in errors), errors
    assert any(f"{other}:1: class 7 is not one of the dataset's 3 classes" in m for m in errors)
    assert any("the val folder" in m and "does not exist" in m for m in errors)
    dataset.write_text("names: [a\n")
    assert any("not valid YAML" in m for m in messages(preflight(plan_for(tmp_path, dataset, model)[0]), "dataset"))
    missing = preflight(plan_for(tmp_path, root / "nope.yaml", model)[0])
    assert any("the dataset file does not exist" in m for m in messages(missing, "dataset"))


def test_images_without_labels_are_an_error(tmp_path, dataset, resources):
    shutil.rmtree(dataset.parent / "labels" / "train")
    result = preflight(plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml")[0])
    assert any("no label files for the train images" in m for m in messages(result, "dataset"))


def test_model_that_does_not_build_or_mismatches_the_dataset(tmp_path, dataset):
    broken = tmp_path / "broken.yaml"
    broken.write_text("nc: 3\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, NoSuchBlock, [32]]\n"
                      "head:\n  - [-1, 1, Detect, [nc]]\n")
    result = preflight(plan_for(tmp_path, dataset, broken)[0])
    assert any("NoSuchBlock" in m for m in messages(result, "model"))
    wrong_nc = tmp_path / "nc80.yaml"
    wrong_nc.write_text("nc: 80\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [32, 3, 2]]\n"
                        "head:\n  - [[1], 1, Detect, [nc]]\n")
    result = preflight(plan_for(tmp_path, dataset, wrong_nc)[0])
    check = next(c for c in result.checks if c.topic == "model" and c.severity == "warning")
    assert "nc=80" in check.message and check.fix == ("set_nc", 3)
    assert result.ok  # a warning does not block


def test_cuda_asked_without_cuda(tmp_path, dataset, resources):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    plan, _ = plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml", device=0)
    check = next(c for c in preflight(plan).checks if c.topic == "device")
    assert check.severity == "error" and "no CUDA device" in check.message and check.fix == ("set_device", "cpu")


@pytest.mark.parametrize("batch, rect, expected", [
    (-1, False, [("AutoBatch) cannot be used with 2 GPUs", ("set_arg", ("batch", 32)))]),
    (0.7, False, [("AutoBatch) cannot be used with 2 GPUs", ("set_arg", ("batch", 32)))]),
    (15, False, [("cannot be split evenly over 2 GPUs", ("set_arg", ("batch", 16)))]),
    (32, True, [("rect=True cannot be used with 2 GPUs", ("set_arg", ("rect", False)))]),
    (32, False, [])])
def test_several_gpus_get_the_checks_ultralytics_skips_under_the_launcher(tmp_path, dataset, resources, batch, rect,
                                                                           expected):
    """batch=-1 crashed every rank ("batch_size should be a positive integer"): found in a review."""
    plan, _ = plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml", device="0,1", batch=batch,
                       rect=rect)
    found = [(c.message, c.fix) for c in preflight(plan).checks if c.topic == "arguments" and c.severity == "error"]
    assert [(text, fix) for text, fix in expected if any(text in m and f == fix for m, f in found)] == expected
    assert len(found) == len(expected), found


def test_large_cpu_runs_warn(tmp_path, dataset, resources):
    plan, _ = plan_for(tmp_path, dataset, resources / "models" / "yolo11n-demo.yaml", epochs=100000, imgsz=640)
    assert any("may take many hours" in m for m in messages(preflight(plan), "device", "warning"))


def test_requested_gpus():
    assert requested_gpus("0,1") == [0, 1] and requested_gpus([2, 3]) == [2, 3] and requested_gpus(0) == [0]
    assert requested_gpus("cpu") == [] and requested_gpus(None) == [] and requested_gpus("cuda:1") == [1]
    assert requested_gpus("[0, 1]") == [0, 1] and requested_gpus("-1,-1") == [-1, -1] and requested_gpus((0, 1)) == [0, 1]


def test_a_classification_folder_trains_a_classify_model_and_refuses_a_detect_one(tmp_path, tiny_dataset, resources):
    import shutil

    from helpers import shipped_model_yamls
    from yolo_studio.core.data.dataset_check import images_in

    images = images_in(tiny_dataset.parent / "images" / "train")
    folder = tmp_path / "cls"
    for split, chosen in (("train", images[:8]), ("val", images[8:12])):
        for k, image in enumerate(chosen):
            target = folder / split / ("square" if k % 2 else "circle")
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(image, target / image.name)
    cls_model = next(p for p in shipped_model_yamls() if p.stem == "yolo11-cls")
    result = preflight(Plan(cls_model, folder, tmp_path / "runs", "exp", {"imgsz": 32}))
    assert result.ok, [c.message for c in result.errors]
    assert result.task == "classify"
    assert any("2 classes" in c.message and "train: 8 images" in c.message for c in result.checks)
    detect = preflight(Plan(resources / "models" / "yolo11n-demo.yaml", folder, tmp_path / "runs", "exp", {}))
    assert any("is a detect model but cls is a classification folder" in c.message for c in detect.errors)
    assert not any("Is a directory" in c.message for c in detect.checks)


def test_a_detect_model_on_outlines_or_rotated_boxes_is_told_what_it_keeps():
    from types import SimpleNamespace

    from yolo_studio.training.preflight import task_narrowing

    said = task_narrowing("detect", "yolo11n.yaml", SimpleNamespace(task="obb"))
    assert "upright boxes around the rotated boxes" in said and "-obb model" in said
    assert "-seg model" in task_narrowing("detect", "yolo11n.yaml", SimpleNamespace(task="segment"))
    assert task_narrowing("detect", "yolo11n.yaml", SimpleNamespace(task="detect")) is None
    assert task_narrowing("obb", "yolo11n-obb.yaml", SimpleNamespace(task="obb")) is None
