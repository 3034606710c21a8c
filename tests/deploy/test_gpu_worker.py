"""GPU jobs run in a worker process (run here on the CPU, where the same code path can be compared with the
studio's own in-process results): the same detections, cancel ends the child, a dead child is a message."""

import pytest

from yolo_studio.core.data.dataset_check import images_in
from yolo_studio.deploy.gpu_worker import PREDICT, run_in_child
from yolo_studio.deploy.predict import predict


def test_the_worker_process_gives_the_same_detections_as_the_studio(trained_project, tiny_dataset, tmp_path):
    weights = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    images = [str(p) for p in images_in(tiny_dataset.parent / "images" / "val")[:3]]
    seen = []
    apart = run_in_child(PREDICT, {"model": str(weights), "sources": images, "conf": 0.001, "iou": 0.7,
                                     "imgsz": 64, "device": "cpu"}, on_item=seen.append)
    here = predict(weights, images, 0.001, 0.7, 64, "cpu")
    assert [r.source for r in seen] == [r.source for r in apart] == [r.source for r in here]
    assert [[o["box"] for o in r.objects] for r in apart] == [[o["box"] for o in r.objects] for r in here]


def test_a_failure_in_the_worker_is_a_message(tmp_path):
    with pytest.raises(ValueError, match="No such file"):  # the message the studio gives in process too
        run_in_child(PREDICT, {"model": str(tmp_path / "missing.pt"), "sources": [str(tmp_path)], "conf": 0.25,
                                 "iou": 0.7, "imgsz": 64, "device": "cpu"})


def test_cancel_ends_the_worker(trained_project, tiny_dataset):
    import time

    weights = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    images = [str(p) for p in images_in(tiny_dataset.parent / "images" / "train")] * 20
    seen = []
    started = time.perf_counter()
    run_in_child(PREDICT, {"model": str(weights), "sources": images, "conf": 0.25, "iou": 0.7, "imgsz": 64,
                             "device": "cpu"}, on_item=seen.append, cancelled=lambda: len(seen) >= 2)
    assert 2 <= len(seen) < len(images) and time.perf_counter() - started < 60


def test_a_hydras_heads_run_in_the_worker_as_in_the_studio(trained_project, tiny_dataset, tmp_path):
    from helpers import run_cli
    from yolo_studio.hydra.model import detect_sources
    from yolo_studio.hydra.store import HydraStore

    from yolo_studio.core.project.projects import create_project

    weights = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    project = create_project(tmp_path / "project")
    done = run_cli("hydra", "extract", "--project", project.root, "cars", "shapes", weights)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    store = project.root / "hydra" / "cars"
    images = [str(p) for p in images_in(tiny_dataset.parent / "images" / "val")[:2]]
    apart = run_in_child("yolo_studio.hydra.model:detect_task", {"store": str(store), "sources": images,
                                                                 "imgsz": 64, "conf": 0.001, "iou": 0.7,
                                                                 "device": "cpu"})
    here = detect_sources(HydraStore(store), images, 64, 0.001, 0.7, "cpu")
    assert [r.source for r in apart] == images
    assert [[o["box"] for o in r.objects] for r in apart] == [[o["box"] for o in r.objects] for r in here]
