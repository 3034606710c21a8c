"""Autosaved copies of unsaved work, so a crash loses at most a few seconds.

The window writes the text of every modified document here every few seconds (atomically) and
removes it when the document is saved or the studio closes normally. Entries left by a process
that is no longer running are what a crash left behind: the next start offers to restore them.

``<studio data>/recovery/<key>.json``: kind (model | block), the file it belongs to (or None for
an untitled model), the text, when, and the pid of the studio that wrote it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.home import studio_data_dir
from yolo_studio.core.processes import pid_alive, this_process


@dataclass
class RecoveredWork:
    key: str
    kind: str  # "model" or "block"
    path: str | None  # the file the text belongs to; None for an untitled model
    text: str
    saved_at: str
    pid: int
    file: Path
    started: float | None = None  # when that studio process started (a pid alone can be reused)

    def describe(self) -> str:
        name = Path(self.path).name if self.path else "untitled model"
        return f"{name} ({self.kind}, autosaved {self.saved_at[:19].replace('T', ' ')} UTC)"


class RecoveryArea:
    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else studio_data_dir() / "recovery"

    @staticmethod
    def key_for(kind: str, path: str | Path | None, untitled_id: str = "") -> str:
        source = f"{kind}:{Path(path).resolve() if path else 'untitled:' + untitled_id}"
        return f"{kind}-{hashlib.sha1(source.encode()).hexdigest()[:12]}"

    def save(self, key: str, kind: str, path, text: str) -> Path:
        record = {"kind": kind, "path": str(path) if path else None, "text": text, **this_process(),
                  "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        return write_text_atomic(self.folder / f"{key}.json", json.dumps(record))

    def clear(self, key: str) -> None:
        (self.folder / f"{key}.json").unlink(missing_ok=True)

    def entries(self) -> list:
        found = []
        for file in sorted(self.folder.glob("*.json")):
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
                found.append(RecoveredWork(file.stem, record["kind"], record.get("path"), record["text"],
                                           record.get("saved_at", ""), int(record.get("pid", 0)), file,
                                           record.get("started")))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged entry is not worth a crash; it stays for a person to look at
        return found

    def orphaned(self) -> list:
        """Entries whose studio is no longer running: what a crash left behind."""
        return [e for e in self.entries() if not pid_alive(e.pid, e.started)]  # this studio's own are alive

    def discard(self, entry: RecoveredWork) -> None:
        entry.file.unlink(missing_ok=True)

