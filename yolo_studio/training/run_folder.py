"""A run folder: everything one training needs and leaves behind, in one place.

```
<project>/runs/<name>/
  artifacts/  run.yaml (what to train: model, data, task, overrides), resolved.yaml (every argument),
              command.txt (the same run as a plain `yolo` command), the model YAML, modules/ (block files)
  logs/       train.log (the training process's full output)
  weights/    best.pt, last.pt (Ultralytics)
  control/    stop (created to ask the run to stop between batches)
  events.jsonl, results.csv and Ultralytics' plots
```

The block files travel with the run, so its checkpoints load in a fresh process from the run
folder alone (``load_run_checkpoint``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.blocks.custom_blocks import code_files
from yolo_studio.training.train_config import custom_blocks_in, resolve, terminal_commands
from yolo_studio.training.transfer_weights import TRANSFERRED


LOGGERS = {"tensorboard": "tensorboard", "mlflow": "mlflow"}  # integration -> the package it needs


def logging_available(integration: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(LOGGERS[integration]) is not None


@dataclass(frozen=True)
class RunFolder:
    path: Path

    artifacts = property(lambda self: self.path / "artifacts")
    events = property(lambda self: self.path / "events.jsonl")
    log = property(lambda self: self.path / "logs" / "train.log")
    stop_file = property(lambda self: self.path / "control" / "stop")
    last = property(lambda self: self.path / "weights" / "last.pt")
    best = property(lambda self: self.path / "weights" / "best.pt")
    modules = property(lambda self: self.path / "artifacts" / "modules")
    results_csv = property(lambda self: self.path / "results.csv")

    def spec(self) -> dict:
        """``artifacts/run.yaml``: model (file in artifacts), data, task, overrides."""
        return yaml.safe_load((self.artifacts / "run.yaml").read_text(encoding="utf-8"))

    @property
    def model(self) -> Path:
        return self.artifacts / self.spec()["model"]

    def request_stop(self) -> None:
        self.stop_file.parent.mkdir(parents=True, exist_ok=True)
        self.stop_file.write_text("stop\n")

    def clear_stop(self) -> None:
        self.stop_file.unlink(missing_ok=True)


def prepare_run(model: str | Path, data: str | Path, runs_dir: str | Path, name: str, overrides: dict,
                task: str = "detect", modules_dir: str | Path | None = None, logging: dict | None = None,
                weights: str | Path | None = None, parent: str | Path | None = None) -> RunFolder:
    """Create the run folder with its artifacts; raises ValueError for arguments Ultralytics refuses.

    ``model`` is a YAML or a checkpoint to fine-tune (copied into the run, as a YAML is). ``weights``: a
    checkpoint a YAML model starts from; the training process matches its layers by structure and
    trains from the remapped ``artifacts/transferred.pt`` (``transfer.json`` says what came from where).
    ``parent``: the finished run this one continues (its curves come first in this run's history).

    ``logging``: ``{"tensorboard": bool, "mlflow": bool}``, the run's offline experiment logging.
    """
    missing = [name for name, on in (logging or {}).items() if on and not logging_available(name)]
    if missing:
        raise ValueError(f"{' and '.join(missing)} logging needs the {', '.join(LOGGERS[m] for m in missing)} "
                         "package, not installed here: pip install 'yolo-studio[logging]', or turn it off")
    resolved = resolve(overrides)
    if not resolved.ok:
        raise ValueError("; ".join(message for _key, message in resolved.problems))
    overrides = resolved.overrides
    if "device" in overrides:  # several "-1" (idle GPUs): every rank must train on the same ones
        from yolo_studio.core.devices import idle_gpus_chosen, nvml_gpus

        overrides = {**overrides, "device": idle_gpus_chosen(overrides["device"], nvml_gpus())}
    model, data = Path(model).resolve(), Path(data).resolve()
    run = RunFolder(Path(runs_dir).resolve() / name)
    run.artifacts.mkdir(parents=True, exist_ok=True)
    (run.path / "logs").mkdir(exist_ok=True)
    shutil.copy2(model, run.artifacts / model.name)
    if modules_dir is not None and code_files(modules_dir):
        run.modules.mkdir(exist_ok=True)
        for path in code_files(modules_dir):  # a fork's tasks.py too: the run builds as the inspection did
            shutil.copy2(path, run.modules / path.name)
    spec = {"model": model.name, "source_model": str(model), "data": str(data), "task": task,
            "modules": str(modules_dir) if modules_dir else None, "overrides": overrides,
            "logging": {k: bool((logging or {}).get(k)) for k in LOGGERS},
            "weights": str(Path(weights).resolve()) if weights else None,
            "parent": str(Path(parent).resolve()) if parent else None}
    write_text_atomic(run.artifacts / "run.yaml", yaml.safe_dump(spec, sort_keys=False))
    extra = {"pretrained": str(run.artifacts / TRANSFERRED)} if weights else {}
    full = {**resolved.config, "model": str(run.artifacts / model.name), "data": str(data), "task": task,
            "project": str(run.path.parent), "name": name, **extra}
    write_text_atomic(run.artifacts / "resolved.yaml", yaml.safe_dump(full, sort_keys=False))
    custom = []
    if run.modules.is_dir() and model.suffix.lower() in (".yaml", ".yml"):
        from yolo_studio.core.model.document import ModelDocument

        custom = custom_blocks_in(ModelDocument.load(run.artifacts / model.name), run.modules)
    command = terminal_commands(task, resolved, str(run.artifacts / model.name), str(data),
                                {"project": str(run.path.parent), "name": name, "exist_ok": True, **extra},
                                custom, run.modules if custom else None, run.path.parent.parent)
    write_text_atomic(run.artifacts / "command.txt", command.rstrip("\n") + "\n")
    return run


def register_run_blocks(run: RunFolder, model_yaml: Path | None = None) -> dict:
    """Install the parse hook with the run's own block files (and Ultralytics' extra blocks)."""
    from yolo_studio.compat import ultralytics_hook
    from yolo_studio.core.model.catalog import studio_built_blocks

    blocks = studio_built_blocks(_module_names(Path(model_yaml))) if model_yaml else {}
    if run.modules.is_dir():  # a block file's own class wins over Ultralytics' of the same name, as in inspection
        blocks.update(ultralytics_hook.load_block_folder(run.modules))
    ultralytics_hook.install(blocks)
    return blocks


def _module_names(model: Path) -> list:
    """The module names of a model YAML's rows, or of the YAML a checkpoint stores (read without running it)."""
    from yolo_studio.core.model.checkpoints import read_checkpoint
    from yolo_studio.core.model.document import ModelDocument

    if model.suffix == ".pt":
        stored = read_checkpoint(model).model_yaml or {}
        return [str(r[2]) for r in (stored.get("backbone") or []) + (stored.get("head") or [])]
    return [r.module for r in ModelDocument.load(model).rows]


def checkpoint_blocks(path: str | Path) -> Path | None:
    """The folder of custom block files that travels with a checkpoint, if any: ``modules/`` beside
    it (registry, hydra), or the run's ``artifacts/modules/`` for ``runs/<name>/weights/*.pt``."""
    path = Path(path).resolve()
    if (path.parent / "modules").is_dir():
        return path.parent / "modules"
    run = RunFolder(path.parent.parent if path.parent.name == "weights" else path.parent)
    return run.modules if run.modules.is_dir() else None


def load_run_checkpoint(path: str | Path):
    """``YOLO`` for a checkpoint, with the custom blocks that travel with it registered first.

    The blocks are found beside a registry entry's ``model.pt`` (``modules/``) or in the run folder
    of ``runs/<name>/weights/*.pt`` (``artifacts/modules/``); any other ``.pt`` loads as it is.
    """
    from yolo_studio.compat import ultralytics_hook

    blocks = checkpoint_blocks(path)
    if blocks is not None:
        ultralytics_hook.install(ultralytics_hook.load_block_folder(blocks))
    from ultralytics import YOLO

    return YOLO(str(path))
