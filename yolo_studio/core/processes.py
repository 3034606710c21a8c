"""Whether a process still runs (for runs left running, and for autosaves a crash left behind).

A pid alone is not a process: after a reboot, or a long while, the system gives the same number to
another process, and a dead run would show as running (the window re-attaching to it, Stop killing
a stranger). A process is known by its pid and the time it started (``this_process()``); a check
with both only answers yes for that very process.
"""

from __future__ import annotations

import os

SAME_START = 1.0  # seconds: start times are read to a fraction of a second, the same process reads the same


def started_at(pid: int | None) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if it does not run."""
    import psutil

    if not pid:
        return None
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def this_process() -> dict:
    """``{"pid", "started"}`` of the calling process, to record where a later check can read it."""
    return {"pid": os.getpid(), "started": started_at(os.getpid())}


def pid_alive(pid: int | None, started: float | None = None) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as ended) and, if ``started`` is given, is
    the process that started then, not a later one given the same number."""
    import psutil

    if not pid or not psutil.pid_exists(pid):
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(process.create_time() - started) < SAME_START
    except psutil.Error:
        return False
