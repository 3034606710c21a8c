"""Which projects (or loose block folders) the user allowed to run blocks from.

Block files are Python code: a project someone else wrote is asked about once, and the answer is
remembered per project folder in the studio's own data directory (never in the project, which
could claim anything). Projects the studio creates are remembered as trusted when created; the
blocks the studio ships are trusted without asking."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from yolo_studio.core.shared_files import update_json
from yolo_studio.core.home import studio_data_dir

RESOURCES = Path(__file__).resolve().parents[3] / "resources"


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
        """True (allowed), False (refused) or None (never asked), for a project or a block folder."""
        key = self._key(folder)
        if key.startswith(str(RESOURCES)):
            return True  # the studio's own example blocks
        entry = self._load().get(key)
        return None if entry is None else bool(entry["trusted"])

    def remember(self, folder, trusted: bool) -> None:
        entry = {"trusted": trusted, "at": datetime.now(timezone.utc).isoformat()}
        update_json(self.path, lambda content: content.setdefault("folders", {}).update({self._key(folder): entry}))
