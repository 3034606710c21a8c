"""Runs on a real local Ray cluster (``ray_head`` in conftest.py): submitted, followed to the end,
stopped, re-attached, lost. The jobs run the studio's own training code, shipped in the run package:
nothing of the studio is installed for the head."""

import json
import socket
import time
from pathlib import Path

import pytest

from helpers import TINY_RUN, run_cli

pytest.importorskip("ray", reason="the cluster extra (pip install 'yolo-studio[cluster]') is not installed")

from yolo_studio.training import cluster, launch  # noqa: E402
from yolo_studio.training.cluster_follow import Follower  # noqa: E402
from yolo_studio.training.events import read_events, run_status  # noqa: E402
from yolo_studio.training.run_folder import RunFolder, load_run_checkpoint, prepare_run  # noqa: E402
from yolo_studio.training.run_store import read_results_csv, summarize  # noqa: E402

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _wait_for(predicate, timeout=240, what="it"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_a_run_on_the_cluster_fills_the_run_folder_as_a_local_run_does(ray_head, tmp_path, tiny_dataset):
    project = tmp_path / "project"
    done = run_cli("train", "--model", RESOURCES / "models" / "yolo11n-se.yaml", "--modules", RESOURCES / "modules",
                   "--data", tiny_dataset, "--project", project, "--name", "remote", "--cluster", ray_head,
                   *(f"{k}={v}" for k, v in TINY_RUN.items()), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "[cluster] " + ray_head in out and "[software] PyTorch" in out and "goes with the job" in out
    assert "epoch 2/2" in out and "Run completed" in out
    run = RunFolder(project / "runs" / "remote")
    events = read_events(run.events)
    assert events[0]["type"] == "cluster_job" and run_status(events) == "completed"
    start = next(e for e in events if e["type"] == "run_start")
    assert start["save_dir"] == str(run.path) and start["cluster_job"] == events[0]["job_id"]  # the project's paths
    epochs = [e for e in events if e["type"] == "epoch_end"]
    rows = read_results_csv(run.results_csv)
    assert len(epochs) == len(rows) == 2
    for event, row in zip(epochs, rows):
        for key, value in event["metrics"].items():
            assert row[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    model = load_run_checkpoint(run.best)  # the custom blocks travel with the run
    assert any(type(m).__name__ == "SEAttention" for m in model.modules())
    assert "Ultralytics" in run.log.read_text() and "@@yolo-studio@@" not in run.log.read_text()
    listed = run_cli("runs", "--project", project, "--json")
    assert json.loads(listed.stdout.splitlines()[0])["status"] == "completed"
    assert summarize(run.path).epochs_done == 2


def _submitted(project, tiny_dataset, address, name, epochs):
    run = prepare_run(RESOURCES / "models" / "yolo11n-demo.yaml", tiny_dataset, project / "runs", name,
                      {**TINY_RUN, "epochs": epochs, "imgsz": 32})
    cluster.submit(run, cluster.Cluster("test", address))
    return run


def test_stop_after_the_batch_then_reattach_and_resume(ray_head, tmp_path, tiny_dataset):
    """Stop asks the job to end after the batch (the run is resumable); following again after the studio
    was closed neither loses nor repeats anything; a run stopped on the cluster resumes here, where it left off."""
    run = _submitted(tmp_path, tiny_dataset, ray_head, "stopped", epochs=2000)  # runs until stopped
    follower = Follower(run)
    follower.start()
    _wait_for(lambda: any(e["type"] == "epoch_end" for e in read_events(run.events)), what="the first epoch")
    follower.stop_following()  # the studio closes; the job goes on
    follower.join(timeout=60)
    assert run_status(read_events(run.events)) == "running"
    seen = len(read_events(run.events))
    again = Follower(run)  # the studio opens again
    again.start()
    _wait_for(lambda: len(read_events(run.events)) > seen + 1, what="new events after re-attaching")
    cluster.request_stop(run)
    again.join(timeout=120)
    if again.is_alive():  # the stop did not arrive: end the job, so it does not train through the rest of the suite
        cluster.stop_job(run)
        again.join(timeout=60)
    events = read_events(run.events)
    assert run_status(events) == "stopped" and events[-1]["type"] == "run_end"
    epochs = [e["epoch"] for e in events if e["type"] == "epoch_end"]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) < 2000  # nothing twice, nothing lost
    assert run.last.exists()
    process = launch.start(run, resume=True)  # here, from the checkpoint made there
    _wait_for(lambda: len([e for e in read_events(run.events) if e["type"] == "epoch_end"]) > len(epochs),
              what="an epoch resumed here")
    launch.request_stop(run)
    assert process.wait(timeout=300) == 0
    resumed = [e["epoch"] for e in read_events(run.events) if e["type"] == "epoch_end"][len(epochs):]
    assert resumed[0] == epochs[-1] + 1 and run_status(read_events(run.events)) == "stopped"


def test_the_second_stop_ends_the_job_at_once_and_a_forgotten_job_is_lost(ray_head, tmp_path, tiny_dataset):
    run = _submitted(tmp_path, tiny_dataset, ray_head, "killed", epochs=200)
    follower = Follower(run)
    follower.start()
    _wait_for(lambda: any(e["type"] == "run_start" for e in read_events(run.events)), what="the start")
    assert cluster.stop_job(run)
    follower.join(timeout=120)
    assert run_status(read_events(run.events)) == "killed"

    lost = RunFolder(tmp_path / "runs" / "lost")  # a job the cluster no longer knows (its head restarted)
    lost.artifacts.mkdir(parents=True)
    info = {**cluster.cluster_info(run), "job_id": "yolo-studio-gone-0000", "applied": {"events": 0, "log": 0}}
    (lost.artifacts / "cluster.json").write_text(json.dumps(info))
    follower = Follower(lost)
    follower.start()
    follower.join(timeout=60)
    events = read_events(lost.events)
    assert run_status(events) == "lost" and "no longer knows" in events[-1]["reason"]


def test_preflight_names_what_is_missing_and_the_mapping_decides_the_upload(ray_head, tmp_path, tiny_dataset):
    small = cluster.Cluster("lab", ray_head, upload_limit_mb=0)
    checks = {topic: (ok, message) for ok, topic, message in cluster.preflight(small, tiny_dataset, gpus=1)}
    assert checks["cluster"][0] and checks["ray"][0] and checks["python"][0] and checks["software"][0]
    assert not checks["gpus"][0] and "0 free now" in checks["gpus"][1]
    assert not checks["dataset"][0] and "over the upload limit of 0 MB" in checks["dataset"][1]
    root = tiny_dataset.parent
    mapped = cluster.Cluster("lab", ray_head, [[str(root.parent), "/mnt/shared"]], upload_limit_mb=0)
    assert cluster.dataset_plan(mapped, tiny_dataset) == {"kind": "yaml", "root": str(root), "limit_mb": 0,
                                                        "mode": "mapped", "node_root": f"/mnt/shared/{root.name}"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        unreachable = cluster.Cluster("off", f"http://127.0.0.1:{s.getsockname()[1]}")  # nothing listens there
    ((ok, topic, message),) = cluster.preflight(unreachable, tiny_dataset, gpus=0)
    assert not ok and topic == "cluster" and "cannot reach the cluster" in message
