"""The devices panel (View > Devices): CUDA devices with memory and utilisation, or the CPU."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.devices import describe_devices, lines
from yolo_studio.workers.job import JobThread

REFRESH_MS = 2000


def device_box(parent=None) -> QtWidgets.QComboBox:
    """A device picker for running a model in the studio (inference, export): each GPU with its free
    memory, then the CPU; the first GPU is chosen when there is one. ``currentData()`` is the device."""
    import sys

    from yolo_studio.core.devices import device_choices, nvml_gpus

    mps = False
    if sys.platform == "darwin":
        import torch

        mps = torch.backends.mps.is_available()
    box = QtWidgets.QComboBox(parent)
    for label, device in device_choices(nvml_gpus(), mps):
        box.addItem(label, device)
    box.setToolTip("Where the model runs: a GPU when there is one, else the CPU")
    return box


class DevicesDialog(QtWidgets.QDialog):
    refreshed = QtCore.Signal(dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Devices")
        self.text = QtWidgets.QLabel("Reading the devices…", wordWrap=True,
                                     textInteractionFlags=QtCore.Qt.TextSelectableByMouse)
        self.text.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.text.setMinimumWidth(560)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close, rejected=self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(close)
        self.job = None
        self.timer = QtCore.QTimer(self, interval=REFRESH_MS, timeout=self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        if self.job is not None and self.job.isRunning():
            return
        self.job = JobThread(lambda _job: describe_devices(), "devices", self)
        self.job.finished_with.connect(self._show)
        self.job.failed.connect(lambda message: self.text.setText(f"Cannot read the devices: {message}"))
        self.job.start()

    def _show(self, info: dict) -> None:
        self.text.setText("\n".join(lines(info)))
        self.refreshed.emit(info)

    def done(self, code: int) -> None:
        self.timer.stop()
        if self.job is not None:
            self.job.wait()
        super().done(code)
