"""Inspection off the UI thread: debounced by the caller, newer requests supersede older ones."""

from __future__ import annotations

import threading
import weakref

from PySide6 import QtCore

LIVE_THREADS = weakref.WeakSet()  # for tests: every InspectionThread not yet garbage-collected


class InspectionWorker(QtCore.QObject):
    """Lives in its own QThread. ``run`` inspects a model dict; results carry the request's number."""

    finished = QtCore.Signal(int, object)  # generation, InspectionReport (plain data, no tensors)
    failed = QtCore.Signal(int, str, object)  # generation, message, layer or None

    def __init__(self):
        super().__init__()
        self._latest = 0
        self._lock = threading.Lock()

    def supersede(self, generation: int) -> None:
        """Called from the UI thread: anything older than ``generation`` need not run."""
        with self._lock:
            self._latest = max(self._latest, generation)

    @QtCore.Slot(int, object, object, int, object)
    def run(self, generation: int, model: dict, scale, imgsz: int, blocks) -> None:
        with self._lock:
            if generation < self._latest:
                return  # a newer edit is already queued
        from yolo_studio.core.errors import StudioError
        from yolo_studio.core.inspection import inspect_dict

        try:
            report = inspect_dict(model, scale=scale, imgsz=imgsz, blocks=blocks or {})
        except StudioError as exc:
            self.failed.emit(generation, getattr(exc, "message", str(exc)), getattr(exc, "layer", None))
            return
        except Exception as exc:  # a block's own bug must not take the studio down
            self.failed.emit(generation, f"{type(exc).__name__}: {exc}", None)
            return
        self.finished.emit(generation, report)


class InspectionThread(QtCore.QObject):
    """Owns the worker's thread; ``request`` queues a run, ``stop`` joins the thread."""

    request_run = QtCore.Signal(int, object, object, int, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("inspection")
        self.worker = InspectionWorker()
        self.worker.moveToThread(self.thread)
        self.request_run.connect(self.worker.run)
        self.thread.start()
        self.generation = 0
        LIVE_THREADS.add(self)

    def request(self, model: dict, scale, imgsz: int, blocks) -> int:
        self.generation += 1
        self.worker.supersede(self.generation)
        self.request_run.emit(self.generation, model, scale, imgsz, blocks)
        return self.generation

    def stop(self) -> None:
        self.thread.quit()
        self.thread.wait()
