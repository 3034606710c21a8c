"""Classification evaluations: top-1 and top-5 accuracy, per-class accuracy and the pairs of classes confused,
from the top-5 each image's validation kept (``store.Evaluation.top5``)."""

from __future__ import annotations

from collections import Counter


def figures(evaluation) -> dict:
    """``{"top1", "top5", "per_class": {class: (images, accuracy)}, "confused": [(true, predicted, count)]}``,
    the confused pairs most frequent first."""
    rows = evaluation.top5
    n = len(rows)
    top1 = sum(1 for _i, truth, classes, _p in rows if classes and classes[0] == truth)
    top5 = sum(1 for _i, truth, classes, _p in rows if truth in classes)
    per_class = {}
    for c in sorted(evaluation.names):
        mine = [r for r in rows if r[1] == c]
        per_class[c] = (len(mine), sum(1 for r in mine if r[2] and r[2][0] == c) / len(mine) if mine else 0.0)
    confused = Counter((truth, classes[0]) for _i, truth, classes, _p in rows if classes and classes[0] != truth)
    return {"top1": top1 / n if n else 0.0, "top5": top5 / n if n else 0.0, "per_class": per_class,
            "confused": [(t, p, k) for (t, p), k in confused.most_common()]}


def images_of(evaluation, truth: int, predicted: int) -> list:
    """``[(image, probability of the predicted class)]`` of images of class ``truth`` taken for ``predicted``,
    the most confident mistake first."""
    found = [(image, probabilities[0]) for image, t, classes, probabilities in evaluation.top5
             if t == truth and classes and classes[0] == predicted]
    return sorted(found, key=lambda r: -r[1])
