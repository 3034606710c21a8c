"""The full dataset validation report: every image and label file, read, never modified.

``validate(path)`` takes a data YAML, a dataset folder (with a ``data.yaml``, or ``images/`` and
``labels/``), or a classification folder (``train/<class>/*.jpg``). It reports, per split, the
images and labels found, and every problem with its file (and line): images without labels,
labels without images, malformed lines, class ids out of range, boxes outside the image or of
zero size, duplicate images, corrupt or unreadable images. It also collects what the statistics
plots show (instances per class, box sizes). Progress and cancellation are plain callables, so
the same code runs in the CLI and in a worker thread.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES, class_names, dataset_root, images_in, is_classify_folder, \
    labels_dir, read_data_yaml
from yolo_studio.core.data.yolo_labels import check_line, line_kind, parse_line, task_from_kinds, to_object

MAX_BOX_SIZES = 50_000  # box sizes kept for the distribution plot
MAX_FINDINGS_PER_KIND = 200  # beyond this a kind is counted, not listed
SEVERITY = {"image_without_label": "warning", "label_without_image": "warning", "duplicate_image": "warning",
            "empty_class": "warning"}


@dataclass
class Finding:
    kind: str  # yaml, split, no_images, image_without_label, label_without_image, malformed, class, outside,
    #            zero_size, duplicate_image, corrupt_image, empty_class
    message: str
    file: str = ""
    line: int | None = None
    split: str = ""

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.kind, "error")

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ValidationReport:
    source: str
    task: str = "detect"
    names: list = field(default_factory=list)
    splits: dict = field(default_factory=dict)  # split -> {images, labels, instances, backgrounds}
    findings: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)  # kind -> number found (including the ones not listed)
    class_counts: dict = field(default_factory=dict)  # split -> [instances per class]
    box_sizes: list = field(default_factory=list)  # [(w, h)] normalised, train split first
    cancelled: bool = False

    @property
    def errors(self) -> list:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def clean(self) -> bool:
        return not self.cancelled and not self.findings

    def add(self, kind: str, message: str, file="", line=None, split="") -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] <= MAX_FINDINGS_PER_KIND:
            self.findings.append(Finding(kind, message, str(file), line, split))

    def to_json(self) -> dict:
        data = asdict(self)
        data["findings"] = [{**asdict(f), "severity": f.severity} for f in self.findings]
        data["box_sizes"] = len(self.box_sizes)
        data["clean"] = self.clean
        return data

    def summary(self) -> str:
        if self.cancelled:
            return "validation cancelled"
        if self.clean:
            return "clean: no problems found"
        parts = [f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(self.counts.items())]
        return f"{len(self.errors)} errors, {len(self.warnings)} warnings listed ({', '.join(parts)})"


class Cancelled(Exception):
    pass


def validate(path: str | Path, task: str | None = None, progress=None, cancelled=None) -> ValidationReport:
    """Validate a dataset; ``progress(done, total)`` and ``cancelled() -> bool`` are optional."""
    path = Path(path)
    report = ValidationReport(str(path))
    try:
        if path.is_dir() and not (path / "data.yaml").is_file() and is_classify_folder(path):
            _validate_classify(report, path, index_dataset(path), progress, cancelled)
        else:
            _validate_labelled(report, path, task, progress, cancelled)
    except Cancelled:
        report.cancelled = True
    return report


# ---------------------------------------------------------------------- detect, segment, pose, obb


@dataclass
class DatasetIndex:
    """Where a dataset's images are: what the validator and the sample browser both read."""

    task: str
    names: list
    images: dict  # split -> [image paths]
    kpt_shape: list | None = None
    problems: list = field(default_factory=list)  # (kind, message, file, split) found while indexing

    def objects(self, image: Path) -> list:
        """The parsed, valid objects of an image's label file (an unreadable line is skipped)."""
        label = labels_dir(image.parent) / f"{image.stem}.txt"
        if self.task == "classify":
            return []
        try:
            lines = label.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        out = []
        for line in lines:
            values = parse_line(line)
            if values and not check_line(values, line, self.task, len(self.names), self.kpt_shape):
                out.append(to_object(values, self.task, self.kpt_shape))
        return out


def index_dataset(path: str | Path, task: str | None = None) -> DatasetIndex:
    """Find a dataset's splits and images (a data YAML, a dataset folder, or a classification folder)."""
    path = Path(path)
    if path.is_dir() and not (path / "data.yaml").is_file() and is_classify_folder(path):
        splits = [s for s in ("train", "val", "test") if (path / s).is_dir()]
        images = {s: sorted(p for p in (path / s).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) for s in splits}
        names = sorted(p.name for p in (path / "train").iterdir() if p.is_dir())
        return DatasetIndex("classify", names, images)
    index = DatasetIndex(task or "detect", [], {})
    yaml_file = path / "data.yaml" if path.is_dir() else path
    if path.is_dir() and not yaml_file.is_file():
        data, root = folder_layout(path), path
        if not data:
            index.problems.append(("yaml", "no data.yaml, no images/<split> folders and no train/<class> folders: "
                                   "not a YOLO dataset folder", path, ""))
            return index
    else:
        try:
            data = read_data_yaml(yaml_file)
        except ValueError as exc:
            index.problems.append(("yaml", str(exc), "", ""))
            return index
        root = dataset_root(yaml_file, data)
    index.names, index.kpt_shape = class_names(data), data.get("kpt_shape")
    if not index.names:
        index.problems.append(("yaml", "no class names: add 'names:' with one entry per class", yaml_file, ""))
    splits = {s: data[s] for s in ("train", "val", "test") if data.get(s)}
    for required in ("train", "val"):
        if required not in splits:
            index.problems.append(("split", f"no '{required}:' entry: point it at the {required} images folder",
                                   yaml_file, ""))
    for split, value in splits.items():
        found = []
        for v in value if isinstance(value, list) else [value]:
            folder = Path(str(v)) if Path(str(v)).is_absolute() else root / str(v)
            if not folder.exists():
                index.problems.append(("split", f"the {split} folder {folder} does not exist", yaml_file, split))
            else:
                found += images_in(folder)
        index.images[split] = found
    index.task = task or _guess_task(index.images, index.kpt_shape)
    return index


def _validate_labelled(report, path: Path, task, progress, cancelled) -> None:
    index = index_dataset(path, task)
    for kind, message, file, split in index.problems:
        report.add(kind, message, file, split=split)
    report.names, report.task, kpt_shape, images = index.names, index.task, index.kpt_shape, index.images
    total = sum(len(v) for v in images.values())
    done, hashes = 0, {}
    for split, files in images.items():
        counts = report.splits.setdefault(split, {"images": len(files), "labels": 0, "instances": 0,
                                                  "backgrounds": 0})
        per_class = report.class_counts.setdefault(split, [0] * len(report.names))
        if not files:
            report.add("no_images", f"no images in the {split} split", split=split)
        stems = set()
        for image in files:
            if cancelled and cancelled():
                raise Cancelled
            stems.add((image.parent, image.stem))
            _check_image(report, image, split, hashes)
            label = labels_dir(image.parent) / f"{image.stem}.txt"
            if label.is_file():
                counts["labels"] += 1
                _check_labels(report, label, split, counts, per_class, kpt_shape)
            else:
                counts["backgrounds"] += 1
                report.add("image_without_label", "no label file: trained as a background image (no objects); "
                           f"expected {label}", image, split=split)
            done += 1
            if progress and (done % 16 == 0 or done == total):
                progress(done, total)
        _orphan_labels(report, files, stems, split)
    _duplicates(report, hashes)


def folder_layout(folder: Path) -> dict:
    """A data dict for a folder with ``images/<split>`` (and ``labels/<split>``) but no data.yaml."""
    splits = {s: f"images/{s}" for s in ("train", "val", "test") if (folder / "images" / s).is_dir()}
    if not splits:
        return {}
    names_file = folder / "classes.txt"
    if names_file.is_file():
        names = [n.strip() for n in names_file.read_text(encoding="utf-8").splitlines() if n.strip()]
    else:
        names = [str(i) for i in range(_max_class(folder / "labels") + 1)]
    return {**splits, "names": names}


def _max_class(labels: Path) -> int:
    top = -1
    for file in labels.rglob("*.txt"):
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            values = parse_line(line)
            if values and values[0] == int(values[0]):
                top = max(top, int(values[0]))
    return top


def _guess_task(images: dict, kpt_shape) -> str:
    """The task the labels are for (``yolo_labels.task_from_kinds``), from up to 200 label files a split."""
    if kpt_shape:
        return "pose"
    kinds = set()
    for files in images.values():
        for image in files[:200]:
            label = labels_dir(image.parent) / f"{image.stem}.txt"
            if label.is_file():
                for line in label.read_text(encoding="utf-8", errors="replace").splitlines():
                    values = parse_line(line)
                    if values and len(values) >= 5:
                        kinds.add(line_kind(values))
    return task_from_kinds(kinds)


def _check_image(report, image: Path, split: str, hashes: dict) -> None:
    try:
        data = image.read_bytes()
    except OSError as exc:
        report.add("corrupt_image", f"cannot read: {exc.strerror or exc}", image, split=split)
        return
    hashes.setdefault(hashlib.sha1(data).hexdigest(), []).append((split, image))
    try:
        from PIL import Image

        with Image.open(image) as img:
            img.verify()  # structure and checksums, without decoding every pixel
        with Image.open(image) as img:
            width, height = img.size
        if width < 10 or height < 10:
            report.add("corrupt_image", f"{width}x{height} px: Ultralytics skips images under 10 px", image,
                       split=split)
    except Exception as exc:  # PIL raises many kinds for a broken file
        report.add("corrupt_image", f"{image_problem(exc)}: replace or delete it", image, split=split)


def image_problem(exc: BaseException) -> str:
    """Why a file is not a usable image, in words, whatever the decoder raised. (With Ultralytics
    imported, PIL's open retries an unknown file with an optional HEIF plugin, so a corrupt PNG can
    surface as "No module named 'pi_heif'".)"""
    from PIL import UnidentifiedImageError

    if isinstance(exc, (UnidentifiedImageError, ImportError)):
        return "not an image: no installed decoder recognises its bytes (corrupt, truncated, or another kind of file)"
    if isinstance(exc, (SyntaxError, OSError, ValueError)):  # PIL's words for damaged image data
        return f"a damaged image ({str(exc)[:80] or type(exc).__name__})"
    return f"not a readable image ({type(exc).__name__}: {str(exc)[:80]})"


def _check_labels(report, label: Path, split: str, counts: dict, per_class: list, kpt_shape) -> None:
    from yolo_studio.core.text_files import UnreadableText, read_text

    try:
        lines = read_text(label).splitlines()
    except UnreadableText as exc:
        report.add("malformed", f"the label file {exc.reason}", label, exc.line, split=split)
        return
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        values = parse_line(line)
        problem = check_line(values, line, report.task, len(report.names), kpt_shape)
        if problem:
            report.add(problem[0], problem[1], label, number, split)
            continue
        obj = to_object(values, report.task, kpt_shape)
        counts["instances"] += 1
        per_class[obj.cls] += 1
        if len(report.box_sizes) < MAX_BOX_SIZES:
            report.box_sizes.append((round(obj.box[2], 5), round(obj.box[3], 5)))


def _orphan_labels(report, images: list, stems: set, split: str) -> None:
    folders = {labels_dir(image.parent) for image in images}
    for folder in sorted(folders):
        if not folder.is_dir():
            continue
        image_folder = _image_folder_of(folder, images)
        for label in sorted(folder.glob("*.txt")):
            if (image_folder, label.stem) not in stems:
                report.add("label_without_image", f"no image {label.stem}.* in {image_folder}: delete the label or "
                           "add the image", label, split=split)


def _image_folder_of(label_folder: Path, images: list) -> Path:
    for image in images:
        if labels_dir(image.parent) == label_folder:
            return image.parent
    return label_folder


def _duplicates(report, hashes: dict) -> None:
    for copies in hashes.values():
        if len(copies) < 2:
            continue
        first_split, first = copies[0]
        others = ", ".join(f"{p} ({s})" for s, p in copies[1:4]) + (" …" if len(copies) > 4 else "")
        leak = {s for s, _ in copies} >= {"train", "val"}
        message = f"the same image as {others}" + (": a training image in validation inflates the metrics"
                                                   if leak else ": it counts twice")
        report.add("duplicate_image", message, first, split=first_split)


# ---------------------------------------------------------------------- classify


def _validate_classify(report, root: Path, index: DatasetIndex, progress, cancelled) -> None:
    report.task, report.names, files = index.task, index.names, index.images
    splits = list(files)
    if "val" not in splits and "test" not in splits:
        report.add("split", "no val/ (or test/) folder beside train/: Ultralytics validates on it", root)
    total, done, hashes = sum(len(v) for v in files.values()), 0, {}
    for split in splits:
        classes = sorted(p.name for p in (root / split).iterdir() if p.is_dir())
        for extra in sorted(set(classes) - set(report.names)):
            report.add("class", f"class folder '{extra}' is not in train/: the model cannot learn it",
                       root / split / extra, split=split)
        per_class = report.class_counts.setdefault(split, [0] * len(report.names))
        report.splits[split] = {"images": len(files[split]), "labels": len(files[split]),
                                "instances": len(files[split]), "backgrounds": 0}
        for name in report.names:
            if not (root / split / name).is_dir() or not any((root / split / name).iterdir()):
                report.add("empty_class", f"no images of class '{name}' in {split}/", root / split / name,
                           split=split)
        for image in files[split]:
            if cancelled and cancelled():
                raise Cancelled
            _check_image(report, image, split, hashes)
            if image.parent.name in report.names:
                per_class[report.names.index(image.parent.name)] += 1
            done += 1
            if progress and (done % 16 == 0 or done == total):
                progress(done, total)
    _duplicates(report, hashes)
