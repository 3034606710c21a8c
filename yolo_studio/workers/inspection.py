"""Inspection off the UI thread: debounced by the caller, newer requests supersede older ones."""

from __future__ import annotations

from PySide6 import QtCore

from yolo_studio.workers.task import TaskThread


class InspectionThread(QtCore.QObject):
    """``request`` queues an inspection; results carry the request's generation number.

    A request still queued when a newer one arrives is skipped, so only the latest edit is
    inspected; the caller drops results whose generation is not its latest. Each request reports
    twice: ``shapes_known`` as soon as the shapes are measured, ``finished`` once the GFLOPs are
    counted too (not at all if a newer request arrived meanwhile).

    Custom blocks are loaded here, on the worker, the first time a request needs them (and
    again after ``forget_blocks``): each file is checked in a child process first, so a block
    that loops forever costs a time-limited check, never a hung studio.
    """

    finished = QtCore.Signal(int, object)  # generation, InspectionReport (plain data, no tensors)
    shapes_known = QtCore.Signal(int, object)  # generation, early report: shapes, GFLOPs not counted yet
    failed = QtCore.Signal(int, str, object)  # generation, message, layer or None
    blocks_loaded = QtCore.Signal(object)  # [BlockFileError] of the files that were not loaded
    ultralytics_changed = QtCore.Signal(str)  # the start-up probe's message: Ultralytics broke an assumption

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task = TaskThread("inspection", self)
        self.task.done.connect(self._on_task_done)
        self.task.failed.connect(lambda _job, message: self.failed.emit(self.generation, message, None))
        self.generation = 0  # written on the UI thread, read on the worker's: a plain int is safe
        self.block_check_timeout = None  # seconds per block file check; None: block_check's default
        self._blocks = None  # {modules_dir: blocks}, only touched on the worker thread
        self._meta_warmed = False  # whether the meta device's operations have been used once

    def request(self, model: dict, scale, imgsz: int, modules_dir=None) -> int:
        self.generation += 1
        self.task.submit(self._inspect, self.generation, model, scale, imgsz, modules_dir)
        return self.generation

    def warm_up(self, modules_dir=None) -> None:
        """Import torch and Ultralytics, build one tiny model and load the trusted custom blocks of
        ``modules_dir`` on the worker, so the user's first inspection does not wait for them (the
        imports alone take seconds), then run the start-up probe. Queued like a request: one asked for
        meanwhile runs right after."""
        self.task.submit(self._warm_up, modules_dir)

    def _warm_up(self, modules_dir=None) -> None:
        if modules_dir:
            try:
                self._blocks_of(modules_dir)
            except Exception:  # reported by the first real request
                self._blocks = None

        try:
            inspect_tiny_model()
        except Exception:  # only a head start: a real request reports its own errors
            pass
        self._probe()

    def _probe(self) -> None:
        """Check Ultralytics against the studio's assumptions (the start-up probe: tens of milliseconds
        once Ultralytics is imported); a broken one reaches the window as one message."""
        from yolo_studio.compat import probe

        try:
            mismatches = probe.probe()
        except Exception as exc:  # the probe reports its own failures; this is a last resort
            mismatches = [probe.Mismatch("the studio's probe", f"{type(exc).__name__}: {exc}")]
        if mismatches:
            self.ultralytics_changed.emit(probe.report(mismatches))

    @staticmethod
    def _warm_meta_device() -> None:
        """Large models' custom rows are measured on the meta device: pay its first use now, while idle."""
        from yolo_studio.compat.measuring import warm_meta_device

        try:
            warm_meta_device()
        except Exception:  # only a head start
            pass

    def forget_blocks(self) -> None:
        """Block files changed: the next request loads (and checks) them again."""
        self.task.submit(self._forget_blocks)

    def _forget_blocks(self) -> None:
        from yolo_studio.core.blocks.custom_blocks import forget_loaded_blocks

        forget_loaded_blocks()
        self._blocks = None

    def _blocks_of(self, modules_dir) -> dict:
        if not modules_dir:
            return {}
        if self._blocks is None or modules_dir not in self._blocks:
            from yolo_studio.core.blocks.block_check import load_vetted_blocks

            blocks, errors = load_vetted_blocks(modules_dir, self.block_check_timeout)
            self._blocks = {modules_dir: blocks}
            self.blocks_loaded.emit(errors)
        return self._blocks[modules_dir]

    def _inspect(self, generation: int, model: dict, scale, imgsz: int, modules_dir):
        """Runs on the worker thread; returns (generation, report or message, layer), or None if superseded."""
        if generation < self.generation:
            return None
        from yolo_studio.core.errors import StudioError
        from yolo_studio.core.model.inspection import InspectionStopped, inspect_dict

        def early(report) -> None:  # on this thread: the signal is queued to the caller's
            self.shapes_known.emit(generation, report)

        def keep_going() -> bool:  # a newer request needs the thread more than these GFLOPs
            return generation >= self.generation

        try:
            blocks = self._blocks_of(modules_dir)
            return generation, inspect_dict(model, scale=scale, imgsz=imgsz, blocks=blocks, on_shapes=early,
                                            keep_going=keep_going), None
        except InspectionStopped:
            return None
        except StudioError as exc:
            return generation, getattr(exc, "message", str(exc)), getattr(exc, "layer", None)
        except Exception as exc:  # a block's own bug must not take the studio down
            return generation, f"{type(exc).__name__}: {exc}", None

    def _on_task_done(self, _job: int, result) -> None:
        if result is not None and not self._meta_warmed:  # the first shapes are shown: now the rest
            self._meta_warmed = True
            self.task.submit(self._warm_meta_device)
        if result is None:
            return
        generation, outcome, layer = result
        if isinstance(outcome, str):
            self.failed.emit(generation, outcome, layer)
        else:
            self.finished.emit(generation, outcome)

    def stop(self) -> None:
        self.task.stop()


def inspect_tiny_model():
    """Inspect a tiny model with a custom row: what the first real inspection would otherwise pay for
    (imports, first kernels, a custom row measured on the CPU: the meta device is warmed later)."""
    from yolo_studio.core.model.inspection import inspect_dict

    tiny = {"nc": 1, "backbone": [[-1, 1, "Conv", [8, 3, 2]], [-1, 1, "WarmUpBlock", []],
                                  [-1, 1, "Conv", [8, 3, 2]], [-1, 1, "Conv", [8, 3, 2]]],
            "head": [[[0, 2, 3], 1, "Detect", ["nc"]]]}
    return inspect_dict(tiny, imgsz=64, blocks={"WarmUpBlock": (_warm_up_block(), None)})


def _warm_up_block():
    """A block as users write them (channels in, same channels out), for the warm-up build."""
    import torch.nn as nn

    class WarmUpBlock(nn.Module):
        def __init__(self, c1):
            super().__init__()
            self.conv = nn.Conv2d(c1, c1, 1)
            self.bn = nn.BatchNorm2d(c1)

        def forward(self, x):
            return x * self.bn(self.conv(x)).sigmoid()

    return WarmUpBlock

