"""Every model task against every dataset task: a pair that cannot train is refused by preflight with a message
that names the model's head and the dataset's label lines; never a traceback (a segment model on a detect dataset
passed preflight and ended in Ultralytics' ValueError). Each task's own pair trains for one epoch."""

import pytest

from helpers import run_cli
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.data.yolo_labels import TRAINS_ON

MODELS = {"detect": "yolo11n.yaml", "segment": "yolo11n-seg.yaml", "pose": "yolo11n-pose.yaml",
          "obb": "yolo11n-obb.yaml", "classify": "yolo11n-cls.yaml"}
TINY = ["epochs=1", "imgsz=32", "batch=4", "workers=0", "device=cpu", "plots=False"]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("tasks")
    return {task: generate(root / task, train=8, val=4, imgsz=64, task=task) for task in MODELS}


def test_preflight_reads_each_datasets_task_from_its_labels(datasets):
    from yolo_studio.core.data.dataset_check import check_dataset

    for task, data in datasets.items():
        report = check_dataset(data)
        assert report.errors == [] and report.task == task, (task, report.errors, report.label_kinds)


@pytest.mark.parametrize("model_task", list(MODELS))
def test_a_model_on_a_dataset_of_another_task_is_refused_with_a_message(model_task, datasets, tmp_path, capsys,
                                                                         monkeypatch):
    from yolo_studio.cli import main

    monkeypatch.setenv("YOLO_VERBOSE", "false")
    for data_task, data in datasets.items():
        if data_task in TRAINS_ON[model_task]:
            continue
        code = main(["train", "--model", MODELS[model_task], "--data", str(data), "--project", str(tmp_path / "p"),
                     "--name", f"{model_task}-on-{data_task}", *TINY])
        out = capsys.readouterr()
        assert code == 1 and "Traceback" not in out.out + out.err, (model_task, data_task, out.err[-2000:])
        refusal = next(line for line in out.out.splitlines() if "preflight error" in line and "[model]" in line)
        assert f" {model_task} model but" in refusal and MODELS[model_task] in refusal, refusal
        if data_task in ("detect", "segment", "obb"):  # the labels' kind and a line to look at
            assert ".txt:1)" in refusal, refusal
        code = main(["tune", "--model", MODELS[model_task], "--data", str(data), "--project", str(tmp_path / "p"),
                     "--iterations", "1", "--epochs", "1", *TINY[1:]])  # the other command that trains a pair
        out = capsys.readouterr()
        assert code == 1 and "Traceback" not in out.out + out.err and f" {model_task} model but" in out.out, \
            (model_task, data_task, out.out[-1500:], out.err[-1500:])


PARTS = {"segment": {"boxes", "class scores", "mask coefficients", "mask prototypes"},
         "obb": {"boxes", "class scores", "angles"}, "pose": {"boxes", "class scores", "keypoints", "keypoint visibility"},
         "classify": {"class probabilities"}}


@pytest.mark.parametrize("task", ["segment", "obb", "pose", "classify"])
def test_each_task_trains_on_its_own_kind_of_dataset_and_exports_verified_onnx(task, datasets, tmp_path):
    import json

    from yolo_studio.core.data.dataset_check import images_in

    done = run_cli("train", "--model", MODELS[task], "--data", datasets[task], "--project", tmp_path / "p",
                   "--name", task, *TINY)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    images = images_in(datasets[task] if task == "classify" else datasets[task].parent / "images" / "val")[:2]
    best = tmp_path / "p" / "runs" / task / "weights" / "best.pt"
    done = run_cli("export", best, "--format", "onnx", "--verify", *images, "--json")  # every output compared
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout[-2000:] + done.stderr[-2000:]
    verification = json.loads(done.stdout.strip().splitlines()[-1])["verification"]
    assert verification["ok"], verification
    assert {p["kind"] for p in verification["parts"]} == PARTS[task], verification
    done = run_cli("val", "--model", tmp_path / "p" / "runs" / task, "--json")  # the data it was trained on
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    from yolo_studio.core.evaluation.store import Evaluation

    evaluation = Evaluation.load(result["folder"])
    assert evaluation.task == task and len(evaluation.images) == 4
    if task == "classify":
        from yolo_studio.core.evaluation.classify import figures

        assert abs(figures(evaluation)["top1"] - result["metrics/accuracy_top1"]) < 1e-6
    else:
        assert {"metrics/mAP50-95(B)", "metrics/mAP50(B)"} <= set(result) and len(evaluation.truth)
        assert (evaluation.folder / "label_suspects.csv").is_file()
