"""Benchmark: runs on a Ray cluster against the same runs on this computer, side by side.

Run: ``.venv/bin/python benchmarks/bench_cluster.py [--rounds N] [--json]`` (needs the cluster extra).
Starts a local Ray cluster on this machine (``training.local_cluster``: a head without CPUs and two
worker nodes of one Ray CPU each, so jobs and trials run on the workers, as on a lab's cluster) and
measures, alternating local and cluster in each round:

- **submission to first event**: from the user's Start (``launch.start`` here, ``cluster.submit`` there)
  to the run's first event in the project's run folder (what the Monitor shows first), and to its
  first finished epoch;
- **per-epoch time once started**: the median ``epoch_time`` of epochs 2.. of the same training
  (demo model, 64 px, 64 images) here and on the cluster; target: cluster <= 1.05x local;
- **tune trials per hour**: the same 4-trial tuning (2 epochs each) here (Ultralytics' Tuner, one
  trial after another) and on the cluster (Ray Tune, a trial on each worker node at a time).

Prints Markdown for docs/PERFORMANCE.md, or with ``--json`` one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
TRAINING = {"epochs": 5, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "device": "cpu"}
TUNE = {"iterations": 4, "epochs": 2}


def _events(run) -> list:
    from yolo_studio.training.events import read_events

    return read_events(run.events)


def _wait(run, done, timeout=1800.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run.path.name} did not finish in {timeout:.0f} s")
        time.sleep(0.05)


def _first(run, kind: str) -> bool:
    return any(e["type"] == kind for e in _events(run))


def one_training(where: str, address: str, runs_dir: Path, data: Path, name: str) -> dict:
    """Start one training here or on the cluster; time to its first event and first epoch; epoch times."""
    from yolo_studio.training import cluster, launch
    from yolo_studio.training.cluster_follow import Follower
    from yolo_studio.training.run_folder import prepare_run

    run = prepare_run(MODEL, data, runs_dir, name, dict(TRAINING))
    started = time.monotonic()
    if where == "local":
        process = launch.start(run)
        ended = lambda: process.poll() is not None  # noqa: E731
    else:
        cluster.submit(run, cluster.Cluster("bench", address))
        follower = Follower(run)
        follower.start()
        ended = lambda: not follower.is_alive()  # noqa: E731
    _wait(run, lambda: _first(run, "run_start") or ended())
    first_event = time.monotonic() - started
    _wait(run, lambda: _first(run, "epoch_end") or ended())
    first_epoch = time.monotonic() - started
    _wait(run, ended)
    epochs = [e["epoch_time"] for e in _events(run) if e["type"] == "epoch_end"]
    return {"where": where, "first_event_s": round(first_event, 2), "first_epoch_s": round(first_epoch, 2),
            "epoch_s": round(statistics.median(epochs[1:] or epochs), 3), "total_s": round(time.monotonic() - started, 1)}


def one_tuning(where: str, address: str, runs_dir: Path, data: Path, name: str) -> dict:
    from yolo_studio.training import cluster, launch, tuning
    from yolo_studio.training.cluster_follow import Follower

    space = {k: v for k, v in tuning.default_space().items() if k in ("lr0", "momentum", "weight_decay")}
    settings = tuning.tune_settings(space, TUNE["iterations"], TUNE["epochs"])
    run = tuning.prepare_tune(MODEL, data, runs_dir, name, {k: v for k, v in TRAINING.items() if k != "epochs"},
                              settings)
    started = time.monotonic()
    if where == "local":
        process = launch.start(run)
        _wait(run, lambda: process.poll() is not None)
    else:
        cluster.submit(run, cluster.Cluster("bench", address))
        follower = Follower(run)
        follower.start()
        _wait(run, lambda: not follower.is_alive())
    elapsed = time.monotonic() - started
    done = len(tuning.trials(_events(run)))
    return {"where": where, "trials": done, "elapsed_s": round(elapsed, 1), "trials_per_hour": round(done * 3600 / elapsed)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating local/cluster rounds of the training")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("YOLO_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-cluster-home-"))
    import torch

    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.core.data.demo_dataset import generate
    from yolo_studio.training.local_cluster import LocalCluster

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    data = generate(work / "data", train=64, val=16, imgsz=64, seed=3)
    trainings, tunings = [], []
    with LocalCluster(cpus=0, workers=2, worker_cpus=1, log_dir=work) as local:
        for i in range(args.rounds):
            for where in (("local", "cluster") if i % 2 == 0 else ("cluster", "local")):
                trainings.append(one_training(where, local.address, work / "runs", data, f"train-{where}-{i}"))
        for where in ("local", "cluster"):
            tunings.append(one_tuning(where, local.address, work / "runs", data, f"tune-{where}"))
    if args.json:
        for row in trainings:
            print(json.dumps({"kind": "training", **row}))
        for row in tunings:
            print(json.dumps({"kind": "tuning", **row}))
        return

    def median(where, key):
        return statistics.median(r[key] for r in trainings if r["where"] == where)

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}; local Ray cluster: "
          f"a head and 2 worker nodes of 1 CPU each on this machine; medians of {args.rounds} rounds\n")
    print("| measure | this computer | cluster | cluster / local |\n|---|---|---|---|")
    for key, label in (("first_event_s", "Start to first event (s)"), ("first_epoch_s", "Start to first epoch (s)"),
                       ("epoch_s", "time per epoch once started (s)"), ("total_s", "whole run, 5 epochs (s)")):
        a, b = median("local", key), median("cluster", key)
        print(f"| {label} | {a:g} | {b:g} | {b / a:.2f}x |")
    local, remote = tunings
    print(f"| tune trials per hour ({TUNE['iterations']} trials of {TUNE['epochs']} epochs) | "
          f"{local['trials_per_hour']} | {remote['trials_per_hour']} | "
          f"{remote['trials_per_hour'] / local['trials_per_hour']:.2f}x |")


if __name__ == "__main__":
    main()
