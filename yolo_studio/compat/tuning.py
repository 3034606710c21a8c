"""What the studio's tuning assumes of Ultralytics' ``Tuner`` (``ultralytics.engine.tuner``).

- ``Tuner.__init__`` holds the default search space, ``{name: (min, max[, gain])}``; ``default_space``
  reads it from a Tuner built on a stand-in model (nothing is trained or written).
- ``Tuner.__call__(iterations, cleanup)`` mutates, trains one iteration in this process
  (``MultiTrainer``) and records it with ``_result_record`` (whose ``fitness`` the next mutation
  selects on) and ``_save_local_result`` (one line of ``tune_results.ndjson``). ``StudioTuner``
  overrides those two: the recorded fitness can be one metric instead of Ultralytics' fitness, and
  each finished iteration is reported (the studio writes it as an event; a stop or a time budget ends
  the tuning there).
- ``tune_dir`` and ``tune_file`` say where the tuning writes; ``args.project`` is where each iteration's
  training goes.
- ``Tuner.__call__`` resumes after as many iterations as ``tune_results.ndjson`` has lines, each a record
  of ``iteration``, ``fitness``, ``hyperparameters`` and ``datasets`` (``record_trials`` writes them).
- ``MultiTrainer`` (``ultralytics.engine.trainer``) trains each iteration by starting Ultralytics'
  command line, ``_YOLO_CLI_COMMAND``, in a new process: ``studio_tuner`` points that module's copy at a
  command line that registers the run's custom blocks first (``training/trial_cli.py``).
"""

from __future__ import annotations


class StopTuning(Exception):
    """Raised after an iteration was recorded: a stop was asked for, or the budget is spent."""


def default_space() -> dict:
    """Ultralytics' default search space: {hyperparameter: [min, max]}."""
    import torch

    from ultralytics.engine.tuner import Tuner

    tuner = Tuner({"model": "stand-in.yaml", "data": "stand-in.yaml", "project": "unused"}, model=torch.nn.Identity())
    return {name: [float(bounds[0]), float(bounds[1])] for name, bounds in tuner.space.items()}


def record_trials(tune_file, trials: list, data: str) -> None:
    """Write ``tune_results.ndjson`` as Ultralytics' ``Tuner`` keeps it, one record per trial (fitness,
    hyperparameters, metrics), where it does not already hold that many: a resumed ``Tuner`` starts after
    its records and mutates from them, so trials recorded elsewhere (on a cluster) count too."""
    import json
    from pathlib import Path

    tune_file = Path(tune_file)
    if tune_file.exists() and len([x for x in tune_file.read_text(encoding="utf-8").splitlines() if x.strip()]) == \
            len(trials):
        return
    lines = [json.dumps({"iteration": i, "fitness": round(float(fitness), 5), "hyperparameters": hyperparameters,
                         "datasets": {str(data): metrics}})
             for i, (fitness, hyperparameters, metrics) in enumerate(trials, 1)]
    tune_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def studio_tuner(args: dict, space: dict, tune_dir, trials_dir, on_iteration, fitness_key: str | None = None,
                 model=None, command: list | None = None):
    """A ``Tuner`` (``args`` as ``model.tune`` takes them, ``project``/``name`` naming the tune folder) whose
    iterations train in ``trials_dir`` and are reported to ``on_iteration(record)`` as they finish;
    ``fitness_key``: the metric the search maximises instead of Ultralytics' fitness; ``command``: the command
    line each iteration trains with, instead of Ultralytics' own."""
    from pathlib import Path

    import ultralytics.engine.trainer as trainer_module
    from ultralytics.engine.tuner import Tuner

    class StudioTuner(Tuner):
        def _result_record(self, iteration, fitness, hyperparameters, dataset_metrics, save_dirs, failed):
            if fitness_key is not None:
                values = [(metrics or {}).get(fitness_key) for metrics in dataset_metrics.values()]
                values = [v for v in values if v is not None]
                fitness = sum(values) / len(values) if values else 0.0
            return super()._result_record(iteration, fitness, hyperparameters, dataset_metrics, save_dirs, failed)

        def _save_local_result(self, result):
            super()._save_local_result(result)
            on_iteration(result)  # may raise StopTuning, after the iteration is on disk

    tuner = StudioTuner({**args, "space": {k: tuple(v) for k, v in space.items()}}, model=model)
    tuner.tune_dir = Path(tune_dir)  # the run folder itself (Ultralytics would number a new one beside it)
    tuner.tune_file = tuner.tune_dir / "tune_results.ndjson"
    tuner.args.project = str(trials_dir)  # each iteration's training, not beside the project's runs
    if command is not None:
        trainer_module._YOLO_CLI_COMMAND = list(command)
    return tuner
