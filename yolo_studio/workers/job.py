"""One long job off the UI thread, with progress, items as they come, and cancellation.

``JobThread(work)`` runs ``work(job)``; the function reports through ``job.report_progress(done,
total)`` and ``job.report_item(obj)``, and polls ``job.is_cancelled()``. Its return value arrives
in ``finished_with``; an exception arrives in ``failed`` as a message (never a crash). Signals
carry plain data.
"""

from __future__ import annotations

import threading

from PySide6 import QtCore

from yolo_studio.workers.lifetime import disconnect_all, keep_until_finished


class JobThread(QtCore.QThread):
    progress = QtCore.Signal(int, int)  # done, total
    item = QtCore.Signal(object)
    finished_with = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, work, name: str = "job", parent=None):
        super().__init__(parent)
        self.work = work
        self._cancel = threading.Event()
        self.setObjectName(name)

    def start(self, *args) -> None:
        keep_until_finished(self, on_orphaned=self._orphaned)
        super().start(*args)

    def _orphaned(self) -> None:
        """The window that started the job is gone: stop it and tell no one."""
        self.cancel()
        disconnect_all(self.progress, self.item, self.finished_with, self.failed)

    def run(self) -> None:  # QThread.run
        try:
            result = self.work(self)
        except Exception as exc:  # reported to the UI, never raised into Qt's event loop
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self.failed.emit(message if isinstance(exc, ValueError) else f"{type(exc).__name__}: {message}")
            return
        self.finished_with.emit(result)

    def report_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)

    def report_item(self, obj) -> None:
        self.item.emit(obj)

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def stop(self) -> None:
        """Cancel and wait (the studio is closing, or the job is replaced)."""
        self.cancel()
        self.wait()
