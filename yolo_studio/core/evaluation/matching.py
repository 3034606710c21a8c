"""Predictions matched to ground truth at any threshold, from an evaluation's kept predictions.

Matching is greedy by confidence, per image: each prediction, most confident first, takes the unmatched
ground truth with the highest IoU at or above the IoU threshold, of its own class (``same``: true and false
positives, misses) or of any class (``any``: the confusion matrix, one class taken for another). Because
the most confident predictions decide first, the matching at a confidence threshold is the full matching
cut at that confidence: one matching per IoU threshold serves every confidence, and moving the confidence
slider is array arithmetic. Rotated boxes (OBB) are matched by the boxes that enclose them.

The confusion matrix is laid out as Ultralytics lays out its own: rows are predicted classes, columns true
classes, the last row and column the background (a missed object, a prediction of nothing).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SMALL, MEDIUM = 32 ** 2, 96 ** 2  # COCO's size buckets, by area in the original image's pixels
# Suspected label errors (``suspects``): how sure the model must be, and what counts as near.
SUSPECT_CONF, SUSPECT_IOU, NEAR_IOU, NEAR_CONF = 0.5, 0.5, 0.1, 0.25


def envelope(boxes: np.ndarray) -> np.ndarray:
    """``x1 y1 x2 y2`` of boxes given as such, or enclosing rotated boxes ``cx cy w h angle``."""
    if boxes.shape[1] == 4:
        return boxes
    cx, cy, w, h, a = boxes.T
    cos, sin = np.abs(np.cos(a)), np.abs(np.sin(a))
    half_w, half_h = (w * cos + h * sin) / 2, (w * sin + h * cos) / 2
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every ``x1 y1 x2 y2`` box of ``a`` with every one of ``b``."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(2)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


@dataclass
class Matching:
    """The full matching at one IoU threshold (per prediction and per ground truth, indices into the
    evaluation's arrays; -1: none)."""

    iou: float
    same: np.ndarray  # prediction -> the truth of its class it matched
    same_iou: np.ndarray
    any: np.ndarray  # prediction -> the truth of any class it matched
    any_iou: np.ndarray
    truth_same: np.ndarray  # truth -> the prediction of its class that matched it
    truth_any: np.ndarray  # truth -> the prediction of any class that matched it


class Matcher:
    """An evaluation's boxes in the arrays matching needs, and its matchings, one per IoU threshold."""

    def __init__(self, evaluation):
        self.evaluation = evaluation
        truth, preds = evaluation.truth, evaluation.predictions
        self.truth_image, self.truth_cls = truth[:, 0].astype(np.int64), truth[:, 1].astype(np.int64)
        self.pred_image, self.pred_cls = preds[:, 0].astype(np.int64), preds[:, 1].astype(np.int64)
        self.conf = preds[:, 2]
        self._conf_of = np.append(self.conf, -np.inf)  # index -1 (no prediction): never above a threshold
        self.truth_box, self.pred_box = envelope(truth[:, 2:]), envelope(preds[:, 3:])
        n = len(evaluation.images)
        self.truth_ranges = _ranges(self.truth_image, n)
        self.pred_ranges = _ranges(self.pred_image, n)
        area = (self.truth_box[:, 2] - self.truth_box[:, 0]) * (self.truth_box[:, 3] - self.truth_box[:, 1])
        self.truth_size = np.where(area < SMALL, 0, np.where(area < MEDIUM, 1, 2))
        self.classes = sorted(evaluation.names)

    @functools.lru_cache(maxsize=8)
    def matching(self, iou: float) -> Matching:
        p, t = len(self.conf), len(self.truth_cls)
        out = [np.full(p, -1), np.zeros(p), np.full(p, -1), np.zeros(p)]
        truth_same, truth_any = np.full(t, -1), np.full(t, -1)
        for image, (p0, p1) in enumerate(self.pred_ranges):
            t0, t1 = self.truth_ranges[image]
            if p0 == p1 or t0 == t1:
                continue
            ious = iou_matrix(self.pred_box[p0:p1], self.truth_box[t0:t1])
            same_class = self.pred_cls[p0:p1, None] == self.truth_cls[None, t0:t1]
            for k, (links, owner, wanted) in enumerate(((0, truth_same, same_class), (2, truth_any, None))):
                scores = np.where(ious >= iou, ious, -1.0) if wanted is None else np.where(wanted & (ious >= iou), ious, -1.0)
                taken = np.zeros(t1 - t0, dtype=bool)
                for j in np.flatnonzero((scores >= 0).any(1)):  # predictions in confidence order
                    row = np.where(taken, -1.0, scores[j])
                    best = int(row.argmax())
                    if row[best] >= 0:
                        taken[best] = True
                        out[links][p0 + j], out[links + 1][p0 + j] = t0 + best, row[best]
                        owner[t0 + best] = p0 + j
        return Matching(iou, out[0], out[1], out[2], out[3], truth_same, truth_any)

    # --- figures at a confidence ---------------------------------------------------------------

    def _seen(self, links: np.ndarray, conf: float) -> np.ndarray:
        """Per ground truth: whether the prediction that matched it (``links``) is at or above ``conf``."""
        return self._conf_of[links] >= conf

    def summary(self, conf: float, iou: float) -> dict:
        """Per class: images, instances, tp, fp, fn, precision, recall, F1; and the confusion matrix."""
        m = self.matching(iou)
        kept = self.conf >= conf
        found = self._seen(m.truth_same, conf)
        per_class = {}
        for c in self.classes:
            mine = self.pred_cls == c
            tp = int((kept & mine & (m.same >= 0)).sum())
            fp = int((kept & mine & (m.same < 0)).sum())
            truths = self.truth_cls == c
            instances = int(truths.sum())
            fn = instances - int((found & truths).sum())
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / instances if instances else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            per_class[c] = {"images": int(len(np.unique(self.truth_image[truths]))), "instances": instances, "tp": tp,
                            "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}
        return {"per_class": per_class, "confusion": self.confusion(conf, iou)}

    def confusion(self, conf: float, iou: float) -> np.ndarray:
        m = self.matching(iou)
        nc = max(self.classes, default=-1) + 1
        matrix = np.zeros((nc + 1, nc + 1), dtype=np.int64)
        kept = self.conf >= conf
        matched = kept & (m.any >= 0)
        np.add.at(matrix, (self.pred_cls[matched], self.truth_cls[m.any[matched]]), 1)
        np.add.at(matrix, (self.pred_cls[kept & (m.any < 0)], nc), 1)
        np.add.at(matrix, (nc, self.truth_cls[~self._seen(m.truth_any, conf)]), 1)
        return matrix

    def f1_optimal(self, iou: float) -> dict:
        """Per class: (the confidence with the highest F1, that F1)."""
        m = self.matching(iou)
        out = {}
        for c in self.classes:
            mine = np.flatnonzero(self.pred_cls == c)
            instances = int((self.truth_cls == c).sum())
            if not len(mine) or not instances:
                out[c] = (0.0, 0.0)
                continue
            order = mine[np.argsort(-self.conf[mine], kind="stable")]
            tp = np.cumsum(m.same[order] >= 0)
            fp = np.arange(1, len(order) + 1) - tp
            f1 = 2 * tp / np.maximum(tp + fp + instances, 1)
            best = int(f1.argmax())
            out[c] = (float(self.conf[order[best]]), float(f1[best]))
        return out

    def sizes(self, conf: float, iou: float) -> dict:
        """Recall by COCO size bucket: ``{"small": (instances, recall), ...}``."""
        found = self._seen(self.matching(iou).truth_same, conf)
        out = {}
        for k, name in enumerate(("small", "medium", "large")):
            bucket = self.truth_size == k
            n = int(bucket.sum())
            out[name] = (n, float((found & bucket).sum() / n) if n else 0.0)
        return out

    # --- errors, image by image -----------------------------------------------------------------

    def cell(self, conf: float, iou: float, row: int, column: int) -> list:
        """The errors of one confusion-matrix cell: ``[(image, prediction or -1, truth or -1)]``, most confident
        first (a missed object last)."""
        m = self.matching(iou)
        nc = max(self.classes, default=-1) + 1
        kept = self.conf >= conf
        if row == nc:  # missed objects of class ``column``
            seen = self._seen(m.truth_any, conf)
            return [(int(self.truth_image[t]), -1, int(t)) for t in np.flatnonzero(~seen & (self.truth_cls == column))]
        mine = kept & (self.pred_cls == row)
        if column == nc:
            picked = np.flatnonzero(mine & (m.any < 0))
            return [(int(self.pred_image[p]), int(p), -1) for p in picked]
        picked = np.flatnonzero(mine & (m.any >= 0) & (self.truth_cls[np.maximum(m.any, 0)] == column))
        return [(int(self.pred_image[p]), int(p), int(m.any[p])) for p in picked]

    def errors_per_image(self, conf: float, iou: float, cls: int | None = None) -> tuple:
        """(missed objects, false positives) per image, arrays in the evaluation's image order."""
        m = self.matching(iou)
        n = len(self.evaluation.images)
        fp_mask = (self.conf >= conf) & (m.same < 0)
        missed_mask = ~self._seen(m.truth_same, conf)
        if cls is not None:
            fp_mask &= self.pred_cls == cls
            missed_mask &= self.truth_cls == cls
        return (np.bincount(self.truth_image[missed_mask], minlength=n),
                np.bincount(self.pred_image[fp_mask], minlength=n))

    def ranked_images(self, conf: float, iou: float, cls: int | None = None) -> list:
        """Images by how wrong they are: ``[(image, missed, false positives, lowest IoU of a match)]``, the most
        errors first (then the lowest IoU); only images with an error (of class ``cls`` if given)."""
        m = self.matching(iou)
        n = len(self.evaluation.images)
        kept = self.conf >= conf
        missed, fp = self.errors_per_image(conf, iou, cls)
        lowest = np.ones(n)
        hit = kept & (m.same >= 0)
        np.minimum.at(lowest, self.pred_image[hit], m.same_iou[hit])
        wrong = np.flatnonzero(fp + missed)
        order = sorted(wrong, key=lambda i: (-(fp[i] + missed[i]), lowest[i]))
        return [(int(i), int(missed[i]), int(fp[i]), float(lowest[i])) for i in order]


@dataclass(frozen=True)
class Suspect:
    image: int
    kind: str  # missing_label, unmatched_label, wrong_class
    cls: int  # missing_label and wrong_class: the class the model sees; unmatched_label: the label's
    box: tuple  # x1 y1 x2 y2, pixels
    confidence: float  # the model's; unmatched_label: the most confident prediction near the label (0: none)


def suspects(matcher: Matcher, conf: float = SUSPECT_CONF, iou: float = SUSPECT_IOU) -> list:
    """Labels that look wrong rather than the model: a confident prediction with no ground truth near it
    (``missing_label``), a ground truth no confident prediction comes near (``unmatched_label``), a confident
    prediction of another class on a ground truth its own class does not match (``wrong_class``). Each kind
    ranked by how sure the model is (for unmatched labels: how little it sees there)."""
    m = matcher.matching(iou)
    out = {"missing_label": [], "unmatched_label": [], "wrong_class": []}
    sure = np.flatnonzero(matcher.conf >= conf)
    for p in sure:
        image = matcher.pred_image[p]
        t0, t1 = matcher.truth_ranges[image]
        near = iou_matrix(matcher.pred_box[p:p + 1], matcher.truth_box[t0:t1])[0]
        if not len(near) or near.max() < NEAR_IOU:
            out["missing_label"].append(Suspect(int(image), "missing_label", int(matcher.pred_cls[p]),
                                                tuple(map(float, matcher.pred_box[p])), float(matcher.conf[p])))
        elif m.any[p] >= 0 and matcher.truth_cls[m.any[p]] != matcher.pred_cls[p]:
            t = m.any[p]
            own = m.truth_same[t]
            if own < 0 or matcher.conf[own] < conf:
                out["wrong_class"].append(Suspect(int(image), "wrong_class", int(matcher.pred_cls[p]),
                                                  tuple(map(float, matcher.truth_box[t])), float(matcher.conf[p])))
    for image, (t0, t1) in enumerate(matcher.truth_ranges):
        if t0 == t1:
            continue
        p0, p1 = matcher.pred_ranges[image]
        seen = matcher.conf[p0:p1] >= NEAR_CONF
        ious = iou_matrix(matcher.truth_box[t0:t1], matcher.pred_box[p0:p1])
        for k in range(t1 - t0):
            near = (ious[k] >= NEAR_IOU) & seen if ious.shape[1] else np.zeros(0, dtype=bool)
            if not near.any():
                best = float(matcher.conf[p0:p1][ious[k] >= NEAR_IOU].max()) if (ious.shape[1] and (ious[k] >= NEAR_IOU).any()) else 0.0
                out["unmatched_label"].append(Suspect(image, "unmatched_label", int(matcher.truth_cls[t0 + k]),
                                                      tuple(map(float, matcher.truth_box[t0 + k])), best))
    out["missing_label"].sort(key=lambda s: -s.confidence)
    out["wrong_class"].sort(key=lambda s: -s.confidence)
    out["unmatched_label"].sort(key=lambda s: s.confidence)
    return out["missing_label"] + out["wrong_class"] + out["unmatched_label"]


def _ranges(image_of: np.ndarray, n: int) -> list:
    """``[(start, stop)]`` per image of rows sorted by image."""
    starts = np.searchsorted(image_of, np.arange(n), side="left")
    stops = np.searchsorted(image_of, np.arange(n), side="right")
    return list(zip(starts.tolist(), stops.tolist()))
