"""``yolo-studio val`` and the Evaluate page: Ultralytics' validation, every prediction kept, in an evaluation folder.

The model is a run (its ``best.pt``), a registry reference, or a ``.pt``; the data defaults to the one the
run or registry version was trained on. The folder goes beside the run (``<run>/evaluations/<name>``), else
into the project's ``evaluations/``, else ``evaluations/`` in the working folder. It holds Ultralytics'
metrics as Ultralytics computed them in that pass, the kept predictions and ground truth
(``core.evaluation.store``), the suspected label errors at the default thresholds, and the referee's COCO
figures (``coco_referee``: with ``referee=True``, else when the Evaluate page first shows it).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from yolo_studio.core.evaluation import matching
from yolo_studio.core.evaluation.store import SUSPECTS_CSV, Evaluation, write_suspects

VAL_ARGUMENTS = ("split", "conf", "iou", "imgsz", "batch", "device", "half", "max_det", "workers", "plots",
                 "save_json", "rect", "single_cls", "agnostic_nms", "classes")


def trained_on(weights: Path) -> Path | None:
    """The data YAML a checkpoint's run (or registry version) was trained on, when it still exists."""
    import yaml

    candidates = []
    entry = weights.parent / "entry.yaml"
    if weights.name == "model.pt" and entry.is_file():
        candidates.append((yaml.safe_load(entry.read_text(encoding="utf-8")) or {}).get("dataset", {}).get("path"))
    run_yaml = weights.parent.parent / "artifacts" / "run.yaml"
    if run_yaml.is_file():
        candidates.append((yaml.safe_load(run_yaml.read_text(encoding="utf-8")) or {}).get("data"))
    return next((Path(c) for c in candidates if c and Path(c).exists()), None)  # a classify dataset: a folder


def evaluation_folder(weights: Path, project=None, name: str | None = None) -> Path:
    """Where an evaluation of ``weights`` goes (a new folder each time: ``name``, ``name-2``...)."""
    if weights.parent.name == "weights" and (weights.parent.parent / "artifacts").is_dir():
        root = weights.parent.parent / "evaluations"
    elif project is not None:
        root = Path(project.root) / "evaluations"
    else:
        root = Path("evaluations")
    base = name or time.strftime("val-%Y%m%d-%H%M%S")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", base):
        raise ValueError(f"'{base}' cannot be an evaluation name: use letters, digits, '.', '-' or '_'")
    folder, n = root / base, 1
    while folder.exists():
        n += 1
        folder = root / f"{base}-{n}"
    return folder


def evaluate(model, data=None, project=None, name: str | None = None, overrides: dict | None = None,
             referee: bool = False) -> Evaluation:
    """Validate ``model`` (a run folder, registry reference or ``.pt``) on ``data`` and write the evaluation
    folder; returns the evaluation (its ``folder`` set). Raises ``ValueError`` for what the user can fix.
    ``referee``: compute COCO's figures now (else the Evaluate page computes them when it first shows the
    evaluation, so that validation costs what Ultralytics' own does)."""
    from yolo_studio.compat.evaluation import keep_predictions, metrics_of
    from yolo_studio.core.offline import ultralytics_settings_offline
    from yolo_studio.deploy.predict import load_model, resolve_model

    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(VAL_ARGUMENTS))
    if unknown:
        raise ValueError(f"not a validation argument: {', '.join(unknown)} (use {', '.join(VAL_ARGUMENTS)})")
    weights = resolve_model(model, project)
    data = Path(data) if data else trained_on(weights)
    if data is None:
        raise ValueError(f"no dataset given, and the one {weights.name} was trained on is not there: give --data")
    if not data.exists():
        raise ValueError(f"{data} does not exist")
    folder = evaluation_folder(weights, project, name)
    ultralytics_settings_offline()
    yolo = load_model(weights)
    kept = keep_predictions(yolo, yolo.task)
    started = time.perf_counter()
    results = yolo.val(data=str(data), project=str(folder.parent), name=folder.name, exist_ok=True, verbose=False,
                       **({"plots": False} | overrides))
    seconds = time.perf_counter() - started
    source = {"model": str(weights), "data": str(data), "split": overrides.get("split", "val"),
              "arguments": overrides, "seconds": round(seconds, 3)}
    evaluation = Evaluation.from_kept(kept, dict(yolo.names), metrics_of(results), source)
    if referee and evaluation.task != "classify":
        evaluation.referee = coco_referee(evaluation)
    evaluation.save(folder)
    if evaluation.task != "classify":
        write_suspects(evaluation, matching.suspects(matching.Matcher(evaluation)), folder / SUSPECTS_CSV)
    return evaluation


REFEREES = ("faster_coco_eval", "pycocotools")  # the first installed one referees (PERFORMANCE.md: why this order)


def coco_referee(evaluation: Evaluation, library: str | None = None) -> dict:
    """COCO's own mAP (``COCOeval``, box IoU) from the kept predictions: an independent figure beside
    Ultralytics'. Rotated boxes are refereed by the boxes that enclose them."""
    import contextlib
    import importlib.util
    import io
    import threading

    library = library or next((name for name in REFEREES if importlib.util.find_spec(name)), None)
    if library is None:
        return {"error": f"no referee installed ({' or '.join(REFEREES)})"}
    if library == "faster_coco_eval":
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    else:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    boxes_t, boxes_p = matching.envelope(evaluation.truth[:, 2:]), matching.envelope(evaluation.predictions[:, 3:])
    if not len(boxes_p):
        return {"mAP50-95": 0.0, "mAP50": 0.0, "library": library}
    ltwh = lambda b: [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]  # noqa: E731
    dataset = {
        "images": [{"id": i, "height": int(h), "width": int(w)} for i, (h, w) in enumerate(evaluation.sizes)],
        "categories": [{"id": c} for c in evaluation.names],
        "annotations": [{"id": k + 1, "image_id": int(t[0]), "category_id": int(t[1]), "bbox": ltwh(b),
                         "area": float((b[2] - b[0]) * (b[3] - b[1])), "iscrowd": 0}
                        for k, (t, b) in enumerate(zip(evaluation.truth, boxes_t))]}
    # the libraries print their progress; silenced on the main thread only (sys.stdout is the process's: in a
    # worker thread, redirecting it would swallow what the main thread prints meanwhile)
    quiet = contextlib.redirect_stdout(io.StringIO()) if threading.current_thread() is threading.main_thread() \
        else contextlib.nullcontext()
    with quiet:
        ground = COCO()
        ground.dataset = dataset
        ground.createIndex()
        found = ground.loadRes([{"image_id": int(p[0]), "category_id": int(p[1]), "score": float(p[2]), "bbox": ltwh(b)}
                                for p, b in zip(evaluation.predictions, boxes_p)])
        coco = COCOeval(ground, found, "bbox")
        coco.params.maxDets = [1, 10, 300]  # as many as Ultralytics keeps per image
        coco.evaluate()
        coco.accumulate()
    precision = coco.eval["precision"][:, :, :, 0, 2]  # IoU x recall x class, all areas, 300 detections

    def mean(values):
        values = values[values > -1]
        return float(values.mean()) if values.size else 0.0

    return {"mAP50-95": mean(precision), "mAP50": mean(precision[0]), "library": library}
