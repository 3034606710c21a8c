"""Whether a process still runs (for runs left running, and for autosaves a crash left behind)."""

from __future__ import annotations


def pid_alive(pid: int | None) -> bool:
    """Whether a process still runs (psutil, an Ultralytics dependency; a zombie counts as ended)."""
    import psutil

    if not pid or not psutil.pid_exists(pid):
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
