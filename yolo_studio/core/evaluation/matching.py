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
from dataclasses import dataclass, replace

import numpy as np

SMALL, MEDIUM = 32 ** 2, 96 ** 2  # COCO's size buckets, by area in the original image's pixels
# Suspected label errors (``suspects``): how sure the model must be, and what counts as near.
SUSPECT_CONF, SUSPECT_IOU, NEAR_IOU, NEAR_CONF = 0.5, 0.5, 0.1, 0.25
FAINT = 0.01  # predictions below it say nothing about a label: suspects never read them


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
            for links, owner, wanted in ((0, truth_same, same_class), (2, truth_any, None)):
                scores = np.where(ious >= iou, ious, -1.0) if wanted is None else np.where(wanted & (ious >= iou), ious, -1.0)
                candidates = np.flatnonzero((scores >= 0).any(1))  # predictions in confidence order
                taken = set()
                for j, row in zip(candidates.tolist(), scores[candidates].tolist()):  # a few labels each: plain lists
                    best, value = -1, -1.0
                    for k, v in enumerate(row):
                        if v > value and k not in taken:
                            best, value = k, v
                    if best >= 0:
                        taken.add(best)
                        out[links][p0 + j], out[links + 1][p0 + j] = t0 + best, value
                        owner[t0 + best] = p0 + j
        return Matching(iou, out[0], out[1], out[2], out[3], truth_same, truth_any)

    @functools.lru_cache(maxsize=1)
    def nearness(self) -> tuple:
        """(per prediction: its highest IoU with any ground truth; per ground truth: the highest confidence of a
        prediction at ``NEAR_IOU`` or more over it, -1 for none): what ``suspects`` reads, computed once."""
        pred_near = np.zeros(len(self.conf))
        truth_near = np.full(len(self.truth_cls), -1.0)
        for image, (p0, p1) in enumerate(self.pred_ranges):
            t0, t1 = self.truth_ranges[image]
            if p0 == p1 or t0 == t1:
                continue
            ious = iou_matrix(self.pred_box[p0:p1], self.truth_box[t0:t1])
            pred_near[p0:p1] = ious.max(1)
            near = ious >= NEAR_IOU
            truth_near[t0:t1] = np.where(near, self.conf[p0:p1, None], -1.0).max(0)
        return pred_near, truth_near

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

    @functools.lru_cache(maxsize=8)
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
        order = wrong[np.lexsort((lowest[wrong], -(fp + missed)[wrong]))]
        return list(zip(order.tolist(), missed[order].tolist(), fp[order].tolist(), lowest[order].tolist()))


@dataclass(frozen=True)
class Suspect:
    image: int
    kind: str  # missing_label, unmatched_label, wrong_class
    cls: int  # missing_label and wrong_class: the class the model sees; unmatched_label: the label's
    box: tuple  # x1 y1 x2 y2, pixels
    confidence: float  # the model's; unmatched_label: the most confident prediction near the label (0: none at 0.01)
    prediction: int = -1  # missing_label and wrong_class: the prediction (index in the evaluation)


def suspects(matcher: Matcher, conf: float = SUSPECT_CONF, iou: float = SUSPECT_IOU) -> list:
    """Labels that look wrong rather than the model: a confident prediction with no ground truth near it
    (``missing_label``), a ground truth no confident prediction comes near (``unmatched_label``), a confident
    prediction of another class on a ground truth its own class does not match (``wrong_class``). Each kind
    ranked by how sure the model is (for unmatched labels: how little it sees there)."""
    index = np.arange(len(matcher.conf))  # a prediction's index in the evaluation
    if matcher.conf.size and matcher.conf.min() < FAINT:  # the matching above a confidence is the full one cut
        keep = matcher.conf >= FAINT  # there: match only those (a validation keeps hundreds per image, most faint)
        index = index[keep]
        matcher = Matcher(replace(matcher.evaluation, predictions=matcher.evaluation.predictions[keep]))
    pred_near, truth_near_conf = matcher.nearness()
    m = matcher.matching(iou)
    sure = matcher.conf >= conf
    out = []
    for p in np.flatnonzero(sure & (pred_near < NEAR_IOU)):
        out.append(Suspect(int(matcher.pred_image[p]), "missing_label", int(matcher.pred_cls[p]),
                           tuple(map(float, matcher.pred_box[p])), float(matcher.conf[p]), int(index[p])))
    other = sure & (pred_near >= NEAR_IOU) & (m.any >= 0)
    other &= matcher.truth_cls[np.maximum(m.any, 0)] != matcher.pred_cls
    for p in np.flatnonzero(other):
        t = m.any[p]
        if not matcher._seen(m.truth_same[t:t + 1], conf)[0]:  # its own class does not match it, confidently
            out.append(Suspect(int(matcher.pred_image[p]), "wrong_class", int(matcher.pred_cls[p]),
                               tuple(map(float, matcher.truth_box[t])), float(matcher.conf[p]), int(index[p])))
    unseen = [Suspect(int(matcher.truth_image[t]), "unmatched_label", int(matcher.truth_cls[t]),
                      tuple(map(float, matcher.truth_box[t])), float(max(truth_near_conf[t], 0.0)))
              for t in np.flatnonzero(truth_near_conf < NEAR_CONF)]
    kinds = {"missing_label": 0, "wrong_class": 1}
    out.sort(key=lambda s: (kinds[s.kind], -s.confidence))
    return out + sorted(unseen, key=lambda s: s.confidence)


def _ranges(image_of: np.ndarray, n: int) -> list:
    """``[(start, stop)]`` per image of rows sorted by image."""
    starts = np.searchsorted(image_of, np.arange(n), side="left")
    stops = np.searchsorted(image_of, np.arange(n), side="right")
    return list(zip(starts.tolist(), stops.tolist()))
