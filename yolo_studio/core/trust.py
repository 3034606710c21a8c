"""Which block folders the user allowed to run. Block files are Python code: a folder someone
else wrote is asked about once, and the answer is remembered (per folder, in the studio's data
directory). Folders the studio ships or creates are trusted without asking."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.offline import studio_data_dir

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"


class TrustStore:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else studio_data_dir() / "trusted_folders.json"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8")).get("folders", {})
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _key(folder) -> str:
        return str(Path(folder).resolve())

    def decision(self, folder) -> bool | None:
        """True (allowed), False (refused) or None (never asked)."""
        key = self._key(folder)
        if key.startswith((str(studio_data_dir().resolve()), str(RESOURCES))):
            return True  # the studio's own folders
        entry = self._load().get(key)
        return None if entry is None else bool(entry["trusted"])

    def remember(self, folder, trusted: bool) -> None:
        folders = self._load()
        folders[self._key(folder)] = {"trusted": trusted, "at": datetime.now(timezone.utc).isoformat()}
        write_text_atomic(self.path, json.dumps({"folders": folders}, indent=1))
