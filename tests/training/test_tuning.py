"""Hyperparameter tuning: three real trials here (Ultralytics' Tuner) and on a real local Ray cluster
(Ray Tune with ASHA), with the custom blocks of the demo model in every trial."""

import csv
import json
import time
from pathlib import Path

import pytest
import yaml

from helpers import run_cli
from yolo_studio.training.events import read_events, run_status
from yolo_studio.training.train_config import parse_overrides
from yolo_studio.training.tuning import best_so_far, default_space, trials

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
TRIAL = ["imgsz=32", "batch=4", "workers=0", "plots=False", "device=cpu"]


def _tune(project, name, data, *extra):
    return run_cli("tune", "--model", RESOURCES / "models" / "yolo11n-se.yaml", "--modules", RESOURCES / "modules",
                   "--data", data, "--project", project, "--name", name, "--iterations", "3",
                   "--only", "lr0,momentum", "--range", "lr0=0.001:0.02", *extra, *TRIAL, timeout=900)


def _check_tuning(run_dir: Path, statuses: set) -> list:
    events = read_events(run_dir / "events.jsonl")
    assert run_status(events) == "completed"
    done = trials(events)
    assert [t["trial"] for t in done] == [1, 2, 3] and {t["status"] for t in done} <= statuses
    for t in done:
        assert set(t["hyperparameters"]) == {"lr0", "momentum"} and 0.001 <= t["hyperparameters"]["lr0"] <= 0.02
    with open(run_dir / "tune_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [1, 2, 3]
    best = yaml.safe_load((run_dir / "best_hyperparameters.yaml").read_text())
    assert set(best) == {"lr0", "momentum"}  # what "Apply best" puts into the Train form
    assert len(best_so_far(events)) == 3
    return events


def test_the_default_space_is_ultralytics_and_a_bad_range_is_a_message(tmp_path, tiny_dataset):
    space = default_space()
    assert space["lr0"] == [1e-5, 1e-2] and "mosaic" in space and len(space) > 20
    done = run_cli("tune", "--model", "m.yaml", "--data", tiny_dataset, "--range", "lr0=fast", "--project", tmp_path)
    assert done.returncode == 1 and "give it as KEY=MIN:MAX" in done.stderr
    done = run_cli("tune", "--model", "m.yaml", "--data", tiny_dataset, "--only", "lr0,speed", "--project", tmp_path)
    assert done.returncode == 1 and "not in the search space: speed" in done.stderr


def test_a_tuning_of_lr0_or_momentum_names_an_optimizer_where_the_form_says_auto():
    """Ultralytics' optimizer=auto picks lr0 and momentum itself ("ignoring 'lr0=...'"): trials that
    differ only there would all train alike (found by hand, in a tuning's log)."""
    from yolo_studio.training.tuning import tuning_optimizer

    assert tuning_optimizer({}, {"lr0": [0.001, 0.01]}) == "AdamW"
    assert tuning_optimizer({"optimizer": "auto"}, {"momentum": [0.6, 0.9], "box": [1, 20]}) == "AdamW"
    assert tuning_optimizer({"optimizer": "SGD"}, {"lr0": [0.001, 0.01]}) is None  # the form's choice stands
    assert tuning_optimizer({}, {"box": [1, 20], "mosaic": [0, 1]}) is None  # nothing auto would override


def test_three_trials_here_through_ultralytics_tuner(tmp_path, tiny_dataset):
    done = _tune(tmp_path, "here", tiny_dataset, "--epochs", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "one after another here (Ultralytics' Tuner)" in done.stdout and "trial 3/3: fitness" in done.stdout
    assert done.stdout.count("Trials train with optimizer=AdamW") == 1
    events = _check_tuning(tmp_path / "runs" / "here", {"completed"})
    assert all(t["epochs"] for t in trials(events))  # each trial's curves, from its results.csv
    assert not list(tmp_path.glob("runs/*/multitrain*"))  # the trials train inside the tuning's folder
    listed = [json.loads(line) for line in run_cli("runs", "--project", tmp_path, "--json").stdout.splitlines()]
    assert [(r["name"], r["status"]) for r in listed] == [("here", "completed")]


def test_three_trials_in_parallel_on_the_cluster_with_asha(ray_head, tmp_path, tiny_dataset):
    pytest.importorskip("ray.tune")
    done = _tune(tmp_path, "there", tiny_dataset, "--epochs", "2", "--cluster", ray_head)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "in parallel on " + ray_head in done.stdout
    events = _check_tuning(tmp_path / "runs" / "there", {"completed", "stopped early (ASHA)"})
    results = [e for e in events if e["type"] == "trial_result"]
    assert {e["trial"] for e in results} == {1, 2, 3} and all(e["epoch"] in (1, 2) for e in results)


def test_a_tuning_stopped_here_runs_its_other_trials_on_the_cluster(ray_head, tmp_path, tiny_dataset):
    """Stop after the first trial here, resume on the cluster: the two trials left run there, numbered 2
    and 3, and the results list all three."""
    pytest.importorskip("ray.tune")
    from yolo_studio.training import launch, tuning
    from yolo_studio.training.run_folder import RunFolder

    settings = tuning.tune_settings({"lr0": [0.001, 0.02]}, iterations=3, epochs=1)
    run = tuning.prepare_tune(RESOURCES / "models" / "yolo11n-se.yaml", tiny_dataset, tmp_path / "runs", "split",
                              parse_overrides(TRIAL), settings, modules_dir=RESOURCES / "modules")
    assert run.spec()["overrides"]["optimizer"] == "AdamW"  # auto would ignore the lr0 tried
    process = launch.start(run)
    deadline = time.monotonic() + 120
    while not any(e["type"] == "run_start" for e in read_events(run.events)):  # the runner clears old requests
        assert time.monotonic() < deadline and process.poll() is None, "the tuning did not start"
        time.sleep(0.2)
    launch.request_stop(run)  # seen after the first trial
    assert process.wait(timeout=600) == 0
    events = read_events(run.events)
    assert run_status(events) == "stopped" and [t["trial"] for t in trials(events)] == [1]
    assert tuning.resumable(RunFolder(run.path))
    done = run_cli("tune", "--resume", run.path, "--cluster", ray_head, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    events = read_events(run.events)
    assert run_status(events) == "completed" and [t["trial"] for t in trials(events)] == [1, 2, 3]
    with open(run.path / "tune_results.csv", newline="") as f:
        assert [int(r["trial"]) for r in csv.DictReader(f)] == [1, 2, 3]  # the studio's, from all events
    assert not tuning.resumable(run)
    again = run_cli("tune", "--resume", run.path)
    assert again.returncode == 1 and "no trials left to run" in again.stdout + again.stderr


def test_ultralytics_tuner_resumes_after_trials_recorded_elsewhere(tmp_path):
    """A cluster's trials, recorded for Ultralytics' Tuner, are where a resumed Tuner starts and what it
    mutates from."""
    import torch

    from yolo_studio.compat.tuning import record_trials, studio_tuner

    space = {"lr0": [0.001, 0.02], "momentum": [0.6, 0.98]}
    recorded = [(0.1, {"lr0": 0.01, "momentum": 0.9}, {"metrics/mAP50(B)": 0.2}),
                (0.3, {"lr0": 0.005, "momentum": 0.8}, {"metrics/mAP50(B)": 0.4})]
    tuner = studio_tuner({"model": "m.yaml", "data": "d.yaml", "project": str(tmp_path), "name": "t"}, space,
                         tmp_path / "t", tmp_path / "trials", lambda record: None, model=torch.nn.Identity())
    (tmp_path / "t").mkdir()
    record_trials(tuner.tune_file, recorded, "d.yaml")
    loaded = tuner._load_local_results()
    assert [r["fitness"] for r in loaded] == [0.1, 0.3] and loaded[1]["hyperparameters"]["lr0"] == 0.005
    mutated = tuner._mutate()
    assert 0.001 <= mutated["lr0"] <= 0.02 and 0.6 <= mutated["momentum"] <= 0.98
    record_trials(tuner.tune_file, recorded, "d.yaml")  # already there: left as it is
    assert len(tuner._load_local_results()) == 2
