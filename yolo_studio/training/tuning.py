"""Hyperparameter tuning: a tuning is a run folder like any other, trained by the same runner.

``prepare_tune`` writes a run folder whose ``run.yaml`` has a ``tune`` section: the search space
(Ultralytics' default space, ranges edited, parameters switched off), iterations, epochs per trial,
the fitness (Ultralytics' fitness or one metric) and a budget in hours. The runner (``tune_here``)
then tunes instead of training once:

- **On this computer** trials run one after another through Ultralytics' own ``Tuner`` (mutation of
  the best so far), in the supervised training process (``compat/tuning.py``).
- **On a Ray cluster** (the run submitted as for a training, ``training/cluster.py``) trials run in
  parallel on the cluster's CPUs or GPUs through Ray Tune, with ASHA stopping the poor ones early
  (``tune_on_ray``). Each trial rebuilds the model from the run folder on its node, so custom blocks
  work there too; Ultralytics' own ``run_ray_tune`` does not fit that (it ships the built model through
  Ray's object store, whose unpickling needs the block modules installed on every node).

Events (besides ``run_start`` and ``run_end``): ``trial_result`` per trial and epoch (on a cluster) and
``trial_end`` per trial: ``trial``, ``hyperparameters``, ``fitness``, ``metrics``, ``epochs`` (each epoch's
metrics, for the trial's curves), ``status``. The run folder gets ``tune_results.csv`` and
``best_hyperparameters.yaml``.

A stopped tuning resumes here or on a cluster, wherever it ran before: it runs the trials still to run,
numbered after those recorded (``resumable``). Here, Ultralytics' ``Tuner`` mutates from every recorded
trial (a cluster's included: ``tune_here`` gives it their records); on a cluster the new trials are
sampled afresh, as Ray Tune's random search samples every trial.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import yaml

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.training.run_folder import RunFolder, prepare_run

FITNESS = "fitness"  # Ultralytics' fitness (its weighted mAP); any metric key of the task instead
INTEGER_KEYS = ("close_mosaic",)


def default_space() -> dict:
    from yolo_studio.compat.tuning import default_space as ultralytics_space

    return ultralytics_space()


def tune_settings(space: dict, iterations: int, epochs: int, fitness: str = FITNESS, hours: float | None = None,
                  gpus_per_trial: int = 0, grace_period: int = 1) -> dict:
    """The ``tune`` section of a run.yaml; ValueError for a setting that cannot work."""
    if not space:
        raise ValueError("switch on at least one hyperparameter to tune")
    for name, (low, high) in space.items():
        if not low <= high:
            raise ValueError(f"{name}: the range {low}..{high} is empty: its minimum must not exceed its maximum")
    if iterations < 1 or epochs < 1:
        raise ValueError("a tuning needs at least one trial of at least one epoch")
    return {"space": {k: [float(lo), float(hi)] for k, (lo, hi) in space.items()}, "iterations": int(iterations),
            "epochs": int(epochs), "fitness": fitness or FITNESS, "hours": float(hours) if hours else None,
            "gpus_per_trial": int(gpus_per_trial), "grace_period": max(1, int(grace_period))}


OPTIMIZER_FOR_TUNING = "AdamW"  # what Ultralytics' own tuning example trains with


def tuning_optimizer(overrides: dict, space: dict) -> str | None:
    """The optimizer a tuning trains with where the form leaves it to Ultralytics (``auto``) and the
    space holds ``lr0`` or ``momentum``: ``auto`` picks both itself and ignores the tried values, so
    those trials would differ in nothing. None where the form's choice stands."""
    if str(overrides.get("optimizer", "auto")).lower() == "auto" and {"lr0", "momentum"} & set(space):
        return OPTIMIZER_FOR_TUNING
    return None


def optimizer_note(optimizer: str) -> str:
    return f"Trials train with optimizer={optimizer}: optimizer=auto ignores the lr0 and momentum tried"


def prepare_tune(model, data, runs_dir, name: str, overrides: dict, settings: dict, task: str = "detect",
                 modules_dir=None) -> RunFolder:
    """A run folder for a tuning (``settings`` from ``tune_settings``; the optimizer as ``tuning_optimizer``
    says)."""
    overrides = {k: v for k, v in overrides.items() if k not in settings["space"]}  # tuned, not fixed
    optimizer = tuning_optimizer(overrides, settings["space"])
    if optimizer:
        overrides["optimizer"] = optimizer
        settings = {**settings, "optimizer_note": optimizer_note(optimizer)}  # the run's log says it too
    run = prepare_run(model, data, runs_dir, name, {**overrides, "epochs": settings["epochs"]}, task, modules_dir)
    spec = run.spec()
    spec["tune"] = settings
    write_text_atomic(run.artifacts / "run.yaml", yaml.safe_dump(spec, sort_keys=False))
    return run


def is_tuning(run: RunFolder) -> bool:
    try:
        return bool(run.spec().get("tune"))
    except (OSError, yaml.YAMLError):
        return False


def trials(events: list) -> list:
    """Finished trials in order, from a tuning's events."""
    return [e for e in events if e["type"] == "trial_end"]


def resumable(run: RunFolder) -> bool:
    """A tuning that ended before its last trial, with trials recorded, can run the rest."""
    from yolo_studio.training.events import ENDED_EARLY, read_events, run_status

    events = read_events(run.events)
    done = len(trials(events))
    return 0 < done < run.spec()["tune"]["iterations"] and \
        run_status(events) in ENDED_EARLY


def best_trial(events: list) -> dict | None:
    done = [t for t in trials(events) if t.get("fitness") is not None]
    return max(done, key=lambda t: t["fitness"]) if done else None


def best_so_far(events: list) -> list:
    """(trial number, best fitness up to it) for the best-so-far curve."""
    best, curve = None, []
    for i, trial in enumerate(trials(events), 1):
        if trial.get("fitness") is not None:
            best = trial["fitness"] if best is None else max(best, trial["fitness"])
        curve.append((i, best))
    return curve


def write_results(run: RunFolder, events: list) -> None:
    """tune_results.csv (a row per trial: fitness, status, hyperparameters) and best_hyperparameters.yaml."""
    done = trials(events)
    keys = sorted({k for t in done for k in t.get("hyperparameters", {})})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["trial", "fitness", "status", *keys])
    for t in done:
        writer.writerow([t["trial"], t.get("fitness"), t.get("status"), *(t["hyperparameters"].get(k) for k in keys)])
    write_text_atomic(run.path / "tune_results.csv", out.getvalue())
    best = best_trial(events)
    if best is not None:
        write_text_atomic(run.path / "best_hyperparameters.yaml", f"# trial {best['trial']}, fitness {best['fitness']}\n"
                          + yaml.safe_dump(best["hyperparameters"], sort_keys=False))


def _epochs_of(save_dir) -> list:
    from yolo_studio.training.run_store import read_results_csv

    path = Path(save_dir) / "results.csv"
    return read_results_csv(path) if path.exists() else []


def _numbers(values: dict) -> dict:
    return {k: (int(v) if k in INTEGER_KEYS else round(float(v), 6)) for k, v in values.items()}


# --- this computer: Ultralytics' Tuner ----------------------------------------------------------

def tune_here(run: RunFolder, spec: dict, writer, resume: bool = False) -> str:
    """Trials one after another through Ultralytics' ``Tuner``; returns completed or stopped."""
    from yolo_studio.compat.tuning import StopTuning, studio_tuner

    settings = spec["tune"]
    started = time.monotonic()
    fitness_key = None if settings["fitness"] == FITNESS else settings["fitness"]
    recorded = trials(_events(run))
    done = len(recorded)
    if resume and recorded:
        from yolo_studio.compat.tuning import record_trials

        record_trials(run.path / "tune_results.ndjson", [(t["fitness"] or 0.0, t["hyperparameters"], t["metrics"])
                                                         for t in recorded], spec["data"])

    def on_iteration(record: dict) -> None:
        nonlocal done
        done += 1
        metrics = next(iter(record.get("datasets", {}).values()), {}) or {}
        save_dir = next(iter((record.get("save_dirs") or {}).values()), None)
        writer.write("trial_end", trial=done, hyperparameters=_numbers(record["hyperparameters"]),
                     fitness=record["fitness"], metrics=metrics, epochs=_epochs_of(save_dir) if save_dir else [],
                     status="failed" if record.get("failed_datasets") else "completed",
                     iterations=settings["iterations"])
        write_results(run, _events(run))
        if run.stop_file.exists():
            raise StopTuning("stop requested")
        if settings.get("hours") and time.monotonic() - started >= settings["hours"] * 3600:
            raise StopTuning("the time budget is spent")

    args = {**spec.get("overrides", {}), "model": str(run.model), "data": spec["data"], "task": spec.get("task"),
            "epochs": settings["epochs"], "project": str(run.path.parent), "name": run.path.name, "resume": resume}
    import sys

    from yolo_studio.training.trial_cli import RUN_VARIABLE

    os.environ[RUN_VARIABLE] = str(run.path)  # each iteration's process registers the run's blocks
    tuner = studio_tuner(args, settings["space"], run.path, run.path / "trials", on_iteration, fitness_key,
                         command=[sys.executable, "-m", "yolo_studio.training.trial_cli"])
    try:
        tuner(iterations=settings["iterations"], cleanup=True)
    except StopTuning:
        return "stopped"
    finally:
        write_results(run, _events(run))
    return "completed"


def _events(run: RunFolder) -> list:
    from yolo_studio.training.events import read_events

    return read_events(run.events)


# --- a Ray cluster: Ray Tune with ASHA ------------------------------------------------------------

def tune_on_ray(run: RunFolder, spec: dict, writer, data: str, done: int = 0) -> str:
    """Trials in parallel on the cluster (this process is the job's driver there); returns completed or
    stopped. ``data``: the dataset YAML as this node sees it (each trial finds its own); ``done``: trials
    a resumed tuning recorded before (the rest run, numbered after them)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    settings = spec["tune"]
    metric = settings["fitness"]
    space = {k: (tune.randint(int(lo), int(hi) + 1) if k in INTEGER_KEYS else tune.uniform(lo, hi))
             for k, (lo, hi) in settings["space"].items()}
    ray.init(ignore_reinit_error=True, log_to_driver=False)
    trainable = tune.with_resources(tune.with_parameters(train_trial, package=str(Path.cwd())),
                                    {"cpu": 1, "gpu": settings.get("gpus_per_trial") or 0})
    callback, stopper = _ray_hooks(run, settings, metric, done)
    scheduler = ASHAScheduler(time_attr="epoch", max_t=settings["epochs"],
                              grace_period=min(settings["grace_period"], settings["epochs"]))
    tuner = tune.Tuner(
        trainable, param_space=space,
        tune_config=tune.TuneConfig(metric=metric, mode="max", scheduler=scheduler,
                                    num_samples=settings["iterations"] - done,
                                    time_budget_s=settings["hours"] * 3600 if settings.get("hours") else None),
        run_config=tune.RunConfig(name="tune", storage_path=str(run.path / "ray"), verbose=0,
                                  callbacks=[callback], stop=stopper))
    tuner.fit()
    write_results(run, _events(run))
    return "stopped" if run.stop_file.exists() else "completed"


def train_trial(config: dict, package: str) -> None:
    """One trial on whichever node Ray chose: the run package is this job's working directory there."""
    os.environ.setdefault("YOLO_STUDIO_HOME", str(Path(package) / ".studio-home"))
    import yolo_studio  # noqa: F401  (offline environment)
    from ray import tune

    from yolo_studio.core.offline import ultralytics_settings_offline
    from yolo_studio.training.cluster_job import node_data
    from yolo_studio.training.run_folder import register_run_blocks

    here = Path.cwd() if (Path.cwd() / "job.json").exists() else Path(package)  # this node's copy of the package
    run = RunFolder(here / "run")
    spec = run.spec()
    register_run_blocks(run, run.model)
    ultralytics_settings_offline()
    from ultralytics import YOLO
    from ultralytics.utils import SETTINGS

    SETTINGS.update({"raytune": False})  # its report lacks the fitness: the trial reports its own, once an epoch
    model = YOLO(str(run.model), task=spec.get("task") or None)

    def report(trainer) -> None:
        tune.report({**{k: float(v) for k, v in trainer.metrics.items()}, "fitness": float(trainer.fitness or 0.0),
                     "epoch": trainer.epoch + 1})

    model.add_callback("on_fit_epoch_end", report)
    trial = tune.get_context().get_trial_id()
    gpus = int(spec["tune"].get("gpus_per_trial") or 0)
    model.train(**{**spec.get("overrides", {}), **_numbers(config), "data": node_data(here),
                   "epochs": spec["tune"]["epochs"], "project": str(here / "trials"), "name": trial, "exist_ok": True,
                   "device": ",".join(map(str, range(gpus))) or "cpu", "plots": False})


def _ray_hooks(run: RunFolder, settings: dict, metric: str, done: int = 0) -> tuple:
    """(callback, stopper) for Ray Tune: trial events as results come; every trial ends on the run's Stop.
    Tune saves both with its experiment state, so they hold paths, never an open file."""
    from ray.tune import Callback, Stopper

    from yolo_studio.training.events import append_event

    def write(type_: str, **fields) -> None:
        append_event(run.events, type_, **fields)

    numbers, history = {}, {}

    def number(trial) -> int:
        return numbers.setdefault(trial.trial_id, done + len(numbers) + 1)

    def end(trial, status: str) -> None:
        epochs = history.get(trial.trial_id, [])
        if status == "completed" and len(epochs) < settings["epochs"]:
            status = "stopped early (ASHA)"
        fitness = max((e.get(metric) for e in epochs if e.get(metric) is not None), default=None)
        write("trial_end", trial=number(trial), hyperparameters=_numbers(trial.config), fitness=fitness,
                     metrics=epochs[-1] if epochs else {}, epochs=epochs, status=status,
                     iterations=settings["iterations"])
        write_results(run, _events(run))

    class TrialEvents(Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            epoch = {k: v for k, v in result.items() if "/" in k or k in ("fitness", "epoch")}
            history.setdefault(trial.trial_id, []).append(epoch)
            write("trial_result", trial=number(trial), epoch=result.get("epoch"), fitness=result.get(metric),
                         metrics=epoch)

        def on_trial_complete(self, iteration, trials, trial, **info):
            end(trial, "completed")

        def on_trial_error(self, iteration, trials, trial, **info):
            end(trial, "failed")

    class RunStopper(Stopper):
        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            return run.stop_file.exists()

    return TrialEvents(), RunStopper()
