"""Keeping a running QThread alive until it has finished.

Qt aborts the whole process when a QThread is destroyed while it still runs ("QThread: Destroyed while
thread is still running"). That can happen without any mistake in the calling code: a window closes and
Qt deletes its children, or Python's garbage collector frees a wrapper whose owner is gone, a few
milliseconds before the thread's ``run`` has returned. So every thread the studio starts is registered
here; the registry holds it (and the objects that live in it) until it has finished and been waited
for, and ``stop_all`` ends what is left when the interpreter exits.
"""

from __future__ import annotations

import atexit
import warnings
from functools import partial

from PySide6 import QtCore

_LIVE: dict[int, tuple[QtCore.QThread, tuple]] = {}


def keep_until_finished(thread: QtCore.QThread, *companions, on_orphaned=None) -> None:
    """Hold ``thread`` (and ``companions``, such as a worker object moved into it) until it finishes.
    Call it before ``thread.start()``. When the thread's Qt parent is destroyed first, the thread is
    taken from it (Qt would delete it with its parent) and ``on_orphaned()`` is called: the place to
    cancel the work and disconnect signals whose receivers are gone."""
    key = id(thread)
    if key in _LIVE:
        return
    _LIVE[key] = (thread, companions)
    # the sender is the context: the call is queued to the thread that made ``thread`` (the UI thread)
    thread.finished.connect(partial(_forget, key))
    if thread.parent() is not None:  # a window's destroyed() comes before its children are deleted
        thread.parent().destroyed.connect(partial(_orphan, key, on_orphaned))


def _orphan(key: int, on_orphaned) -> None:
    entry = _LIVE.get(key)
    try:
        if entry is None or not entry[0].isRunning():
            return
    except RuntimeError:  # already deleted by Qt: it had finished
        _LIVE.pop(key, None)
        return
    entry[0].setParent(None)
    if on_orphaned is not None:
        on_orphaned()


def _forget(key: int) -> None:
    entry = _LIVE.get(key)
    if entry is None:
        return
    thread = entry[0]
    try:
        thread.wait()  # ``finished`` is emitted just before the thread really ends
        running = thread.isRunning()  # (started again meanwhile: keep holding it)
    except RuntimeError:  # already deleted by Qt
        running = False
    if not running:
        # let go in a later event, not while Qt is still delivering the thread's own signal
        QtCore.QTimer.singleShot(0, partial(_LIVE.pop, key, None))


def disconnect_all(*signals) -> None:
    """Disconnect every slot of each signal (a signal with none is fine)."""
    for signal in signals:
        with warnings.catch_warnings():  # disconnecting a signal with no slots warns
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                signal.disconnect()
            except (RuntimeError, TypeError):
                pass


def live_threads() -> list[QtCore.QThread]:
    return [thread for thread, _ in _LIVE.values()]


@atexit.register
def stop_all(timeout_ms: int = 10_000) -> None:
    """Ask every live thread to end (cancel, quit its event loop) and wait for it."""
    for thread, _ in list(_LIVE.values()):
        try:
            for ask in ("cancel", "detach", "quit"):  # a supervisor detaches: training goes on
                if callable(getattr(thread, ask, None)):
                    getattr(thread, ask)()
            thread.wait(timeout_ms)
        except RuntimeError:  # Qt deleted it already (it had finished; its parent went)
            continue
    _LIVE.clear()
