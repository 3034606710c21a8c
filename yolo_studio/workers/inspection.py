"""Inspection off the UI thread: debounced by the caller, newer requests supersede older ones."""

from __future__ import annotations

from PySide6 import QtCore

from yolo_studio.workers.task import TaskThread


class InspectionThread(QtCore.QObject):
    """``request`` queues an inspection; results carry the request's generation number.

    A request still queued when a newer one arrives is skipped, so only the latest edit is
    inspected; the caller drops results whose generation is not its latest.
    """

    finished = QtCore.Signal(int, object)  # generation, InspectionReport (plain data, no tensors)
    failed = QtCore.Signal(int, str, object)  # generation, message, layer or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task = TaskThread("inspection", self)
        self.task.done.connect(self._on_task_done)
        self.task.failed.connect(lambda _job, message: self.failed.emit(self.generation, message, None))
        self.generation = 0  # written on the UI thread, read on the worker's: a plain int is safe

    def request(self, model: dict, scale, imgsz: int, blocks) -> int:
        self.generation += 1
        self.task.submit(self._inspect, self.generation, model, scale, imgsz, blocks)
        return self.generation

    def _inspect(self, generation: int, model: dict, scale, imgsz: int, blocks):
        """Runs on the worker thread; returns (generation, report or message, layer), or None if superseded."""
        if generation < self.generation:
            return None
        from yolo_studio.core.errors import StudioError
        from yolo_studio.core.inspection import inspect_dict

        try:
            return generation, inspect_dict(model, scale=scale, imgsz=imgsz, blocks=blocks or {}), None
        except StudioError as exc:
            return generation, getattr(exc, "message", str(exc)), getattr(exc, "layer", None)
        except Exception as exc:  # a block's own bug must not take the studio down
            return generation, f"{type(exc).__name__}: {exc}", None

    def _on_task_done(self, _job: int, result) -> None:
        if result is None:
            return
        generation, outcome, layer = result
        if isinstance(outcome, str):
            self.failed.emit(generation, outcome, layer)
        else:
            self.finished.emit(generation, outcome)

    def stop(self) -> None:
        self.task.stop()
