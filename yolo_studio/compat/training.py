"""Ultralytics' trainer, as the studio's training process needs it to behave.

Each function changes one thing about a trainer or Ultralytics' training module, for the
runner (``training/runner.py``); this is the one place that knows which private names that takes.
"""

from __future__ import annotations


def stop_without_validating(trainer) -> None:
    """Stop means now: Ultralytics would validate the partial epoch on the whole val set first (minutes
    on a real dataset). Keep the last epoch's metrics instead; last.pt is still saved, resumable.

    The fitness is None, never the last epoch's: Ultralytics writes best.pt when ``best_fitness == fitness``,
    so reusing it saved the partial epoch's weights, never validated, as best.pt (and called it the best
    epoch). The early stopper and the NaN recovery both skip a None fitness; the one case where None
    equals ``best_fitness`` (nothing validated yet) is ``forget_unvalidated_best``'s."""
    trainer.validate = lambda: (trainer.metrics, None)


def forget_unvalidated_best(trainer) -> None:
    """After a stopped epoch's save: with no epoch validated yet (``best_fitness`` None), Ultralytics has just
    written best.pt from the partial epoch's weights. A best.pt must be validated weights: remove it."""
    if trainer.best_fitness is None and trainer.best.exists():
        trainer.best.unlink()


def skip_final_eval(trainer) -> None:
    """No ``final_eval`` at the end of this run: it strips last.pt's optimizer state, which resuming needs."""
    trainer.final_eval = lambda: None


def accelerator_memory_gb(trainer) -> float:
    """GB the trainer's accelerator has reserved, as Ultralytics' progress bar reads it (a private method)."""
    return round(float(trainer._get_memory()), 3)


def keep_amp_offline() -> None:
    """Ultralytics' AMP check, offline. On CUDA it first turns AMP off for GPUs known to fail with it
    (GTX 16xx, T400 to T2000, K40m: NaN losses, zero mAP), then downloads yolo26n.pt to compare FP32 and
    FP16 outputs. Without that file, only the comparison is skipped: it is told the network is down,
    before any attempt, and Ultralytics answers as it does then (AMP on), its own GPU decision kept.
    """
    import ultralytics
    from ultralytics.engine import trainer
    from ultralytics.utils import WEIGHTS_DIR

    original = getattr(trainer.check_amp, "__wrapped__", trainer.check_amp)

    def check_amp(model, *args, **kwargs):
        if (WEIGHTS_DIR / "yolo26n.pt").is_file():
            return original(model, *args, **kwargs)
        loader = ultralytics.YOLO
        ultralytics.YOLO = _offline_weights  # what the check loads its comparison model with
        try:
            return original(model, *args, **kwargs)
        finally:
            ultralytics.YOLO = loader

    check_amp.__wrapped__ = original
    trainer.check_amp = check_amp


def _offline_weights(path, *args, **kwargs):
    raise ConnectionError(f"offline: {path} is not on this machine and is not downloaded")
