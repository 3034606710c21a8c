"""A hydra model on disk: one backbone, heads with versions, an active version per head.

```
<project>/hydra/<name>/
  registry.json              the whole state: split layer, backbone hash, metric, and per head its
                             versions (metrics, classes, dataset hash, created, notes), the active
                             version and the earlier active ones (for rollback)
  backbone/model.pt          the detector the backbone was extracted from (layers < split are used)
  heads/<head>/v<N>/model.pt the checkpoint a head version was trained to (layers >= split are used)
```

Every change writes its files first and ``registry.json`` last, with an atomic rename: a crash at
any point leaves the previous consistent state (at worst an unreferenced version folder).

Promotion: a head's first version becomes active; a later one becomes active by itself only when
its metric (F1 by default, or mAP50-95) beats the active version's by more than 2 percent
(relative: 0.50 -> above 0.51); otherwise it waits for ``promote``.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic

FORMAT = 1
PROMOTE_MARGIN = 0.02
METRICS = ("f1", "mAP50-95")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class HeadVersion:
    head: str
    version: int
    metrics: dict
    classes: list
    dataset_hash: str = ""
    created: str = ""
    notes: str = ""
    source_run: str = ""
    folder: Path | None = None

    @property
    def weights(self) -> Path:
        return self.folder / "model.pt"


class HydraStore:
    """Reads and changes one hydra model's folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def registry_file(self) -> Path:
        return self.root / "registry.json"

    @property
    def backbone_weights(self) -> Path:
        return self.root / "backbone" / "model.pt"

    def exists(self) -> bool:
        return self.registry_file.is_file()

    def load(self) -> dict:
        try:
            return json.loads(self.registry_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{self.root} is not a hydra model (no registry.json): extract one first") from None
        except ValueError as exc:
            raise ValueError(f"{self.registry_file}: unreadable ({exc}); restore it from a backup") from None

    def _save(self, state: dict) -> None:
        write_text_atomic(self.registry_file, json.dumps(state, indent=1, sort_keys=True))

    # ------------------------------------------------------------------ creating

    def create(self, source_weights: str | Path, split: int, backbone_hash: str, source_run: str = "",
               metric: str = "f1") -> dict:
        if self.exists():
            raise ValueError(f"the hydra model '{self.name}' exists already: choose another name")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}")
        (self.root / "backbone").mkdir(parents=True, exist_ok=True)
        _copy_checkpoint(source_weights, self.root / "backbone")
        state = {"format": FORMAT, "name": self.name, "split": split, "metric": metric,
                 "backbone": {"hash": backbone_hash, "source": str(source_weights), "source_run": source_run,
                              "created": _now()},
                 "heads": {}}
        self._save(state)
        return state

    def add_version(self, head: str, weights: str | Path, metrics: dict, classes: list, dataset_hash: str = "",
                    notes: str = "", source_run: str = "") -> tuple:
        """Store a new version of ``head``; returns (HeadVersion, promoted: bool, reason)."""
        if not NAME.fullmatch(head or ""):
            raise ValueError(f"'{head}' cannot be a head name: use letters, digits, '.', '-' or '_'")
        state = self.load()
        entry = state["heads"].setdefault(head, {"active": None, "history": [], "versions": {}})
        version = 1 + max((int(v) for v in entry["versions"]), default=0)
        folder = self.root / "heads" / head / f"v{version}"
        staging = folder.with_name(f".v{version}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _copy_checkpoint(weights, staging)
        staging.rename(folder)
        metrics = with_f1(metrics)
        entry["versions"][str(version)] = {"metrics": metrics, "classes": list(classes), "dataset_hash": dataset_hash,
                                           "created": _now(), "notes": notes, "source_run": source_run}
        promoted, reason = self._promotion(state, entry, metrics)
        if promoted:
            _activate(entry, version)
        self._save(state)
        return self.version(head, version, state), promoted, reason

    def _promotion(self, state: dict, entry: dict, metrics: dict) -> tuple:
        key = state.get("metric", "f1")
        if entry["active"] is None:
            return True, "the first version of the head"
        current = entry["versions"][str(entry["active"])]["metrics"].get(key) or 0.0
        new = metrics.get(key) or 0.0
        if new > current * (1 + PROMOTE_MARGIN):
            return True, f"{key} {new:.4f} beats the active v{entry['active']}'s {current:.4f} by more than 2%"
        gain = (new / current - 1) * 100 if current else 0.0
        return False, (f"{key} {new:.4f} vs the active v{entry['active']}'s {current:.4f} ({gain:+.1f}%): "
                       "not more than 2% better; promote it by hand if you want it")

    # ------------------------------------------------------------------ reading

    def heads(self) -> dict:
        return self.load()["heads"]

    def version(self, head: str, version: int, state: dict | None = None) -> HeadVersion:
        entry = self._head(state or self.load(), head)
        data = entry["versions"].get(str(version))
        if data is None:
            raise ValueError(f"head '{head}' has no v{version} (versions: "
                             f"{', '.join('v' + v for v in sorted(entry['versions'], key=int))})")
        return HeadVersion(head, int(version), data["metrics"], data["classes"], data.get("dataset_hash", ""),
                           data.get("created", ""), data.get("notes", ""), data.get("source_run", ""),
                           self.root / "heads" / head / f"v{version}")

    def history(self, head: str) -> list:
        state = self.load()
        return [self.version(head, int(v), state) for v in sorted(self._head(state, head)["versions"], key=int)]

    def active(self) -> list:
        """The active version of every head that has one."""
        state = self.load()
        return [self.version(h, e["active"], state) for h, e in sorted(state["heads"].items())
                if e["active"] is not None]

    @staticmethod
    def _head(state: dict, head: str) -> dict:
        if head not in state["heads"]:
            known = ", ".join(sorted(state["heads"])) or "none yet"
            raise ValueError(f"no head named '{head}' (heads: {known})")
        return state["heads"][head]

    # ------------------------------------------------------------------ changing the active version

    def promote(self, head: str, version: int) -> None:
        state = self.load()
        entry = self._head(state, head)
        if str(version) not in entry["versions"]:
            raise ValueError(f"head '{head}' has no v{version}")
        if entry["active"] != version:
            _activate(entry, version)
            self._save(state)

    def rollback(self, head: str) -> int:
        """Make the previously active version active again; returns it."""
        state = self.load()
        entry = self._head(state, head)
        history = [v for v in entry["history"] if str(v) in entry["versions"]]
        if not history:
            raise ValueError(f"head '{head}' has no earlier active version to roll back to")
        entry["active"] = history.pop()
        entry["history"] = history
        self._save(state)
        return entry["active"]

    def cleanup(self, head: str, keep: int) -> list:
        """Delete all but the newest ``keep`` versions (never the active one); returns the deleted ones."""
        if keep < 1:
            raise ValueError("keep at least 1 version")
        state = self.load()
        entry = self._head(state, head)
        versions = sorted((int(v) for v in entry["versions"]), reverse=True)
        doomed = [v for v in versions[keep:] if v != entry["active"]]
        for v in doomed:
            del entry["versions"][str(v)]
        entry["history"] = [v for v in entry["history"] if v not in doomed]
        self._save(state)  # first the registry: a crash now leaves folders nobody references
        for v in doomed:
            shutil.rmtree(self.root / "heads" / head / f"v{v}", ignore_errors=True)
        return doomed


def with_f1(metrics: dict) -> dict:
    """The metrics with F1 = 2PR / (P + R) added from precision and recall."""
    p, r = metrics.get("precision"), metrics.get("recall")
    out = dict(metrics)
    if p is not None and r is not None:
        out["f1"] = round(2 * p * r / (p + r), 5) if p + r > 0 else 0.0
    return out


def _copy_checkpoint(weights: str | Path, folder: Path) -> None:
    """``folder/model.pt`` and, when the checkpoint has custom blocks, ``folder/modules/``."""
    from yolo_studio.training.run_folder import checkpoint_blocks

    shutil.copy2(weights, folder / "model.pt")
    blocks = checkpoint_blocks(weights)
    if blocks is not None:
        shutil.copytree(blocks, folder / "modules", dirs_exist_ok=True)


def _activate(entry: dict, version: int) -> None:
    if entry["active"] is not None:
        entry["history"].append(entry["active"])
    entry["active"] = version


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def training_imgsz(store: HydraStore, default: int = 640) -> int:
    """The image size the active heads were trained at (the most common one), else the backbone's run's:
    inference at another size gives wrong boxes."""
    from collections import Counter

    from yolo_studio.training.run_store import run_imgsz

    sizes = [run_imgsz(v.source_run, 0) for v in store.active() if v.source_run and Path(v.source_run).is_dir()]
    sizes = [s for s in sizes if s]
    if sizes:
        return Counter(sizes).most_common(1)[0][0]
    source = store.load()["backbone"].get("source_run")
    return run_imgsz(source, default) if source and Path(source).is_dir() else default


def list_hydras(hydra_dir: str | Path) -> list:
    return [HydraStore(p) for p in sorted(Path(hydra_dir).glob("*")) if (p / "registry.json").is_file()]
