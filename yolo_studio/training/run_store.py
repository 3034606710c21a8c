"""The runs of a project, read from their folders (so runs started headless, or by plain
Ultralytics, appear as well): a summary per run, the per-epoch curves, and deletion on request.

A studio run has ``events.jsonl``; a folder Ultralytics wrote by itself has ``results.csv`` and
``args.yaml``, and is read from those.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from yolo_studio.training.events import epoch_history, read_events, run_status
from yolo_studio.training.run_folder import RunFolder

MAP = "metrics/mAP50-95(B)"
MAP50 = "metrics/mAP50(B)"


@dataclass
class RunSummary:
    name: str
    path: Path
    status: str  # running | completed | stopped | failed | killed | crashed | new | unknown
    model: str = ""
    data: str = ""
    task: str = ""
    epochs_done: int = 0
    epochs: int = 0
    best_map: float | None = None  # mAP50-95 of the best epoch
    best_map50: float | None = None
    best_epoch: int | None = None
    duration: float = 0.0  # seconds of training (sum of the epochs' times)
    started: float | None = None  # unix time of the first start
    studio: bool = True  # a studio run folder (events.jsonl), else a plain Ultralytics one
    parent: str = ""  # the finished run this one continues (train --continue), by folder name

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    def weights(self) -> list:
        return sorted(p for p in (self.path / "weights").glob("*.pt")) if (self.path / "weights").is_dir() else []


def list_runs(runs_dir: str | Path) -> list:
    """Summaries of every run folder under ``runs_dir``, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    summaries = [s for s in (summarize(p) for p in sorted(runs_dir.iterdir()) if p.is_dir()) if s is not None]
    return sorted(summaries, key=lambda s: s.started or 0, reverse=True)


def summarize(path: str | Path) -> RunSummary | None:
    """A run folder's summary, or None when the folder is not a run."""
    path = Path(path)
    run = RunFolder(path)
    if run.events.is_file():
        return _from_events(run)
    if run.results_csv.is_file():
        return _from_results_csv(run)
    return None


def _from_events(run: RunFolder) -> RunSummary:
    events = read_events(run.events)
    summary = RunSummary(run.path.name, run.path, run_status(events))
    try:
        spec = run.spec()
        summary.model, summary.data, summary.task = spec.get("model", ""), spec.get("data", ""), spec.get("task", "")
        summary.epochs = int((spec.get("overrides") or {}).get("epochs") or 0)
        summary.parent = Path(spec["parent"]).name if spec.get("parent") else ""
    except (OSError, yaml.YAMLError, TypeError, AttributeError):
        pass
    starts = [e for e in events if e["type"] == "run_start"]
    summary.started = starts[0]["time"] if starts else None
    history = epoch_history(events)
    summary.epochs_done = max((e["epoch"] for e in history), default=0)
    summary.epochs = max([e.get("epochs") or 0 for e in history] + [summary.epochs])
    summary.duration = round(sum(e.get("epoch_time") or 0 for e in history), 1)
    _best(summary, [(e["epoch"], e["metrics"]) for e in history], [e.get("fitness") for e in history])
    return summary


def _from_results_csv(run: RunFolder) -> RunSummary:
    rows = read_results_csv(run.results_csv)
    summary = RunSummary(run.path.name, run.path, "unknown", studio=False)
    args_file = run.path / "args.yaml"
    if args_file.is_file():
        try:
            args = yaml.safe_load(args_file.read_text(encoding="utf-8")) or {}
            summary.model, summary.data = str(args.get("model", "")), str(args.get("data", ""))
            summary.task, summary.epochs = str(args.get("task", "")), int(args.get("epochs") or 0)
        except (OSError, yaml.YAMLError, ValueError, TypeError):
            pass
    summary.started = run.results_csv.stat().st_mtime
    summary.epochs_done = len(rows)
    summary.status = "completed" if rows and len(rows) >= summary.epochs else "unknown"
    summary.duration = round(float(rows[-1].get("time") or 0), 1) if rows else 0.0
    _best(summary, [(int(float(r["epoch"])), r) for r in rows], [None] * len(rows))
    return summary


def _best(summary: RunSummary, epochs: list, fitness: list) -> None:
    """The best epoch as Ultralytics picks it (fitness; else 0.1 mAP50 + 0.9 mAP50-95)."""
    best = None
    for (epoch, metrics), fit in zip(epochs, fitness):
        m, m50 = metrics.get(MAP), metrics.get(MAP50)
        if m is None:
            continue
        score = fit if fit is not None else 0.1 * (m50 or 0) + 0.9 * m
        if best is None or score > best[0]:
            best = (score, epoch, m, m50)
    if best:
        _, summary.best_epoch, summary.best_map, summary.best_map50 = best


def read_results_csv(path: str | Path) -> list:
    """Ultralytics' results.csv as dicts of floats (its headers may be padded with spaces)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            clean = {}
            for key, value in row.items():
                try:
                    clean[key.strip()] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(clean)
        return rows


def curves(path: str | Path) -> dict:
    """{metric: ([epochs], [values])} of a run, for overlaying several runs."""
    run = RunFolder(Path(path))
    if run.events.is_file():
        points = [(e["epoch"], e["metrics"]) for e in epoch_history(read_events(run.events))]
    elif run.results_csv.is_file():
        points = [(int(r["epoch"]), r) for r in read_results_csv(run.results_csv) if "epoch" in r]
    else:
        return {}
    out: dict = {}
    for epoch, metrics in points:
        for key, value in metrics.items():
            if key not in ("epoch", "time") and value is not None:
                xs, ys = out.setdefault(key, ([], []))
                xs.append(epoch)
                ys.append(value)
    return out


def history(path: str | Path, depth: int = 20) -> dict:
    """Like ``curves``, for a run and the finished runs it continues (``train --continue``): the parent's
    epochs first, this run's numbered after them, so a continued run reads as one training."""
    run = RunFolder(Path(path))
    own = curves(path)
    try:
        parent = run.spec().get("parent") if (run.artifacts / "run.yaml").is_file() else None
    except (OSError, yaml.YAMLError, AttributeError):
        parent = None
    if not parent or depth <= 0 or not Path(parent).is_dir():
        return own
    before = history(parent, depth - 1)
    offset = max((max(xs) for xs, _ in before.values() if xs), default=0)
    out = {key: (list(xs), list(ys)) for key, (xs, ys) in before.items()}
    for key, (xs, ys) in own.items():
        into = out.setdefault(key, ([], []))
        into[0].extend(x + offset for x in xs)
        into[1].extend(ys)
    return out


def run_imgsz(run_path: str | Path, default: int = 640) -> int:
    """The imgsz a run trained at (its resolved arguments), else ``default``."""
    try:
        resolved = yaml.safe_load((Path(run_path) / "artifacts" / "resolved.yaml").read_text(encoding="utf-8"))
        return int(resolved.get("imgsz") or default)
    except (OSError, AttributeError, ValueError, TypeError, yaml.YAMLError):
        return default


def delete_run(path: str | Path, runs_dir: str | Path) -> None:
    """Delete a run folder; refuses one outside ``runs_dir`` or still training."""
    path, runs_dir = Path(path).resolve(), Path(runs_dir).resolve()
    if path.parent != runs_dir:
        raise ValueError(f"{path} is not a run of this project ({runs_dir}): not deleted")
    summary = summarize(path)
    if summary is not None and summary.status in ("running", "queued"):
        raise ValueError(f"{path.name} is still training: stop it before deleting it")
    shutil.rmtree(path)


def running_runs(runs_dir: str | Path) -> list:
    """Run folders whose training process is alive (its pid and start time), oldest first: what the
    window re-attaches to."""
    from yolo_studio.training.events import read_events
    from yolo_studio.training.run_folder import RunFolder

    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = [RunFolder(p) for p in sorted(runs_dir.iterdir()) if (p / "events.jsonl").is_file()]
    return [r for r in found if run_status(read_events(r.events)) in ("running", "queued")]
