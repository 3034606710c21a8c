"""Inference testing: run a model on images, folders or videos and report plain data.

Each image (or video frame) gives an ``ImageResult``: the objects found (class, score, box, mask
polygon, keypoints), Ultralytics' per-stage timing in milliseconds, and the path of the annotated
image when ``save_dir`` is given. Models are named by a registry reference (``name`` or
``name:vN``), a run (``runs/<name>``), or any ``.pt`` file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from yolo_studio.core.data.dataset_check import IMAGE_SUFFIXES

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpeg", ".mpg", ".wmv"}


@dataclass
class ImageResult:
    source: str
    width: int
    height: int
    objects: list = field(default_factory=list)  # {cls, name, conf, box [x1 y1 x2 y2] px, polygon, keypoints}
    timing: dict = field(default_factory=dict)  # preprocess / inference / postprocess, ms
    frame: int | None = None  # for a video
    saved: str | None = None  # the annotated image
    error: str | None = None  # why this file gave no result (not an image, unreadable): listed, never skipped

    def to_json(self) -> dict:
        return asdict(self)


def resolve_model(ref: str | Path, project=None) -> Path:
    """The ``.pt`` file a reference names; raises ValueError saying what exists."""
    path = Path(ref)
    if path.suffix == ".pt":
        if not path.is_file():
            raise ValueError(f"{path} does not exist")
        return path
    if path.is_dir() and (path / "weights" / "best.pt").is_file():
        return path / "weights" / "best.pt"
    if project is not None:
        run = project.runs_dir / str(ref) / "weights" / "best.pt"
        if run.is_file():
            return run
        from yolo_studio.training.registry import find

        return find(project.registry_dir, str(ref)).weights
    raise ValueError(f"'{ref}' is not a .pt file or a run folder (give --project to use registry names)")


def load_model(weights: str | Path):
    from yolo_studio.training.run_folder import load_run_checkpoint

    return load_run_checkpoint(weights)


def collect_sources(sources) -> tuple:
    """(media files, [(path, reason)] for every other file given or found), from files and folders.
    Hidden files in folders are not listed; nothing else is dropped without a reason."""
    files, skipped = [], []
    media = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    for source in sources:
        source = Path(source)
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in path.relative_to(source).parts):
                    continue
                if path.suffix.lower() in media:
                    files.append(path)
                else:
                    skipped.append((path, _not_media(path)))
        elif source.is_file():
            if source.suffix.lower() in media:
                files.append(source)
            else:
                skipped.append((source, _not_media(source)))
        else:
            skipped.append((source, "does not exist"))
    return files, skipped


def _not_media(path: Path) -> str:
    kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
    return f"not an image or video ({kind} are not read; images: {', '.join(sorted(IMAGE_SUFFIXES))})"


def expand_sources(sources) -> list:
    """Media files from files and folders, sorted; raises ValueError naming the first file that is not
    one, or when there are none."""
    files, skipped = collect_sources(sources)
    if skipped and not files:
        path, reason = skipped[0]
        raise ValueError(f"{path}: {reason}")
    if not files:
        raise ValueError("no images or videos in " + ", ".join(map(str, sources)))
    return files


def predict(model, sources, conf: float = 0.25, iou: float = 0.7, imgsz: int = 640, device: str = "cpu",
            save_dir: str | Path | None = None, on_result=None, cancelled=None, max_frames: int = 10_000) -> list:
    """Run ``model`` (a YOLO or a weights path) on ``sources``; ``on_result(ImageResult)`` per image."""
    if not hasattr(model, "predict"):
        model = load_model(model)
    files, skipped = collect_sources(sources)
    if not files and not skipped:
        raise ValueError("no images or videos in " + ", ".join(map(str, sources)))
    save_dir = Path(save_dir) if save_dir else None
    if save_dir:
        save_dir.mkdir(parents=True, exist_ok=True)
    results = []

    def report(item: ImageResult) -> None:
        results.append(item)
        if on_result:
            on_result(item)

    for path, reason in skipped:
        report(ImageResult(str(path), 0, 0, error=reason))
    for file in files:
        is_video = file.suffix.lower() in VIDEO_SUFFIXES
        problem = None if is_video else unreadable_image(file)
        if problem:
            report(ImageResult(str(file), 0, 0, error=problem))
            continue
        stream = model.predict(source=str(file), conf=conf, iou=iou, imgsz=imgsz, device=device, stream=True,
                               verbose=False)
        frames = 0
        try:
            for frame, result in enumerate(stream):
                if (cancelled and cancelled()) or frame >= max_frames:
                    stream.close()
                    return results
                item = _plain(result, file, frame if is_video else None)
                if save_dir:
                    item.saved = str(_save(result, save_dir, file, frame if is_video else None))
                report(item)
                frames += 1
        except Exception as exc:  # a decoder failing mid-file: this file's result, the others go on
            report(ImageResult(str(file), 0, 0, error=f"could not be read ({type(exc).__name__}: {str(exc)[:100]})"))
            continue
        if frames == 0:
            report(ImageResult(str(file), 0, 0, error="no frame could be read from it"))
    return results


def unreadable_image(path: Path) -> str | None:
    """Why OpenCV (what Ultralytics reads images with) cannot decode ``path``, or None when it can."""
    import cv2
    import numpy as np

    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    if data.size == 0:
        return "an empty file"
    if cv2.imdecode(data, cv2.IMREAD_COLOR) is None:
        return "not an image: its bytes do not decode (corrupt, truncated, or another kind of file)"
    return None


def _plain(result, file: Path, frame) -> ImageResult:
    height, width = result.orig_shape[:2]
    names = result.names
    objects = []
    boxes = result.boxes
    if boxes is not None:
        for i in range(len(boxes)):
            cls = int(boxes.cls[i])
            objects.append({"cls": cls, "name": names.get(cls, str(cls)), "conf": round(float(boxes.conf[i]), 4),
                            "box": [round(float(v), 1) for v in boxes.xyxy[i].tolist()]})
    if result.masks is not None:
        for obj, polygon in zip(objects, result.masks.xy):
            obj["polygon"] = [[round(float(x), 1), round(float(y), 1)] for x, y in polygon]
    if result.keypoints is not None:
        for obj, points in zip(objects, result.keypoints.data.tolist()):
            obj["keypoints"] = [[round(v, 2) for v in p] for p in points]
    if getattr(result, "obb", None) is not None and not objects:
        obb = result.obb
        for i in range(len(obb)):
            cls = int(obb.cls[i])
            corners = obb.xyxyxyxy[i].tolist()
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            objects.append({"cls": cls, "name": names.get(cls, str(cls)), "conf": round(float(obb.conf[i]), 4),
                            "box": [min(xs), min(ys), max(xs), max(ys)], "polygon": corners})
    if getattr(result, "probs", None) is not None:
        top = result.probs.top5
        objects = [{"cls": int(c), "name": names.get(int(c), str(c)), "conf": round(float(result.probs.data[c]), 4)}
                   for c in top]
    timing = {k: round(float(v), 2) for k, v in (result.speed or {}).items() if v is not None}
    return ImageResult(str(file), int(width), int(height), objects, timing, frame)


def _save(result, save_dir: Path, file: Path, frame) -> Path:
    import cv2

    name = f"{file.stem}_{frame:06d}.jpg" if frame is not None else f"{file.stem}.jpg"
    target = save_dir / name
    n = 2
    while target.exists():
        target, n = save_dir / f"{Path(name).stem}-{n}.jpg", n + 1
    cv2.imwrite(str(target), result.plot())
    return target


def timing_summary(results: list) -> dict:
    """Mean milliseconds per stage over the results."""
    stages: dict = {}
    for r in results:
        for stage, ms in r.timing.items():
            stages.setdefault(stage, []).append(ms)
    return {stage: round(sum(v) / len(v), 2) for stage, v in stages.items()}
