"""An evaluation folder: Ultralytics' metrics and every prediction the validation kept.

```
<evaluation>/
  evaluation.json     what was evaluated (model, data, split, arguments), task, class names, Ultralytics'
                      metrics under their own keys and per class, the referee's figures
  kept.npz            images (paths), sizes (h, w), truth (image, class, box...), predictions (image, class,
                      confidence, box...), in the original images' pixels; classify: top-5 per image
  label_suspects.csv  suspected label errors at the default thresholds (``matching.suspects``)
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yolo_studio.core.atomic import write_text_atomic

SUSPECTS_CSV = "label_suspects.csv"
SUSPECTS_HEADER = "image,kind,class,x1,y1,x2,y2,confidence"


@dataclass
class Evaluation:
    task: str
    names: dict  # class id -> name
    images: list  # paths
    sizes: np.ndarray  # (n, 2): height, width
    truth: np.ndarray  # (t, 2 + box): image, class, box
    predictions: np.ndarray  # (p, 3 + box): image, class, confidence, box
    metrics: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)  # model, data, split, arguments
    referee: dict = field(default_factory=dict)
    top5: list = field(default_factory=list)  # classify: (image, true class, classes, probabilities)
    folder: Path | None = None
    changed: set = field(default_factory=set)  # images whose labels were edited since (``fix_label``)

    @classmethod
    def from_kept(cls, kept, names: dict, metrics: dict, source: dict) -> "Evaluation":
        width = 5 if kept.task == "obb" else 4
        truth, predictions = (_rows(rows, columns) for rows, columns in ((kept.truth, 2 + width),
                                                                         (kept.predictions, 3 + width)))
        order = np.lexsort((-predictions[:, 2], predictions[:, 0]))  # by image, then confidence (highest first)
        return cls(kept.task, {int(k): v for k, v in names.items()}, list(kept.images),
                   np.array(kept.sizes, dtype=np.int64).reshape(-1, 2), truth, predictions[order], metrics, source,
                   top5=list(kept.top5))

    @property
    def box_width(self) -> int:
        return self.truth.shape[1] - 2

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / "kept.npz.part"
        with open(part, "wb") as handle:  # not compressed: hundreds of thousands of rows write and read at once
            np.savez(handle, images=np.array(self.images, dtype=str), sizes=self.sizes, truth=self.truth,
                     predictions=self.predictions)
        part.replace(folder / "kept.npz")
        info = {"task": self.task, "names": {str(k): v for k, v in self.names.items()}, "metrics": self.metrics,
                "source": self.source, "referee": self.referee, "top5": self.top5, "changed": sorted(self.changed)}
        write_text_atomic(folder / "evaluation.json", json.dumps(info, indent=1))
        self.folder = folder
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "Evaluation":
        folder = Path(folder)
        info = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        with np.load(folder / "kept.npz") as arrays:
            images, sizes = [str(p) for p in arrays["images"]], arrays["sizes"]
            truth, predictions = arrays["truth"], arrays["predictions"]
        return cls(info["task"], {int(k): v for k, v in info["names"].items()}, images, sizes, truth, predictions,
                   info.get("metrics", {}), info.get("source", {}), info.get("referee", {}), info.get("top5", []),
                   folder, set(info.get("changed", [])))


def _rows(rows: list, columns: int) -> np.ndarray:
    """Rows given as tuples, or as arrays of rows (what a validation keeps), as one array."""
    if rows and isinstance(rows[0], np.ndarray):
        return np.concatenate(rows).reshape(-1, columns)
    return np.array(rows, dtype=np.float64).reshape(-1, columns)


def set_referee(folder: str | Path, figures: dict) -> None:
    """Write the referee's figures into an evaluation folder, nothing else of it."""
    path = Path(folder) / "evaluation.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["referee"] = figures
    write_text_atomic(path, json.dumps(info, indent=1))


def is_evaluation(folder: str | Path) -> bool:
    return (Path(folder) / "evaluation.json").is_file() and (Path(folder) / "kept.npz").is_file()


def write_suspects(evaluation: Evaluation, suspects: list, path: str | Path) -> Path:
    """``label_suspects.csv``: one line per suspect, pixels of the original image (``matching.Suspect``)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUSPECTS_HEADER.split(","))
    for s in suspects:
        x1, y1, x2, y2 = s.box
        writer.writerow([evaluation.images[s.image], s.kind, evaluation.names.get(s.cls, str(s.cls)),
                         *(f"{v:.1f}" for v in (x1, y1, x2, y2)), f"{s.confidence:.4f}"])
    write_text_atomic(Path(path), buffer.getvalue())
    return Path(path)
