"""Reading and checking a YOLO detection dataset's ``data.yaml``, its folders, images and labels.

Pure Python and fast: nothing is decoded but the label text files. Used by preflight; every
problem names the file (and line) and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from yolo_studio.core.data.yolo_labels import line_kind, task_from_kinds

IMAGE_SUFFIXES = {".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".dng", ".mpo", ".pfm", ".heic"}
MAX_LABEL_FILES = 5000  # checked per split; larger datasets are sampled evenly


@dataclass
class DatasetReport:
    data: Path
    content: dict = field(default_factory=dict)  # the parsed data.yaml
    names: list = field(default_factory=list)
    splits: dict = field(default_factory=dict)  # split -> {"images": n, "labels": n, "boxes": n}
    errors: list = field(default_factory=list)  # plain sentences, each naming a file
    warnings: list = field(default_factory=list)
    task: str = "detect"  # from the labels (yolo_labels.task_from_kinds); pose (kpt_shape); classify (a folder)
    label_kinds: dict = field(default_factory=dict)  # line kind (box, corners, polygon, keypoints) -> lines
    label_examples: dict = field(default_factory=dict)  # line kind -> "file:line" of its first line

    def labels_said(self) -> str:
        """What the labels hold, with a line to look at: '24 lines of boxes (...) (e.g. labels/train/a.txt:1)'."""
        from yolo_studio.core.data.yolo_labels import LINE_KINDS

        return ", ".join(f"{count} lines of {LINE_KINDS[k]} (e.g. {self.label_examples[k]})"
                         for k, count in self.label_kinds.items() if k in LINE_KINDS) or "no labelled objects"

    @property
    def nc(self) -> int:
        return len(self.names)


def read_data_yaml(path: str | Path) -> dict:
    """The parsed data YAML; raises ValueError naming the file and what is wrong."""
    from yolo_studio.core.text_files import UnreadableText, read_text

    path = Path(path)
    try:
        data = yaml.safe_load(read_text(path))
    except UnreadableText as exc:
        raise ValueError(f"{path}: the dataset file {exc.reason}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a dataset YAML") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"{path}:{line + 1}" if line is not None else str(path)
        raise ValueError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a dataset YAML is a mapping with 'train', 'val' and 'names'")
    return data


def class_names(data: dict) -> list:
    names = data.get("names")
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names)]
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(data.get("nc"), int):
        return [str(i) for i in range(data["nc"])]
    return []


def dataset_root(yaml_path: str | Path, content: dict) -> Path:
    """The folder a data YAML's splits are relative to: its ``path:`` (relative to the YAML's own
    folder), else the YAML's folder (what Ultralytics does without ``path:``)."""
    yaml_path = Path(yaml_path).resolve()
    root = Path(str(content.get("path") or yaml_path.parent))
    return root if root.is_absolute() else (yaml_path.parent / root).resolve()


def split_folders(yaml_path: str | Path, content: dict, split: str) -> list:
    """The folders (or image list files) of one split of a data YAML; [] when the split is absent."""
    value = content.get(split)
    if not value:
        return []
    root = dataset_root(yaml_path, content)
    return [Path(str(v)) if Path(str(v)).is_absolute() else root / str(v)
            for v in (value if isinstance(value, list) else [value])]


def labels_dir(images: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder of the path becomes ``labels``."""
    parts = list(images.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts)
    return images


def images_in(folder: Path) -> list:
    if folder.is_file() and folder.suffix == ".txt":  # a list of image paths
        base = folder.parent
        return [base / line.strip() for line in folder.read_text().splitlines() if line.strip()]
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def is_classify_folder(folder: Path) -> bool:
    """A classification dataset as Ultralytics trains it: train/<class>/images (and val/ or test/)."""
    train = folder / "train"
    return train.is_dir() and not (folder / "images").is_dir() and any(p.is_dir() for p in train.iterdir())


def check_dataset(path: str | Path) -> DatasetReport:
    """Check a dataset: a data YAML (splits, images, label files and their lines), a folder holding a
    data.yaml, or a classification folder (train/<class>/..., val/<class>/...)."""
    path = Path(path)
    if path.is_dir() and (path / "data.yaml").is_file():
        path = path / "data.yaml"
    elif path.is_dir() and is_classify_folder(path):
        return _check_classify_folder(path)
    report = DatasetReport(path)
    try:
        data = read_data_yaml(path)
    except ValueError as exc:
        report.errors.append(str(exc))
        return report
    report.content = data
    report.names = class_names(data)
    if not report.names:
        report.errors.append(f"{path}: no class names: add 'names:' with one entry per class")
    for split in ("train", "val"):
        if not data.get(split):
            report.errors.append(f"{path}: no '{split}:' entry: point it at the {split} images folder")
            continue
        for folder in split_folders(path, data, split):
            _check_split(report, split, folder)
    report.task = task_from_kinds(report.label_kinds, data.get("kpt_shape"))
    return report


def _check_classify_folder(root: Path) -> DatasetReport:
    report = DatasetReport(root, task="classify")
    report.names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    splits = [s for s in ("train", "val", "test") if (root / s).is_dir()]
    if "val" not in splits and "test" not in splits:
        report.errors.append(f"{root}: no val/ (or test/) folder beside train/: Ultralytics validates on it")
    for split in splits:
        classes = sorted(p.name for p in (root / split).iterdir() if p.is_dir())
        images = sum(len(images_in(root / split / c)) for c in classes)
        report.splits[split] = {"images": images, "labels": 0, "boxes": 0}
        empty = [c for c in classes if not images_in(root / split / c)]
        if empty:
            report.errors.append(f"{root / split}: class folders without images: {', '.join(empty[:5])}")
        unknown = sorted(set(classes) - set(report.names))
        if unknown:
            report.errors.append(f"{root / split}: classes that train/ does not have: {', '.join(unknown[:5])}")
    return report


def _check_split(report: DatasetReport, split: str, folder: Path) -> None:
    if not folder.exists():
        report.errors.append(f"{report.data}: the {split} folder {folder} does not exist")
        return
    images = images_in(folder)
    counts = report.splits.setdefault(split, {"images": 0, "labels": 0, "boxes": 0})
    counts["images"] += len(images)
    if not images:
        report.errors.append(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES)[:4])}, ...) in the {split} split")
        return
    step = max(1, len(images) // MAX_LABEL_FILES)
    bad_files = 0
    for image in images[::step]:
        label = labels_dir(image.parent) / f"{image.stem}.txt"
        if not label.is_file():
            continue  # an image without labels is a background image
        counts["labels"] += 1
        problem = _check_label_file(label, len(report.names), report.content.get("kpt_shape"), report)
        if problem:
            bad_files += 1
            if bad_files <= 5:
                report.errors.append(problem)
        else:
            counts["boxes"] += sum(1 for line in label.read_text().splitlines() if line.strip())
    if bad_files > 5:
        report.errors.append(f"{folder}: {bad_files - 5} more label files with problems")
    if counts["labels"] == 0:
        report.errors.append(f"{labels_dir(folder)}: no label files for the {split} images: YOLO expects "
                             "labels/<split>/<image name>.txt beside images/<split>/")


def _check_label_file(label: Path, nc: int, kpt_shape=None, report: DatasetReport | None = None) -> str | None:
    """The first problem of a label file (any task's line format is accepted), or None; the kinds of its
    good lines are counted in ``report``."""
    from yolo_studio.core.data.yolo_labels import check_line, parse_line

    from yolo_studio.core.text_files import read_text

    try:
        lines = read_text(label).splitlines()
    except ValueError as exc:
        return str(exc)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        values = parse_line(line)
        problem = check_line(values, line, "pose" if kpt_shape else "auto", nc, kpt_shape)
        if problem:
            return f"{label}:{number}: {problem[1]}"
        if report is not None:
            kind = line_kind(values, kpt_shape)
            report.label_kinds[kind] = report.label_kinds.get(kind, 0) + 1
            report.label_examples.setdefault(kind, f"{label}:{number}")
    return None
