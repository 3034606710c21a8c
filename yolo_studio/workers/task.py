"""Run one plain function at a time off the UI thread; results come back as signals."""

from __future__ import annotations

from PySide6 import QtCore

from yolo_studio.workers.lifetime import keep_until_finished


class _Runner(QtCore.QObject):
    done = QtCore.Signal(int, object)  # job number, the function's return value
    failed = QtCore.Signal(int, str)  # job number, message

    @QtCore.Slot(int, object, object)
    def run(self, job: int, function, args) -> None:
        try:
            result = function(*args)
        except Exception as exc:  # reported, never raised into Qt's event loop
            self.failed.emit(job, f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(job, result)


class TaskThread(QtCore.QObject):
    """``submit(function, *args)`` queues a call on the thread; ``done``/``failed`` report it."""

    _request = QtCore.Signal(int, object, object)

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.thread = QtCore.QThread()
        self.thread.setObjectName(name)
        self.runner = _Runner()
        self.runner.moveToThread(self.thread)
        self._request.connect(self.runner.run)
        self.done, self.failed = self.runner.done, self.runner.failed
        keep_until_finished(self.thread, self.runner)  # lives until its loop has ended, whoever goes first
        self.destroyed.connect(self.thread.quit)
        self.thread.start()
        self.jobs = 0

    def submit(self, function, *args) -> int:
        self.jobs += 1
        self._request.emit(self.jobs, function, args)
        return self.jobs

    def stop(self) -> None:
        self.thread.quit()
        self.thread.wait()
