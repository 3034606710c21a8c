"""The studio's own folders on this machine: its data (settings, trust, logs) and its cache.

``YOLO_STUDIO_HOME`` and ``YOLO_STUDIO_CACHE`` move them (the test suite gives each test its own).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def studio_data_dir() -> Path:
    """The per-user folder the studio writes its own state to (config, logs, caches)."""
    override = os.environ.get("YOLO_STUDIO_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "yolo-studio"


def studio_cache_dir() -> Path:
    """Where the studio keeps what it can compute again (block check results): ``YOLO_STUDIO_CACHE``,
    else ``cache/`` in its data folder."""
    override = os.environ.get("YOLO_STUDIO_CACHE")
    return Path(override) if override else studio_data_dir() / "cache"
