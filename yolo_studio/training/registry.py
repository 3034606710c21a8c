"""The model registry of a project: trained models worth keeping, by name and version.

```
<project>/registry/<name>/v<N>/
  model.pt      the run's best.pt (copied: deleting the run keeps the model)
  model.yaml    the model YAML it was trained from
  modules/      its custom block files, if any (so it loads anywhere)
  entry.yaml    name, version, task, class names, imgsz, metrics, dataset path and content hash,
                source run, created, tags
```

Inference and export take a registry reference ``name``, ``name:vN`` or ``name@alias``. A version can be
promoted: ``<project>/registry/<name>/aliases.yaml`` maps an alias (``production``, as MLflow's registry
names it) to a version, with the versions it held before; the bare ``name`` means the ``production``
version when there is one, else the newest. Rolling back gives the alias its previous version.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.data.dataset_check import class_names, images_in, labels_dir, read_data_yaml, split_folders
from yolo_studio.training.events import read_events
from yolo_studio.training.run_store import summarize

METRIC_KEYS = {"metrics/mAP50(B)": "mAP50", "metrics/mAP50-95(B)": "mAP50-95",
               "metrics/precision(B)": "precision", "metrics/recall(B)": "recall"}


@dataclass
class Entry:
    name: str
    version: int
    task: str = ""
    names: list = field(default_factory=list)
    imgsz: int = 640
    metrics: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)  # {"path", "hash"}
    source_run: str = ""
    created: str = ""
    tags: list = field(default_factory=list)
    folder: Path | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:v{self.version}"

    @property
    def weights(self) -> Path:
        return self.folder / "model.pt"

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        write_text_atomic(self.folder / "entry.yaml", yaml.safe_dump(data, sort_keys=False))


def register(registry_dir: str | Path, run_path: str | Path, name: str, tags=()) -> Entry:
    """Copy a run's best model into the registry as the next version of ``name``."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name or ""):
        raise ValueError(f"'{name}' cannot be a model name: use letters, digits, '.', '-' or '_'")
    summary = summarize(run_path)
    run_path = Path(run_path).resolve()
    best = run_path / "weights" / "best.pt"
    if summary is None or not best.is_file():
        raise ValueError(f"{run_path} has no weights/best.pt: only a run that saved a model can be registered")
    folder_of_name = Path(registry_dir) / name
    version = 1 + max((e.version for e in list_entries(registry_dir) if e.name == name), default=0)
    folder = folder_of_name / f"v{version}"
    folder.mkdir(parents=True)
    shutil.copy2(best, folder / "model.pt")
    run = summary.folder
    spec, resolved = _read_yaml(run.artifacts / "run.yaml"), _read_yaml(run.artifacts / "resolved.yaml")
    if spec.get("model") and (run.artifacts / spec["model"]).is_file():
        shutil.copy2(run.artifacts / spec["model"], folder / "model.yaml")
    if run.modules.is_dir():
        shutil.copytree(run.modules, folder / "modules")
    data = spec.get("data") or summary.data
    entry = Entry(name, version, spec.get("task") or summary.task or "detect", _names(data),
                  int(resolved.get("imgsz") or 640), best_metrics(run_path, summary),
                  {"path": str(data), "hash": dataset_hash(data)}, str(run_path),
                  datetime.now(timezone.utc).isoformat(timespec="seconds"), list(tags), folder)
    entry.save()
    return entry


def _read_yaml(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _names(data) -> list:
    try:
        return class_names(read_data_yaml(data)) if data and Path(data).is_file() else []
    except ValueError:
        return []


def best_metrics(run_path: Path, summary) -> dict:
    """The best model's validation metrics: the ``final`` event, else the best epoch's."""
    events = read_events(run_path / "events.jsonl") if (run_path / "events.jsonl").is_file() else []
    final = [e for e in events if e["type"] == "final" and e.get("metrics")]
    raw = final[-1]["metrics"] if final else {}
    if not raw and summary.best_map is not None:
        raw = {"metrics/mAP50-95(B)": summary.best_map, "metrics/mAP50(B)": summary.best_map50}
    return {short: round(float(raw[key]), 5) for key, short in METRIC_KEYS.items() if raw.get(key) is not None}


def dataset_hash(data) -> str:
    """A content hash of a dataset: every label file's bytes and every image's name and size.

    Images are hashed by name and size, not content, so a large dataset hashes in seconds; a
    changed label, an added, removed or resized image file changes the hash.
    """
    if not data or not Path(data).is_file():
        return ""
    path = Path(data)
    try:
        content = read_data_yaml(path)
    except ValueError:
        return ""
    digest = hashlib.sha256(path.read_bytes())
    for split in ("train", "val", "test"):
        for folder in split_folders(path, content, split):
            for image in images_in(folder) if folder.exists() else []:
                digest.update(f"{split}/{image.name}:{image.stat().st_size}\n".encode())
                label = labels_dir(image.parent) / f"{image.stem}.txt"
                if label.is_file():
                    digest.update(label.read_bytes())
    return digest.hexdigest()[:16]


def list_entries(registry_dir: str | Path) -> list:
    """Every registered version, by name then version."""
    entries = []
    for file in sorted(Path(registry_dir).glob("*/v*/entry.yaml")):
        data = _read_yaml(file)
        if not data.get("name"):
            continue
        known = {k: v for k, v in data.items() if k in Entry.__dataclass_fields__ and k != "folder"}
        entries.append(Entry(**known, folder=file.parent))
    return sorted(entries, key=lambda e: (e.name, e.version))


PRODUCTION = "production"


def find(registry_dir: str | Path, ref: str) -> Entry:
    """``name`` (its production version, else the newest), ``name:vN`` or ``name@alias``; raises ValueError
    listing what exists."""
    ref, _, alias = ref.partition("@")
    name, _, version = ref.partition(":")
    entries = [e for e in list_entries(registry_dir) if e.name == name]
    held = aliases(registry_dir, name)
    if alias:
        if alias not in held:
            raise ValueError(f"'{name}' has no version called '{alias}' (aliases: {', '.join(held) or 'none'})")
        version = str(held[alias]["version"])
    elif not version and PRODUCTION in held:
        version = str(held[PRODUCTION]["version"])
    if version:
        entries = [e for e in entries if f"v{e.version}" == version or str(e.version) == version]
    if not entries:
        known = ", ".join(sorted({e.ref for e in list_entries(registry_dir)})) or "none yet"
        raise ValueError(f"no registered model '{ref}' (registered: {known})")
    return entries[-1]


def aliases(registry_dir: str | Path, name: str) -> dict:
    """``{alias: {"version": N, "before": [earlier versions, most recent last]}}`` of a registered name."""
    data = _read_yaml(Path(registry_dir) / name / "aliases.yaml") if (Path(registry_dir) / name).is_dir() else {}
    return {k: v for k, v in (data or {}).items() if isinstance(v, dict) and "version" in v}


def promote(registry_dir: str | Path, ref: str, alias: str = PRODUCTION) -> Entry:
    """Give ``alias`` to the version ``ref`` names (the bare name then follows ``production``)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", alias):
        raise ValueError(f"'{alias}' cannot be an alias: letters, digits, '-' and '_', starting with a letter")
    entry = find(registry_dir, ref)
    held = aliases(registry_dir, entry.name)
    current = held.get(alias)
    if current is not None and current["version"] != entry.version:
        held[alias] = {"version": entry.version, "before": [*current.get("before", []), current["version"]]}
    elif current is None:
        held[alias] = {"version": entry.version, "before": []}
    _write_aliases(registry_dir, entry.name, held)
    return entry


def roll_back(registry_dir: str | Path, name: str, alias: str = PRODUCTION) -> Entry:
    """Give ``alias`` back to the version it held before; raises ValueError when it held none."""
    held = aliases(registry_dir, name)
    before = held.get(alias, {}).get("before", [])
    if not before:
        raise ValueError(f"'{name}@{alias}' has no earlier version to roll back to")
    entry = find(registry_dir, f"{name}:v{before[-1]}")  # it must still exist before anything is written
    held[alias] = {"version": before[-1], "before": before[:-1]}
    _write_aliases(registry_dir, name, held)
    return entry


def _write_aliases(registry_dir, name: str, held: dict) -> None:
    write_text_atomic(Path(registry_dir) / name / "aliases.yaml", yaml.safe_dump(held, sort_keys=True))


def set_tags(entry: Entry, tags) -> Entry:
    entry.tags = sorted({t.strip() for t in tags if t.strip()})
    entry.save()
    return entry


def compare(entries: list) -> list:
    """Rows for a comparison table: ref, task, imgsz, dataset hash, then each metric."""
    keys = list(METRIC_KEYS.values())
    return [{"model": e.ref, "task": e.task, "imgsz": e.imgsz, "dataset": e.dataset.get("hash", ""),
             **{k: e.metrics.get(k) for k in keys}, "tags": ", ".join(e.tags),
             "aliases": ", ".join(held_by(e))} for e in entries]


def held_by(entry: Entry) -> list:
    """The aliases a version holds (``production``...)."""
    registry_dir = entry.folder.parent.parent if entry.folder is not None else None
    return sorted(a for a, v in aliases(registry_dir, entry.name).items() if v["version"] == entry.version) \
        if registry_dir is not None else []
