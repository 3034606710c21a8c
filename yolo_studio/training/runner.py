"""The training process: ``python -m yolo_studio.training.runner RUN_DIR [--resume]``.

Runs plain Ultralytics training for a prepared run folder and reports through callbacks into
``events.jsonl`` (see ``events.py``). The studio and ``yolo-studio train`` start this as a child
process with its output going to ``logs/train.log``; under ``torchrun`` every rank runs it and
rank 0 writes the events.

Stop: the file ``control/stop`` appearing sets ``trainer.stop`` (Ultralytics stops between
batches and saves; the partial epoch is not validated, and its weights never become best.pt). A
stopped run skips Ultralytics' ``final_eval`` so that last.pt keeps its optimizer state and the run
can resume; a completed run is finalised as usual.

A finished run stays finished: once the last epoch's checkpoint is written the runner records a
``trained`` event, and from then on the run is completed whatever happens (a Stop during final
validation is said to wait for it; a kill there leaves a completed run, not a resumable one).
Resuming refuses a checkpoint Ultralytics has stripped (its optimizer state gone), instead of
Ultralytics starting a fresh training over the run's results.

``YOLO_STUDIO_PAUSE_AT`` (``last_batch``, ``final_validation`` or ``plotting``) makes the runner wait
at that phase, writing ``control/paused-<phase>``: tests and bug reports kill a run exactly there.
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
from pathlib import Path

from yolo_studio.compat import training

BATCH_EVENT_INTERVAL = 0.5  # seconds between batch progress events


class EventCallbacks:
    """Ultralytics callbacks that turn a trainer's progress into events (rank 0 only)."""

    def __init__(self, run, writer):
        self.run, self.writer = run, writer
        self.stopped = False
        self.in_epoch = False  # on_train_epoch_end seen: the next on_fit_epoch_end is a real epoch
        self.batch = 0
        self.last_batch_event = 0.0
        self.epoch_started = time.time()
        self.trainer = None
        self.trained = False  # the final checkpoint is written: the run is completed from here on
        self.final_stop_said = False

    def attach(self, model) -> None:
        for name in ("on_train_start", "on_train_epoch_start", "on_train_batch_end", "on_train_epoch_end",
                     "on_fit_epoch_end", "on_model_save", "on_train_end", "on_val_batch_end"):
            model.add_callback(name, getattr(self, name))

    def on_train_start(self, trainer) -> None:
        """What the trainer settled on once set up: its device, whether AMP is on, the batch (AutoBatch's
        choice for batch=-1), the number of ranks: evidence a log line alone does not give."""
        self.trainer = trainer
        self.writer.write("train_start", device=str(trainer.device), amp=bool(trainer.amp),
                          batch=int(trainer.batch_size), world_size=int(getattr(trainer, "world_size", 1) or 1))

    def on_train_epoch_start(self, trainer) -> None:
        self.batch = 0
        self.epoch_started = time.time()

    def on_train_batch_end(self, trainer) -> None:
        self.batch += 1
        if not self.stopped and self._stop_agreed(trainer):
            self.stopped = trainer.stop = True
            training.stop_without_validating(trainer)  # stop means now, not after validating the partial epoch
            # on a line of its own: Ultralytics' progress bar of this batch has no line end yet
            print(f"\nYOLO Studio: stop requested; stopping after batch {self.batch}", flush=True)
        now = time.time()
        if now - self.last_batch_event >= BATCH_EVENT_INTERVAL:
            self.last_batch_event = now
            self.writer.write("batch", epoch=trainer.epoch + 1, epochs=trainer.epochs, batch=self.batch,
                              batches=len(trainer.train_loader), losses=self._losses(trainer),
                              memory_gb=_memory(trainer))

    def _stop_agreed(self, trainer) -> bool:
        """Whether every rank stops after this batch. Rank 0 reads control/stop and tells the others in
        the same batch: ranks reading it alone could stop a batch apart, one waiting in validation's
        broadcast and the other in backward's all-reduce, until NCCL's 3-hour timeout."""
        wanted = is_rank_zero() and self.run.stop_file.exists()
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
            return wanted
        import torch

        flag = torch.tensor([int(wanted)], device=trainer.device if dist.get_backend() == "nccl" else "cpu")
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def on_train_epoch_end(self, trainer) -> None:
        self.in_epoch = True
        if trainer.epoch + 1 >= trainer.epochs and not self.stopped:
            pause_for_tests(self.run, "last_batch")

    def on_val_batch_end(self, validator) -> None:
        """During the final validation (the run is trained): a Stop cannot end the run any sooner."""
        if not self.trained:
            return
        pause_for_tests(self.run, "final_validation")
        if not self.final_stop_said and is_rank_zero() and self.run.stop_file.exists():
            self.final_stop_said = True
            message = ("stop requested during the final validation: the training is finished and its weights "
                       "are saved; the validation of best.pt finishes first (Kill ends it; the run stays completed)")
            print(f"\nYOLO Studio: {message}", flush=True)
            self.writer.write("note", message=message)

    def on_fit_epoch_end(self, trainer) -> None:
        metrics = {k: _number(v) for k, v in {**self._losses(trainer), **(trainer.metrics or {}),
                                               **(trainer.lr or {})}.items()}
        if not self.in_epoch:  # Ultralytics' extra call after final_eval: best.pt's metrics, not an epoch
            self.writer.write("final", metrics={k: _number(v) for k, v in (trainer.metrics or {}).items()})
            return
        self.in_epoch = False
        epoch = trainer.epoch + 1
        epoch_time = getattr(trainer, "epoch_time", None) or (time.time() - self.epoch_started)
        self.writer.write("epoch_end", epoch=epoch, epochs=trainer.epochs, metrics=metrics,
                          epoch_time=round(epoch_time, 3), eta=round(epoch_time * max(trainer.epochs - epoch, 0), 1),
                          fitness=_number(trainer.fitness), memory_gb=_memory(trainer),
                          memory_gb_per_rank=_memory_per_rank(trainer), partial=self.stopped)
        if self.stopped:
            training.skip_final_eval(trainer)  # keep last.pt's optimizer state: the run must stay resumable

    def on_model_save(self, trainer) -> None:
        if self.stopped:
            training.forget_unvalidated_best(trainer)
        self.writer.write("checkpoint", epoch=trainer.epoch + 1, path=str(trainer.last))
        if trainer.stop and not self.stopped and not self.trained:  # the last epoch (or early stopping) saved
            self.trained = True
            self.writer.write("trained", epoch=trainer.epoch + 1, epochs=trainer.epochs,
                              best=str(trainer.best) if trainer.best.exists() else None, last=str(trainer.last))

    def on_train_end(self, trainer) -> None:
        pause_for_tests(self.run, "plotting")
        self.writer.write("run_end", status="stopped" if self.stopped else "completed",
                          epochs_done=trainer.epoch + 1, epochs=trainer.epochs,
                          best_epoch=getattr(trainer.stopper, "best_epoch", None),
                          best_fitness=_number(trainer.best_fitness),
                          best=str(trainer.best) if trainer.best.exists() else None,
                          last=str(trainer.last) if trainer.last.exists() else None)

    def _losses(self, trainer) -> dict:
        if trainer.tloss is None:
            return {}
        return {k: _number(v) for k, v in trainer.label_loss_items(trainer.tloss, prefix="train").items()}


def _number(value):
    """A JSON number, or None (NaN and infinities included: the events file stays valid JSON)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 6) if math.isfinite(number) else None


PAUSE_PHASES = ("last_batch", "final_validation", "plotting")


def pause_for_tests(run, phase: str) -> None:
    """Wait at ``phase`` when ``YOLO_STUDIO_PAUSE_AT`` names it (once a process, at most 10 minutes), after
    writing ``control/paused-<phase>``: a test kills the run there."""
    if os.environ.get("YOLO_STUDIO_PAUSE_AT") != phase or getattr(pause_for_tests, "done", None) == phase:
        return
    pause_for_tests.done = phase
    marker = run.path / "control" / f"paused-{phase}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    deadline = time.time() + 600
    while time.time() < deadline and marker.exists():
        time.sleep(0.1)


def _memory(trainer) -> float | None:
    """GB in use on the training device: the accelerator's reserved memory, or on CPU this process's RSS."""
    try:
        if trainer.device.type == "cpu":
            import psutil

            return round(psutil.Process().memory_info().rss / 2**30, 3)
        return training.accelerator_memory_gb(trainer)
    except Exception:  # progress must not fail on it
        return None


def _memory_per_rank(trainer) -> list | None:
    """Under DDP, each rank's ``_memory`` (rank 0's alone hides a second GPU filling up); else None. Every
    rank runs the epoch's callbacks, so every rank joins this gather."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, _memory(trainer))
    return gathered


def use_backend(backend: str | None) -> None:
    """Ranks talk over ``backend`` (``YOLO_STUDIO_DDP_BACKEND``) instead of Ultralytics' choice (NCCL
    where it exists). For two ranks on one GPU, as the GPU check runs them: NCCL refuses two ranks on
    one device, gloo does not. Unset: Ultralytics decides."""
    if not backend:
        return
    import torch.distributed as dist

    original = getattr(dist.init_process_group, "__wrapped__", dist.init_process_group)

    def init_process_group(*args, **kwargs):
        kwargs["backend"] = backend
        return original(*args[1:] if args else args, **kwargs)

    init_process_group.__wrapped__ = original
    dist.init_process_group = init_process_group


ONLINE_INTEGRATIONS = ("hub", "clearml", "comet", "dvc", "neptune", "wandb", "raytune")  # those this version has


def configure_logging(run, logging: dict) -> None:
    """This run's offline experiment logging, through Ultralytics' own integrations.

    TensorBoard writes event files into the run folder; MLflow into the project's ``mlruns/``
    (a local file store). Ultralytics' online integrations are always off.
    """
    from ultralytics.utils import SETTINGS

    if logging.get("mlflow"):
        os.environ.setdefault("MLFLOW_TRACKING_URI", (run.path.parent.parent / "mlruns").as_uri())
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a plain folder: no database server needed
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", run.path.parent.parent.name)  # the project
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("DO_NOT_TRACK", "1")
    wanted = {"tensorboard": bool(logging.get("tensorboard")), "mlflow": bool(logging.get("mlflow")),
              **{name: False for name in ONLINE_INTEGRATIONS if name in SETTINGS}}
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)


def announce_rank(run) -> None:
    """A rank other than 0 records its pid and start time (rank 0's are in ``run_start``), so Kill and the
    supervisor find it even after its launcher died (it is then no longer the launcher's child)."""
    if is_rank_zero():
        return
    from yolo_studio.core.processes import started_at, this_process
    from yolo_studio.training.events import append_event

    me = this_process()
    launcher = os.getppid()
    append_event(run.events, "rank_start", rank=int(os.environ.get("RANK", "0")), pid=me["pid"],
                 started=me["started"], launcher_pid=launcher, launcher_started=started_at(launcher))


def resume_refusal(run) -> str | None:
    """Why ``run`` cannot resume, or None: a run that finished (its final checkpoint written), or a last.pt
    without optimizer state (Ultralytics strips it at the end; resuming it starts a new training)."""
    from yolo_studio.training.events import read_events, run_status

    if run_status(read_events(run.events), alive=False) == "completed":
        return (f"{run.path.name} finished training (its final weights are in {run.path / 'weights'}): there is "
                "nothing to resume. Continue it as a new run to train more epochs")
    from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint

    try:
        resumable = read_checkpoint(run.last).resumable  # read without running its code
    except CheckpointError as exc:
        return f"{run.last} cannot be resumed: {exc.message}"
    if not resumable:
        return (f"{run.last} cannot be resumed: it is a finished model (Ultralytics removed its optimizer state), "
                "not a checkpoint to resume; continue it as a new run to train more epochs")
    return None


def is_rank_zero() -> bool:
    return int(os.environ.get("RANK", "-1")) in (-1, 0)


def explain(exc: BaseException, callbacks: EventCallbacks) -> str:
    """A message a user can act on for an exception that ended training."""
    text = str(exc)
    trainer = callbacks.trainer
    if "out of memory" in text.lower():
        batch = getattr(getattr(trainer, "args", None), "batch", None)
        where = f" at epoch {trainer.epoch + 1}, batch {callbacks.batch}" if trainer is not None else ""
        smaller = f": try batch={max(int(batch) // 2, 1)}" if isinstance(batch, int) and batch > 1 else \
            ": try a smaller batch or imgsz"
        device = "CUDA" if "cuda" in text.lower() else "the device"
        return f"{device} out of memory{where}{smaller}"
    if isinstance(exc, FileNotFoundError):
        return f"a file is missing: {text}. Check the dataset YAML and the model path."
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run(run_dir: str | Path, resume: bool = False, echo=None, tee_log: bool = False) -> int:
    """Train the run in this process; returns the exit code (0 completed or stopped, 1 failed).

    ``echo`` is called with every event; ``tee_log`` copies this process's output into
    ``logs/train.log`` (the headless command; a child started by ``launch`` has its output
    redirected there already).
    """
    os.environ["YOLO_VERBOSE"] = "true"  # the log is the full output; the studio's own default is quiet
    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.training.run_folder import RunFolder

    run = RunFolder(Path(run_dir).resolve())
    if not tee_log:  # started by the studio
        _yield_to_the_studio()
        return _run(run, resume, echo)
    with _Tee(run.log):
        return _run(run, resume, echo)


TRAINING_NICENESS = 5


def _yield_to_the_studio() -> None:
    """A training the studio started runs at a lower CPU priority, so the window and its inspection stay
    quick while it trains (it still gets every idle cycle; a GPU's work is unaffected)."""
    try:
        os.nice(TRAINING_NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not allowed: train at normal priority
        pass


def _run(run, resume: bool, echo) -> int:
    from yolo_studio.core.offline import ultralytics_settings_offline
    from yolo_studio.training.events import EventWriter
    from yolo_studio.training.run_folder import register_run_blocks

    import logging

    logging.getLogger("ultralytics").setLevel(logging.INFO)  # verbose even if imported quiet earlier
    spec = run.spec()
    rank_zero = is_rank_zero()
    writer = EventWriter(run.events, echo) if rank_zero else _NoEvents()
    callbacks = EventCallbacks(run, writer)
    run.clear_stop() if rank_zero else None
    try:
        register_run_blocks(run, run.model)
        ultralytics_settings_offline()
        configure_logging(run, spec.get("logging") or {})
        training.keep_amp_offline()
        use_backend(os.environ.get("YOLO_STUDIO_DDP_BACKEND"))
        from ultralytics import YOLO

        if spec.get("tune"):  # a tuning: trials instead of one training (training/tuning.py)
            return _tune(run, spec, writer, resume)
        if resume:
            if not run.last.exists():
                raise FileNotFoundError(f"{run.last} does not exist: the run saved no checkpoint to resume from")
            refused = resume_refusal(run)
            if refused:  # Ultralytics would train afresh over this run's results: refuse, and change nothing
                print(f"YOLO Studio: {refused}", file=sys.stderr, flush=True)
                writer.write("resume_refused", message=refused)
                return 1
            # this run's data and folder, not the ones in the checkpoint: a run trained on a cluster node
            # resumes here (and one from here there) with its own paths
            model, kwargs = YOLO(str(run.last)), {"resume": True, "data": spec["data"], "save_dir": str(run.path)}
        else:
            model = YOLO(str(run.model), task=spec.get("task") or None)
            kwargs = {**spec.get("overrides", {}), "data": spec["data"], "project": str(run.path.parent),
                      "name": run.path.name, "exist_ok": True}
            if spec.get("weights"):  # a YAML model starting from a checkpoint, each layer from the one it matches
                from yolo_studio.training.transfer_weights import write_transferred

                path, report = write_transferred(run, spec["weights"])
                kwargs["pretrained"] = str(path)
                writer.write("transfer", weights=spec["weights"], headline=report.headline(), total=report.total,
                             loaded=report.loaded, plain=report.plain)
        from yolo_studio.core.processes import started_at, this_process

        launcher = os.getppid() if "TORCHELASTIC_RUN_ID" in os.environ else None  # under torch.distributed.run
        me = this_process()  # pid and start time: a pid alone can be another process's later
        announce_rank(run)
        writer.write("run_start", pid=me["pid"], started=me["started"], launcher_pid=launcher,
                     launcher_started=started_at(launcher), resumed=resume, save_dir=str(run.path),
                     epochs=spec.get("overrides", {}).get("epochs"), config=kwargs)
        callbacks.attach(model)
        model.train(**kwargs)
        return 0
    except BaseException as exc:  # reported as an event; KeyboardInterrupt included
        traceback.print_exc()
        error = {"message": explain(exc, callbacks), "detail": f"{type(exc).__name__}: {exc}"[:2000]}
        if rank_zero:
            writer.write("error", **error)
        else:  # another rank's failure: rank 0 may only see a broken collective, or nothing
            from yolo_studio.training.events import append_event

            append_event(run.events, "error", rank=int(os.environ.get("RANK", "0")), **error)
        return 1
    finally:
        writer.close()
        sys.stdout.flush()


def _tune(run, spec: dict, writer, resume: bool) -> int:
    from yolo_studio.core.processes import this_process
    from yolo_studio.training.events import read_events
    from yolo_studio.training import tuning
    from yolo_studio.training.cluster_job import ON_CLUSTER, read_job

    package = os.environ.get(ON_CLUSTER)
    engine = "ray" if package else "ultralytics"
    me = this_process()
    writer.write("run_start", pid=me["pid"], started=me["started"], launcher_pid=None, launcher_started=None,
                 resumed=resume, save_dir=str(run.path), epochs=spec["tune"]["epochs"], kind="tune", engine=engine,
                 iterations=spec["tune"]["iterations"], space=spec["tune"]["space"])
    if spec["tune"].get("optimizer_note"):
        print(spec["tune"]["optimizer_note"], flush=True)
    if package:  # a resumed tuning's package says how many trials were recorded before
        done = read_job(Path(package)).get("trials_done", 0)
        status = tuning.tune_on_ray(run, spec, writer, spec["data"], done)
    else:
        status = tuning.tune_here(run, spec, writer, resume)
    best = tuning.best_trial(read_events(run.events))
    writer.write("run_end", status=status, kind="tune", best_trial=best and best["trial"],
                 best_fitness=best and best["fitness"], best_hyperparameters=best and best["hyperparameters"])
    return 0


class _Tee:
    """Copies sys.stdout/sys.stderr (and Ultralytics' logger, which holds the old stdout) to a file."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        import logging

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a", encoding="utf-8", errors="replace")
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Both(sys.stdout, self.file), _Both(sys.stderr, self.file)
        self.handlers = [(h, h.stream) for h in logging.getLogger("ultralytics").handlers
                         if isinstance(h, logging.StreamHandler) and h.stream in self.saved]
        for handler, stream in self.handlers:
            handler.setStream(_Both(stream, self.file))
        return self

    def __exit__(self, *_exc):
        for handler, stream in self.handlers:
            handler.setStream(stream)
        sys.stdout, sys.stderr = self.saved
        self.file.close()


class _Both:
    def __init__(self, stream, file):
        self.stream, self.file = stream, file

    def write(self, text):
        self.file.write(text)
        return self.stream.write(text)

    def flush(self):
        self.file.flush()
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


class _NoEvents:
    def write(self, *_args, **_fields) -> None:
        return None

    def close(self) -> None:
        return None


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        print("usage: python -m yolo_studio.training.runner RUN_DIR [--resume]", file=sys.stderr)
        return 2
    return run(argv[0], resume="--resume" in argv[1:])


if __name__ == "__main__":
    sys.exit(main())
