"""``yolo-studio train``: the same run folder and events as the studio, from a terminal.

The terminal shows preflight, then one line per epoch; the full output is in the run's
``logs/train.log``. Ctrl+C asks the run to stop after the current batch (it stays resumable);
a second Ctrl+C kills it.
"""

from __future__ import annotations

import time
from pathlib import Path

from yolo_studio.training import train_config
from yolo_studio.training.preflight import Plan, free_name, preflight
from yolo_studio.training import launch
from yolo_studio.training.events import EventTail, read_events, run_status
from yolo_studio.training.run_folder import RunFolder, prepare_run

POLL_SECONDS = 0.5


def plan_and_check(model, data, project, name, overrides: dict, preset: str | None = None, modules=None,
                   weights=None, cluster=None, gpus: int = 0):
    """(Plan, Resolved, PreflightResult) for a new run; the studio's Start does the same."""
    from yolo_studio.core.model.model_names import model_file

    project = Path(project)
    model, _note = model_file(model)  # yolo11n.yaml: Ultralytics' file at scale n, as plain yolo takes it
    values = train_config.load_preset(preset, project) if preset else {}
    resolved = train_config.resolve(overrides, values)
    runs_dir = project / "runs"
    name = name or free_name(runs_dir, "train")
    if modules is None and str(model).endswith(".pt"):  # a run's or the registry's checkpoint: its blocks travel with it
        from yolo_studio.training.run_folder import checkpoint_blocks

        modules = checkpoint_blocks(model)
    plan = Plan(Path(model), Path(data), runs_dir, name, resolved.config, Path(modules) if modules else None,
                weights=Path(weights) if weights else None, cluster=cluster, gpus=gpus)
    return plan, resolved, preflight(plan, resolved.problems)


def print_checks(result, out=print) -> None:
    for check in result.checks:
        mark = {"error": "error", "warning": "warning", "ok": "ok"}[check.severity]
        out(f"preflight {mark:7} [{check.topic}] {check.message}")


def train_new(model, data, project=".", name=None, overrides=None, preset=None, modules=None, out=print,
              logging=None, weights=None, cluster=None, gpus: int = 0) -> int:
    """``cluster``: a name from Settings or an address (http://HEAD:8265) to train there instead."""
    target = None
    if cluster:
        from yolo_studio.training import cluster as ray_cluster

        target = ray_cluster.resolve_cluster(cluster)
    plan, resolved, result = plan_and_check(model, data, project, name, overrides or {}, preset, modules, weights,
                                            target, gpus)
    print_checks(result, out)
    if not result.ok:
        out(f"Not started: {len(result.errors)} preflight error(s) above.")
        return 1
    from yolo_studio.core.project.projects import adopt_project

    adopt_project(project)  # the studio can open this folder later and list the run
    run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, result.task or "detect",
                      plan.modules_dir, logging, weights=plan.weights)
    out(f"Run folder: {run.path}")
    command = (run.artifacts / 'command.txt').read_text().strip().splitlines()
    if len(command) == 1:
        out(f"Same run with plain Ultralytics: {command[0]}")
    else:  # custom blocks: plain yolo cannot build the model, and the text says what can
        out("Same run from a terminal (see artifacts/command.txt):\n  " + "\n  ".join(command))
    if target is not None:
        return follow_cluster(run, target, gpus, resume=False, out=out)
    return supervise(run, resume=False, out=out)


def tune_new(model, data, project, name, overrides: dict, settings: dict, modules=None, out=print,
             cluster=None) -> int:
    """``yolo-studio tune``: preflight, the tuning's run folder, then its trials here or on ``cluster``."""
    from yolo_studio.training import tuning

    target = None
    if cluster:
        from yolo_studio.training import cluster as ray_cluster

        target = ray_cluster.resolve_cluster(cluster)
    name = name or free_name(Path(project) / "runs", "tune")
    plan, resolved, result = plan_and_check(model, data, project, name, overrides, None, modules, None, target,
                                            settings["gpus_per_trial"])
    print_checks(result, out)
    if not result.ok:
        out(f"Not started: {len(result.errors)} preflight error(s) above.")
        return 1
    from yolo_studio.core.project.projects import adopt_project

    adopt_project(project)
    run = tuning.prepare_tune(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, settings,
                              result.task or "detect", plan.modules_dir)
    where = f"in parallel on {target.name} (Ray Tune, ASHA)" if target else "one after another here (Ultralytics' Tuner)"
    out(f"Tuning folder: {run.path}; {settings['iterations']} trials of {settings['epochs']} epochs, {where}")
    if target is not None:
        return follow_cluster(run, target, 0, resume=False, out=out)
    return supervise(run, resume=False, out=out)


def tune_resume(run_dir, out=print, cluster=None) -> int:
    from yolo_studio.training import tuning

    run = RunFolder(Path(run_dir).resolve())
    if not tuning.is_tuning(run):
        out(f"error: {run.path} is not a tuning (resume a training with yolo-studio train --resume)")
        return 1
    if not tuning.resumable(run):
        out(f"error: {run.path} has no trials left to run, or none recorded yet, or it is still running")
        return 1
    if cluster:
        from yolo_studio.training import cluster as ray_cluster

        return follow_cluster(run, ray_cluster.resolve_cluster(cluster), 0, resume=True, out=out)
    return supervise(run, resume=True, out=out)


def follow_cluster(run: RunFolder, target, gpus: int, resume: bool, out=print) -> int:
    """Submit the run to a Ray cluster and report its events until the job ends; Ctrl+C asks it to stop
    after the batch, a second Ctrl+C stops the job at once."""
    from yolo_studio.training import cluster as ray_cluster

    job_id = ray_cluster.submit(run, target, gpus, resume=resume)
    out(f"Submitted to {target.name} as job {job_id}; following it (the job goes on if this command ends: "
        f"yolo-studio train --attach {run.path})")
    return attach_cluster(run, out)


def attach_cluster(run: RunFolder, out=print) -> int:
    """Follow a cluster run (again): the run folder catches up from the job's log, then grows with it."""
    from yolo_studio.training import cluster as ray_cluster

    from yolo_studio.training.cluster_follow import Follower

    follower = Follower(run)
    offset = run.events.stat().st_size if run.events.exists() else 0
    follower.start()
    report_events(run, offset, lambda: not follower.is_alive(), lambda: ray_cluster.request_stop(run),
                  lambda: ray_cluster.stop_job(run), "stops the job at once", out)
    status = run_status(read_events(run.events))
    out(f"Run {status}: {run.path}")
    return 0 if status in ("completed", "stopped") else 1


def prepare_continuation(run_dir, overrides=None, name=None) -> tuple:
    """(run folder or None, PreflightResult) for a new run that continues a finished one: from the finished
    run's last weights with its arguments (``overrides`` on top, e.g. epochs), linked to the parent.
    The folder is prepared only if preflight passes. Raises ``ValueError`` with what to do instead."""
    parent = RunFolder(Path(run_dir).resolve())
    if not (parent.artifacts / "run.yaml").is_file():
        raise ValueError(f"{parent.path} is not a YOLO Studio run folder (no artifacts/run.yaml)")
    status = run_status(read_events(parent.events))
    if status != "completed":
        raise ValueError(f"{parent.path.name} is {status}, not finished: resume it instead (--resume {parent.path})")
    if not parent.last.is_file():
        raise ValueError(f"{parent.last} does not exist: the run kept no weights to continue from")
    spec = parent.spec()
    name = name or free_name(parent.path.parent, f"{parent.path.name}-continued")
    values = {**(spec.get("overrides") or {}), **(overrides or {})}
    plan, resolved, result = plan_and_check(parent.last, spec["data"], parent.path.parent.parent, name, values,
                                            modules=parent.modules if parent.modules.is_dir() else None)
    if not result.ok:
        return None, result
    run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, result.task or "detect",
                      plan.modules_dir, spec.get("logging"), parent=parent.path)
    return run, result


def train_continue(run_dir, overrides=None, name=None, out=print) -> int:
    """``yolo-studio train --continue``: Ultralytics refuses to resume a finished run; this is what a user
    means by "train it longer"."""
    try:
        run, result = prepare_continuation(run_dir, overrides, name)
    except ValueError as exc:
        out(f"error: {exc}")
        return 1
    print_checks(result, out)
    if run is None:
        out(f"Not started: {len(result.errors)} preflight error(s) above.")
        return 1
    out(f"Run folder: {run.path}")
    out(f"Continues {Path(run_dir).name} from its last weights with its arguments; {LR_RESTARTS}")
    return supervise(run, resume=False, out=out)


LR_RESTARTS = "the learning-rate schedule starts again (warmup, then decay over the new epochs)"


def train_resume(run_dir, out=print, cluster=None, gpus: int = 0) -> int:
    """Resume here, or on ``cluster`` (a lost cluster run resumes from its last checkpoint either way)."""
    run = RunFolder(Path(run_dir).resolve())
    if not (run.artifacts / "run.yaml").is_file():
        out(f"error: {run.path} is not a YOLO Studio run folder (no artifacts/run.yaml)")
        return 1
    if not run.last.is_file():
        out(f"error: {run.last} does not exist: the run saved no checkpoint to resume from; start it again")
        return 1
    from yolo_studio.training.runner import resume_refusal

    refused = resume_refusal(run)
    if refused:  # a finished run: resuming would train afresh over its results
        out(f"error: {refused}")
        return 1
    if cluster:
        from yolo_studio.training import cluster as ray_cluster

        return follow_cluster(run, ray_cluster.resolve_cluster(cluster), gpus, resume=True, out=out)
    return supervise(run, resume=True, out=out)


def supervise(run: RunFolder, resume: bool, out=print) -> int:
    """Train in this process (one device), or start torchrun for several GPUs and follow its events."""
    from yolo_studio.core.devices import requested_gpus

    if len(requested_gpus(launch.resume_device(run))) >= 2:
        return follow_child(run, resume, out)
    import signal

    from yolo_studio.training import runner

    def on_interrupt(_signum, _frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl+C interrupts for real
        launch.request_stop(run)
        out("Stopping after the current batch (the run stays resumable); Ctrl+C again kills it.")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        code = runner.run(run.path, resume=resume, echo=lambda e: (line := describe(e)) and out(line),
                          tee_log=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    status = run_status(read_events(run.events))
    out(f"Run {status}: {run.path}")
    return code


def follow_child(run: RunFolder, resume: bool, out=print) -> int:
    """Start the training process and report its events until it ends."""
    offset = run.events.stat().st_size if run.events.exists() else 0
    process = launch.start(run, resume=resume, device=launch.resume_device(run))
    events = report_events(run, offset, lambda: process.poll() is not None, lambda: launch.request_stop(run),
                           lambda: launch.kill(run, process.pid), "kills it", out)
    status = run_status(events) if events else "failed"
    if status in ("crashed", "running"):
        out(f"The training process ended with code {process.returncode} without a final event; see {run.log}")
        return 1
    out(f"Run {status}: {run.path}")
    return 0 if status in ("completed", "stopped") else 1


def report_events(run: RunFolder, offset: int, ended, stop, kill, kill_words: str, out=print) -> list:
    """Print a line for each new event (from ``offset`` in events.jsonl) until ``ended()``; Ctrl+C calls
    ``stop`` (after the current batch), a second Ctrl+C ``kill``. Returns the events read."""
    tail = EventTail(run.events)
    tail.offset = offset
    events, interrupts = [], 0
    while True:
        try:
            finished = ended()  # asked before the last read: the final events are printed too
            for event in tail.read():
                events.append(event)
                if line := describe(event):
                    out(line)
            if finished:
                return events
            time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            interrupts += 1
            if interrupts == 1:
                stop()
                out(f"Stopping after the current batch (the run stays resumable); Ctrl+C again {kill_words}.")
            else:
                kill()
                out("Stopping at once.")


def describe(event: dict) -> str | None:
    """One terminal line for an event (None for batch progress)."""
    kind = event["type"]
    if kind == "epoch_end":
        m = event["metrics"]
        losses = " ".join(f"{k.split('/')[-1]}={v:.4g}" for k, v in m.items() if k.startswith("train/") and v is not None)
        maps = " ".join(f"{k.split('/')[-1]}={v:.4g}" for k, v in m.items() if k.startswith("metrics/mAP") and v is not None)
        return (f"epoch {event['epoch']}/{event['epochs']}: {losses} {maps} ({event['epoch_time']:.1f} s, "
                f"ETA {event['eta']:.0f} s)" + (" [stopped mid-epoch]" if event.get("partial") else ""))
    if kind == "run_end" and event.get("kind") == "tune":
        best = event.get("best_hyperparameters")
        return (f"{event['status']}: best trial {event.get('best_trial')}, fitness {event.get('best_fitness')}"
                + (f": {', '.join(f'{k}={v:g}' for k, v in best.items())}" if best else ""))
    if kind == "run_end":
        return f"{event['status']}: best {event.get('best')}"
    if kind == "trial_end":
        fitness = event.get("fitness")
        return (f"trial {event['trial']}/{event.get('iterations', '?')}: fitness "
                f"{fitness:.4g}" if fitness is not None else f"trial {event['trial']}: no fitness") + \
            f" ({event.get('status')})"
    if kind == "error":
        return f"error: {event['message']}"
    if kind == "killed":
        return "the run was killed"
    if kind == "lost":
        return f"lost: {event.get('reason')}; resume it from {event.get('checkpoint') or 'its start'}"
    if kind == "cluster_job":
        return f"job {event['job_id']} on {event['cluster']}"
    if kind == "transfer":
        return f"weights from {Path(event['weights']).name}: {event['headline']}"
    return None
