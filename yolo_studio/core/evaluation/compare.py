"""Two evaluations of the same images, image by image: per-class figures side by side, and the images the second
model gets more right or more wrong. Any two evaluations compare (runs, registry versions, hydra head versions:
``yolo-studio val`` makes them); the Runs tab compares the newest evaluations of two runs."""

from __future__ import annotations

from dataclasses import dataclass

from yolo_studio.core.evaluation.matching import Matcher


@dataclass
class Comparison:
    names: dict
    per_class: list  # [(class, figures of a, figures of b)] with precision, recall, f1, mAP50-95 (Ultralytics')
    better: list  # [(image in a, image in b, errors in a, errors in b)]: fewer errors in b, the biggest change first
    worse: list
    same: int  # images with as many errors in both


def compare(a, b, conf: float = 0.25, iou: float = 0.5) -> Comparison:
    """``b`` against ``a`` (``core.evaluation.store.Evaluation``s) at the same thresholds; raises ``ValueError``
    when they were not made on the same images or classes."""
    if a.names != b.names:
        raise ValueError(f"the two evaluations have different classes ({len(a.names)} and {len(b.names)}): "
                         "compare models trained for the same classes")
    index_b = {path: k for k, path in enumerate(b.images)}
    shared = [(k, index_b[path]) for k, path in enumerate(a.images) if path in index_b]
    if len(shared) < max(len(a.images), len(b.images)):
        raise ValueError(f"the two evaluations are not of the same images ({len(a.images)} and {len(b.images)}, "
                         f"{len(shared)} in common): evaluate both on the same dataset and split")
    ma, mb = Matcher(a), Matcher(b)
    sa, sb = ma.summary(conf, iou)["per_class"], mb.summary(conf, iou)["per_class"]
    per_class = []
    for c in sorted(a.names):
        figures = []
        for evaluation, summary in ((a, sa), (b, sb)):
            ultra = evaluation.metrics.get("per_class", {})
            figs = {k: summary[c][k] for k in ("precision", "recall", "f1")}
            figs["mAP50-95"] = (ultra.get(str(c)) or ultra.get(c) or {}).get("mAP50-95")
            figures.append(figs)
        per_class.append((c, *figures))
    errors_a, errors_b = (sum(m.errors_per_image(conf, iou)) for m in (ma, mb))
    better, worse, same = [], [], 0
    for ka, kb in shared:
        ea, eb = int(errors_a[ka]), int(errors_b[kb])
        if eb < ea:
            better.append((ka, kb, ea, eb))
        elif eb > ea:
            worse.append((ka, kb, ea, eb))
        else:
            same += 1
    better.sort(key=lambda r: r[3] - r[2])
    worse.sort(key=lambda r: r[2] - r[3])
    return Comparison(a.names, per_class, better, worse, same)
