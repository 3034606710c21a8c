"""Validation with every prediction kept: Ultralytics' own ``val``, and what its validator saw per image.

``keep_predictions(model)`` adds a callback that, when Ultralytics' validator starts, wraps its
``update_metrics`` (the method every task's validator calls once per batch with the post-processed
predictions and the batch's labels). The wrapper lets Ultralytics do its work unchanged and records, per
image, the predictions (at the validator's ``conf``, 0.001 by default: nearly everything the model says) and
the ground truth, both in the original image's pixels. The metrics therefore are Ultralytics' own, from
the same pass; the kept predictions let the studio redo matching at any threshold without the model.

Boxes are ``x1 y1 x2 y2`` for detect, segment and pose (the box of each object), ``cx cy w h angle`` for
OBB; classify keeps the top-5 classes with their probabilities and the true class of each image.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Kept:
    """What the validator saw, in plain lists (``core.evaluation`` turns them into arrays)."""

    task: str = "detect"
    images: list = field(default_factory=list)  # path per image, in validation order
    sizes: list = field(default_factory=list)  # (height, width) per image
    truth: list = field(default_factory=list)  # rows (image, class, *box), or arrays of such rows
    predictions: list = field(default_factory=list)  # rows (image, class, confidence, *box), or arrays of them
    top5: list = field(default_factory=list)  # classify: (image, true class, [classes], [probabilities])


def keep_predictions(model, task: str) -> Kept:
    """Record what Ultralytics' validator sees when ``model`` (a ``YOLO``) validates next; returns the
    (filling) record."""
    kept = Kept(task=task)

    def on_val_start(validator):
        original = validator.update_metrics
        if task == "classify":  # its batches carry no file names: the dataset's samples, in order (no shuffle)
            samples = [str(s[0]) for s in getattr(getattr(validator.dataloader, "dataset", None), "samples", [])]

            def update_metrics(preds, batch):
                original(preds, batch)
                _keep_classes(kept, preds, batch, samples)
        else:
            def update_metrics(preds, batch):
                original(preds, batch)
                _keep_boxes(kept, validator, preds, batch)
        validator.update_metrics = update_metrics

    model.add_callback("on_val_start", on_val_start)
    return kept


def _keep_boxes(kept: Kept, validator, preds, batch) -> None:
    """Per image: its truth and predictions as arrays (``image, class, box`` and ``image, class, confidence,
    box``), scaled to the original image; hundreds of predictions an image stay numpy, never Python tuples."""
    import numpy as np
    from ultralytics.utils import ops

    rotated = kept.task == "obb"
    for si, pred in enumerate(preds):
        pbatch = validator._prepare_batch(si, batch)
        image = len(kept.images)
        kept.images.append(str(pbatch["im_file"]))
        kept.sizes.append(tuple(int(v) for v in pbatch["ori_shape"]))
        if len(pbatch["bboxes"]):
            truth = ops.scale_boxes(pbatch["imgsz"], pbatch["bboxes"].clone(), pbatch["ori_shape"],
                                    ratio_pad=pbatch["ratio_pad"], xywh=rotated).cpu().numpy()
            kept.truth.append(np.column_stack([np.full(len(truth), image), pbatch["cls"].cpu().numpy(), truth]))
        if len(pred["cls"]):
            boxes = ops.scale_boxes(pbatch["imgsz"], pred["bboxes"].clone(), pbatch["ori_shape"],
                                    ratio_pad=pbatch["ratio_pad"], xywh=rotated).cpu().numpy()
            kept.predictions.append(np.column_stack([np.full(len(boxes), image), pred["cls"].cpu().numpy(),
                                                     pred["conf"].cpu().numpy(), boxes]))


def _keep_classes(kept: Kept, preds, batch, samples: list) -> None:
    top = preds.topk(min(5, preds.shape[1]), dim=1)
    for truth, classes, probabilities in zip(batch["cls"].tolist(), top.indices.tolist(), top.values.tolist()):
        image = len(kept.images)
        kept.images.append(samples[image] if image < len(samples) else "")
        kept.sizes.append((0, 0))
        kept.top5.append((image, int(truth), classes, [round(p, 5) for p in probabilities]))


def metrics_of(results) -> dict:
    """Ultralytics' metrics of a ``val`` result, under its own keys (``metrics/mAP50-95(B)``...), plus the
    per-class figures it computed: ``{"per_class": {class: {...}}}``."""
    out = {k: float(v) for k, v in results.results_dict.items()}
    per_class = {}
    box = getattr(results, "box", None)
    if box is not None and len(getattr(box, "ap_class_index", [])):
        for k, c in enumerate(box.ap_class_index.tolist()):
            p, r, ap50, ap = box.class_result(k)
            per_class[int(c)] = {"precision": float(p), "recall": float(r), "mAP50": float(ap50), "mAP50-95": float(ap)}
    top1 = getattr(results, "top1", None)
    if top1 is not None:
        out.setdefault("metrics/accuracy_top1", float(top1))
        out.setdefault("metrics/accuracy_top5", float(results.top5))
    out["per_class"] = per_class
    return out
