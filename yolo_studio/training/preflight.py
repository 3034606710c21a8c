"""Preflight: everything that can be known to fail before a training starts.

``preflight(plan)`` returns ``Check``s: errors block the start and say what to fix, warnings do
not. It covers the run name and folder, disk space, the resolved arguments, the model (it builds;
its task fits the dataset; ``nc`` against the dataset's classes, with a fix the studio can apply),
custom blocks, the dataset (YAML, folders, images, labels) and the device.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from yolo_studio.compat import model_dict
from yolo_studio.core.data.dataset_check import check_dataset
from yolo_studio.core.devices import requested_gpus

MIN_FREE_BYTES = 500 * 1024**2  # below this, checkpoints and plots may not fit
LOW_FREE_BYTES = 5 * 1024**3
CPU_WARN_WORK = 20 * 1000 * 640 * 640  # epochs x images x pixels above which CPU training takes hours
_NAME = re.compile(r"^[\w.+-][\w .+-]*$")


@dataclass
class Check:
    severity: str  # error | warning | ok
    topic: str  # run | disk | arguments | model | blocks | dataset | device
    message: str
    fix: tuple | None = None  # an action the studio can apply, e.g. ("set_nc", 3)
    more_fixes: tuple = ()  # other actions that also settle it, offered beside ``fix``

    @property
    def fixes(self) -> tuple:
        return ((self.fix,) if self.fix is not None else ()) + tuple(self.more_fixes)


@dataclass
class Plan:
    """What a training run would do, before it exists."""

    model: Path
    data: Path
    runs_dir: Path  # <project>/runs
    name: str
    config: dict  # the resolved arguments
    modules_dir: Path | None = None
    resume: bool = False
    unsaved_in: str | None = None  # where the model has unsaved edits ("the Model tab"), from the register
    train_saved: bool = False  # the user chose to train the saved file all the same
    weights: Path | None = None  # a checkpoint whose weights a YAML model starts from (matched by structure)
    cluster: object | None = None  # training.cluster.Cluster to train on, None for this computer
    gpus: int = 0  # GPUs per run on the cluster


@dataclass
class PreflightResult:
    checks: list = field(default_factory=list)
    task: str | None = None
    devices: list = field(default_factory=list)  # "cuda:0 NVIDIA ... (10.2 GiB free of 24.0)"

    @property
    def errors(self) -> list:
        return [c for c in self.checks if c.severity == "error"]

    @property
    def warnings(self) -> list:
        return [c for c in self.checks if c.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def preflight(plan: Plan, problems: list = ()) -> PreflightResult:
    """Check a plan; ``problems`` are the resolver's ``(key, message)`` pairs."""
    result = PreflightResult()
    add = result.checks.append
    for _key, message in problems:
        add(Check("error", "arguments", message))
    _check_run(plan, add)
    dataset = check_dataset(plan.data)
    for message in dataset.errors:
        add(Check("error", "dataset", message))
    if not dataset.errors:
        counts = ", ".join(f"{s}: {c['images']} images" + (f", {c['boxes']} boxes" if dataset.task != "classify" else "")
                           for s, c in dataset.splits.items())
        add(Check("ok", "dataset", f"{plan.data.name}: {dataset.nc} classes; {counts}"))
    result.task = _check_model(plan, dataset, result.checks)
    if plan.cluster is not None:  # the job gets its GPUs from the cluster; this computer's do not matter
        _check_cluster(plan, add)
        return result
    result.devices = cuda_devices()
    _check_device(plan, dataset, result.devices, add)
    return result


def _check_cluster(plan: Plan, add) -> None:
    from yolo_studio.training import cluster

    if not cluster.ray_available():
        add(Check("error", "cluster", f"running on a cluster needs Ray, not installed here: {cluster.ENABLE}"))
        return
    for ok, topic, message in cluster.preflight(plan.cluster, plan.data, plan.gpus):
        add(Check("ok" if ok else "error", topic, message))


def _check_run(plan: Plan, add) -> None:
    if not plan.name or not _NAME.match(plan.name):
        add(Check("error", "run", f"'{plan.name}' cannot be a run name: use letters, digits, '.', '-' or '_'"))
        return
    run_dir = plan.runs_dir / plan.name
    if run_dir.exists() and not plan.resume and any(run_dir.iterdir()):
        add(Check("error", "run", f"a run named '{plan.name}' already exists in {plan.runs_dir}: choose another "
                                  f"name (e.g. '{free_name(plan.runs_dir, plan.name)}') or resume it",
                  ("set_name", free_name(plan.runs_dir, plan.name))))
    try:
        plan.runs_dir.mkdir(parents=True, exist_ok=True)
        probe = plan.runs_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        add(Check("error", "run", f"cannot write to {plan.runs_dir}: {exc.strerror or exc}; choose another project "
                                  "folder"))
        return
    free = shutil.disk_usage(plan.runs_dir).free
    if free < MIN_FREE_BYTES:
        add(Check("error", "disk", f"only {free / 1024**2:.0f} MiB free in {plan.runs_dir}: free some space"))
    elif free < LOW_FREE_BYTES:
        add(Check("warning", "disk", f"{free / 1024**3:.1f} GiB free in {plan.runs_dir}: long runs with plots "
                                     "may run out"))


def free_name(runs_dir: Path, name: str) -> str:
    """``name`` if no run has it, else ``name-2``, ``name-3``, ..."""
    base = re.sub(r"-\d+$", "", name) or "run"
    candidate, n = name, 1
    while (runs_dir / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


NEEDS = {"detect": "boxes, polygons or rotated boxes", "segment": "a polygon on every line",
         "obb": "four corners on every line ('class x1 y1 x2 y2 x3 y3 x4 y4')",
         "pose": "keypoints ('kpt_shape' in the data YAML)", "classify": "a folder of train/<class>/ images"}


def task_mismatch(model_task: str, model_said: str, dataset, data_name: str) -> str | None:
    """Why a ``model_task`` model cannot train on ``dataset`` (a DatasetReport), naming the file that says
    what: the model's head, the dataset's label lines. None when it can (``yolo_labels.TRAINS_ON``)."""
    from yolo_studio.core.data.yolo_labels import TRAINS_ON

    if dataset.task in TRAINS_ON.get(model_task, (model_task,)):
        return None
    if dataset.task == "classify":
        said = f"{data_name} is a classification folder (train/<class>/ images, no labels)"
    elif dataset.task == "pose":
        said = f"{data_name} is a pose dataset (kpt_shape {dataset.content.get('kpt_shape')})"
    else:
        said = f"the labels of {data_name} hold {dataset.labels_said()}"
    def a(task: str) -> str:
        return f"an {task}" if task[0] in "aeiou" else f"a {task}"

    return (f"{model_said} is {a(model_task)} model but {said}: {a(model_task)} model needs "
            f"{NEEDS.get(model_task, model_task + ' labels')}. Pick {a(dataset.task)} model, or {a(model_task)} dataset")


def task_narrowing(model_task: str, model_name: str, dataset) -> str | None:
    """What a model keeps of labels richer than its task (a detect model on outlines or rotated boxes trains
    the upright box around each), so that the user knows which model keeps them; None when nothing is lost."""
    kept = {("detect", "segment"): ("outlines", "a -seg model keeps the masks"),
            ("detect", "obb"): ("rotated boxes", "an -obb model keeps the angles"),
            ("segment", "obb"): ("rotated boxes", "an -obb model trains them as rotated boxes")}.get(
        (model_task, dataset.task))
    if kept is None:
        return None
    what, other = kept
    trains = "upright boxes around" if model_task == "detect" else "outlines from"
    return f"{model_name} is a {model_task} model: it trains {trains} the {what} of this dataset; {other}"


def _check_model(plan: Plan, dataset, checks: list) -> str | None:
    from yolo_studio.compat import fork_tasks
    from yolo_studio.compat import heads
    from yolo_studio.core.blocks.block_check import load_vetted_blocks
    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.errors import ModelYamlError, StudioError
    from yolo_studio.core.model.inspection import inspect_dict
    from yolo_studio.core.model.memory_guard import machine_budget
    from yolo_studio.core.model.model_names import is_shipped_copy
    from yolo_studio.core.model.validation import validate

    add = checks.append
    if plan.unsaved_in and plan.train_saved:
        add(Check("warning", "model", f"{plan.model.name}: training the saved file; the unsaved edits in "
                                      f"{plan.unsaved_in} are not in it"))
    elif plan.unsaved_in:
        add(Check("error", "model", f"{plan.model.name} has unsaved edits in {plan.unsaved_in}: save them, or "
                                    "train the saved file without them", ("save_model", str(plan.model)),
                  (("train_saved", str(plan.model)),)))
    if plan.model.suffix == ".pt":
        if plan.weights is not None:
            add(Check("error", "model", f"{plan.model.name} is a checkpoint: it starts from its own weights, so "
                                        f"weights from {plan.weights.name} cannot be added. Clear the weights, or "
                                        "train a model YAML (the one it was trained from) with them",
                      ("clear_weights", None)))
        return _check_checkpoint(plan, dataset, add)
    try:
        doc = ModelDocument.load(plan.model)
    except (ModelYamlError, OSError) as exc:
        add(Check("error", "model", f"{exc}"))
        return None
    catalog, block_errors = catalog_with_blocks(plan.modules_dir)
    for problem in validate(doc, catalog):
        if problem.severity == "error":
            where = f"layer {problem.layer}: " if problem.layer is not None else ""
            add(Check("error", "model", f"{plan.model.name}: {where}{problem.message}. {problem.hint}".strip()))
    uses_custom = any(catalog.get(r.module) is not None and catalog.get(r.module).category == "custom"
                      for r in doc.rows)
    blocks = {}
    if uses_custom:
        blocks, load_errors = load_vetted_blocks(plan.modules_dir)
        for exc in list(block_errors) + load_errors:
            add(Check("error", "blocks", str(exc)))
        if not load_errors and not block_errors:
            add(Check("ok", "blocks", f"custom blocks registered: {', '.join(sorted(blocks))}"))
            for note in fork_tasks.apply(plan.modules_dir, dict(blocks))[1]:  # a fork's tasks.py, read
                add(Check("ok" if "parse_model builds" in note else "warning", "blocks", note))
    if any(c.severity == "error" and c.topic in ("model", "blocks") for c in checks):
        return None
    try:
        report = inspect_dict(doc.to_dict(), imgsz=64, blocks=blocks, memory_limit=machine_budget())
    except StudioError as exc:
        add(Check("error", "model", f"{plan.model.name}: the model does not build: {exc}"))
        return None
    add(Check("ok", "model", f"{plan.model.name}: {report.task}, {len(report.layers)} layers, {report.params:,} params"))
    for note in report.notes:
        if heads.ADAPTED_NOTE in note:  # said once: the head's own code runs, translated
            add(Check("ok", "model", f"{plan.model.name}: {note}"))
    head = doc.rows[-1].module if doc.rows else "?"
    mismatch = task_mismatch(report.task, f"{plan.model.name} (its last layer is {head})", dataset, plan.data.name)
    if mismatch:
        add(Check("error", "model", mismatch))
    elif narrowed := task_narrowing(report.task, plan.model.name, dataset):
        add(Check("warning", "model", narrowed))
    elif report.task == "pose":
        _check_kpt_shape(doc.header.get("kpt_shape"), dataset, plan, add)
    nc = doc.header.get("nc")
    if dataset.nc and isinstance(nc, int) and nc != dataset.nc:
        if is_shipped_copy(plan.model):  # Ultralytics' own YAML, by name: nothing of the user's to edit
            add(Check("warning", "model", f"{plan.model.name} has nc={nc} but {plan.data.name} has {dataset.nc} "
                                          "classes: Ultralytics will override it, as plain yolo does"))
        else:
            add(Check("warning", "model", f"the model has nc={nc} but {plan.data.name} has {dataset.nc} classes: "
                                          f"Ultralytics will override it; set nc: {dataset.nc} in the model to match",
                      ("set_nc", dataset.nc)))
    if plan.weights is not None:
        _check_weights(plan, doc, blocks, add)
    return report.task


def _check_kpt_shape(model_shape, dataset, plan: Plan, add) -> None:
    """A pose model's ``kpt_shape`` against the dataset's (Ultralytics builds the head for the dataset's)."""
    data_shape = dataset.content.get("kpt_shape")
    if model_shape and data_shape and list(model_shape) != list(data_shape):
        add(Check("warning", "model", f"{plan.model.name} has kpt_shape {list(model_shape)} but {plan.data.name} has "
                                      f"{list(data_shape)}: Ultralytics builds the head for the dataset's keypoints; "
                                      f"set kpt_shape: {list(data_shape)} in the model to match"))


PICKLE_NOTE = ("a checkpoint is a Python pickle: Ultralytics loads it when the training starts, which runs code "
               "from it; train only from files you trust (a run of yours, or weights from their publisher)")


def _read(path: Path, add):
    from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint

    try:
        return read_checkpoint(path)
    except CheckpointError as exc:
        add(Check("error", "model", str(exc)))
        return None


def _check_checkpoint(plan: Plan, dataset, add) -> str | None:
    """Fine-tuning from a checkpoint: what it is, read without running it, against the dataset."""
    info = _read(plan.model, add)
    if info is None:
        return None
    add(Check("ok", "model", f"{plan.model.name}: {info.summary()}; {PICKLE_NOTE}"))
    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks

    catalog, _errors = catalog_with_blocks(plan.modules_dir)
    stored = (info.model_yaml or {}).get("backbone", []) + (info.model_yaml or {}).get("head", [])
    unknown = sorted({str(r[2]) for r in stored if catalog.get(str(r[2])) is None})
    if unknown:
        add(Check("error", "blocks", f"{plan.model.name} uses blocks that are neither Ultralytics' nor in the "
                                     f"modules folder: {', '.join(unknown)}. Give the folder of their files "
                                     "(--modules, or the project's modules/)"))
    mismatch = task_mismatch(info.task, f"{plan.model.name} (a checkpoint)", dataset, plan.data.name) \
        if info.task else None
    if mismatch:
        add(Check("error", "model", mismatch))
    if dataset.nc and info.names and info.nc != dataset.nc:
        shown = ", ".join(list(info.names.values())[:4]) + (", ..." if info.nc > 4 else "")
        add(Check("warning", "model", f"{plan.model.name} was trained on {info.nc} classes ({shown}) but "
                                      f"{plan.data.name} has {dataset.nc}: the head's class outputs start from "
                                      "scratch for the new classes; every other layer keeps its weights"))
    return info.task


def _check_weights(plan: Plan, doc, blocks: dict, add) -> None:
    """A YAML model starting from a checkpoint's weights: the transfer, matched by structure."""
    from yolo_studio.core.model.transfer import plan_transfer, target_shapes

    info = _read(plan.weights, add)
    if info is None:
        return
    report, _ = plan_transfer(info.state, info.model_yaml, doc.to_dict(),
                              target_shapes(doc.to_dict(), model_dict.scale_for_file(plan.model, doc.to_dict()), blocks))
    add(Check("ok", "model", f"weights from {plan.weights.name} ({info.summary()}): {report.headline()} "
                             f"({PICKLE_NOTE})"))
    fresh = [t for t in report.layers if t.state in ("none", "partial")]
    if fresh:
        add(Check("warning", "model", "start from scratch or only partly: " +
                  "; ".join(t.describe() for t in fresh[:4]) + (f"; and {len(fresh) - 4} more" if len(fresh) > 4 else "")))


def cuda_devices() -> list:
    """One line per CUDA device: index, name, free and total memory; empty without CUDA. Read through NVML:
    the studio process never creates a CUDA context (``core/devices.py``)."""
    from yolo_studio.core.devices import nvml_gpus

    return [f"cuda:{g['index']} {g['name']} ({g['free_gb']:.1f} GiB free of {g['total_gb']:.1f})" for g in nvml_gpus()]


def _check_several_gpus(config: dict, gpus: int, add) -> None:
    """What Ultralytics checks when it launches DDP itself and skips under an external launcher (the
    studio's): AutoBatch does not run (batch=-1 crashed the ranks), the batch is split evenly, and
    rectangular batches are off."""
    batch = config.get("batch", 16)
    fix = ("set_arg", ("batch", 16 * gpus))
    if not isinstance(batch, int) or batch < 1:
        add(Check("error", "arguments", f"batch={batch} (AutoBatch) cannot be used with {gpus} GPUs: it does not run "
                                        f"under the distributed launcher. Set a batch, e.g. batch={16 * gpus} "
                                        f"({16} per GPU)", fix))
    elif batch % gpus:
        even = max(gpus, round(batch / gpus) * gpus)
        add(Check("error", "arguments", f"batch={batch} cannot be split evenly over {gpus} GPUs: use a multiple of "
                                        f"{gpus}, e.g. batch={even}", ("set_arg", ("batch", even))))
    if config.get("rect"):
        add(Check("error", "arguments", f"rect=True cannot be used with {gpus} GPUs (Ultralytics turns it off "
                                        "when it launches them itself): set rect=False", ("set_arg", ("rect", False))))


def _check_device(plan: Plan, dataset, devices: list, add) -> None:
    device = plan.config.get("device")
    wanted = requested_gpus(device)
    if len(wanted) >= 2:
        _check_several_gpus(plan.config, len(wanted), add)
    if wanted and not devices:
        add(Check("error", "device", f"device={device} asks for CUDA but no CUDA device is available: use "
                                     "device=cpu", ("set_device", "cpu")))
        return
    missing = [i for i in wanted if i >= len(devices)]
    if missing:
        add(Check("error", "device", f"device={device}: no CUDA device {missing[0]} (found {len(devices)})"))
        return
    for line in devices:
        add(Check("ok", "device", line))
    on_cpu = not wanted and (not devices or str(device).lower() == "cpu")
    if on_cpu:
        images = sum(c["images"] for s, c in dataset.splits.items() if s == "train")
        imgsz = plan.config.get("imgsz") or 640
        imgsz = max(imgsz) if isinstance(imgsz, list) else imgsz
        work = (plan.config.get("epochs") or 1) * images * imgsz * imgsz
        level = "warning" if work > CPU_WARN_WORK else "ok"
        add(Check(level, "device", "training on the CPU" + (": this run is large and may take many hours"
                                                             if level == "warning" else "")))
