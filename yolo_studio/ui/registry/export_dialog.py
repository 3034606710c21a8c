"""Export a model: format (only those that work here are enabled), options, progress, verification."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.deploy import export as exporter
from yolo_studio.deploy.gpu_worker import EXPORT, run_in_child
from yolo_studio.ui.devices import device_box
from yolo_studio.workers.job import JobThread


class ExportDialog(QtWidgets.QDialog):
    exported = QtCore.Signal(dict)  # {"file", "verification": text or None}

    def __init__(self, weights: str | Path, imgsz: int = 640, sample_images: list = (), parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Export {Path(weights).name}")
        self.weights = Path(weights)
        self.sample_images = list(sample_images)
        self.job = None
        self.device = device_box(self)
        self.format = QtWidgets.QComboBox()
        for f in exporter.formats():
            self.format.addItem(f"{f.name} — {f.description}", f.name)
        self.device.currentIndexChanged.connect(self._update_formats)
        self.format.currentIndexChanged.connect(self._update_options)
        self.imgsz = QtWidgets.QSpinBox(minimum=32, maximum=4096, singleStep=32, value=imgsz)
        self.half = QtWidgets.QCheckBox("FP16 weights (half)")
        self.dynamic = QtWidgets.QCheckBox("dynamic input size")
        self.simplify = QtWidgets.QCheckBox("simplify the graph (onnxslim)")
        self.opset = QtWidgets.QSpinBox(minimum=0, maximum=23, specialValueText="default")
        self.verify = QtWidgets.QCheckBox(f"verify with onnxruntime on {len(self.sample_images)} sample images",
                                          checked=bool(self.sample_images))
        self.verify.setEnabled(bool(self.sample_images))
        form = QtWidgets.QFormLayout()
        form.addRow("Model", QtWidgets.QLabel(str(self.weights)))
        form.addRow("Device", self.device)
        form.addRow("Format", self.format)
        form.addRow("imgsz", self.imgsz)
        form.addRow("", self.half)
        form.addRow("", self.dynamic)
        form.addRow("", self.simplify)
        form.addRow("ONNX opset", self.opset)
        form.addRow("", self.verify)
        self.progress = QtWidgets.QProgressBar(maximum=0)
        self.progress.hide()
        self.result = QtWidgets.QLabel(wordWrap=True, textInteractionFlags=QtCore.Qt.TextSelectableByMouse)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        self.export_button = self.buttons.addButton("Export", QtWidgets.QDialogButtonBox.ActionRole)
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)
        self.resize(620, 380)
        self._update_formats()

    def _update_formats(self) -> None:
        """Formats that can be made on the chosen device are enabled (TensorRT on a GPU only); a disabled
        one says what it needs."""
        for row, f in enumerate(exporter.formats(self.device.currentData())):
            item = self.format.model().item(row)
            item.setEnabled(f.available)
            item.setToolTip("" if f.available else f"needs {', '.join(f.missing)}")
        if not self.format.model().item(self.format.currentIndex()).isEnabled():
            self.format.setCurrentIndex(self.format.findData("onnx"))
        self._update_options()

    def _update_options(self) -> None:
        onnx = self.format.currentData() == "onnx"
        self.simplify.setEnabled(onnx)
        self.opset.setEnabled(onnx)
        self.verify.setEnabled(onnx and bool(self.sample_images))
        gpu = exporter.on_cuda(self.device.currentData())
        self.half.setEnabled(gpu)
        self.half.setChecked(self.half.isChecked() and gpu)
        self.half.setToolTip("" if gpu else "FP16 weights are made on a CUDA GPU only: choose one as the device")

    def start(self):
        fmt, imgsz, device = self.format.currentData(), self.imgsz.value(), self.device.currentData()
        options = (self.half.isChecked() and self.half.isEnabled(), self.dynamic.isChecked(),
                   self.simplify.isChecked() and fmt == "onnx", self.opset.value() or None, device)
        verify = self.verify.isChecked() and self.verify.isEnabled()
        weights, images = self.weights, self.sample_images

        def work(_job):
            if exporter.on_cuda(device):  # in a worker process: no CUDA context or native crash in the studio's
                half, dynamic, simplify, opset, _device = options
                return run_in_child(EXPORT, {"weights": str(weights), "fmt": fmt, "imgsz": imgsz, "half": half,
                                               "dynamic": dynamic, "simplify": simplify, "opset": opset,
                                               "device": device, "verify": verify,
                                               "images": [str(i) for i in images]})
            out = exporter.export(weights, fmt, imgsz, *options)
            check = exporter.verify_onnx(out, weights, images, imgsz) if verify else None
            return {"file": str(out), "verification": check.text() if check else None,
                    "ok": check.ok if check else True}

        self.job = JobThread(work, "export", self)
        self.job.finished_with.connect(self._on_job_finished)
        self.job.failed.connect(self._on_job_failed)
        self.export_button.setEnabled(False)
        self.progress.show()
        self.result.setText(f"Exporting to {fmt}…")
        self.job.start()
        return self.job

    def _on_job_finished(self, result: dict) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        colour = "#27ae60" if result["ok"] else "#c0392b"
        lines = [f"<b style='color:{colour}'>Wrote</b> {result['file']}"]
        if result["verification"]:
            lines.append(result["verification"])
        self.result.setText("<br>".join(lines))
        self.exported.emit(result)

    def _on_job_failed(self, message: str) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.result.setText(f"<b style='color:#c0392b'>Export failed:</b> {message}")

    def done(self, code: int) -> None:  # closing waits for a running export (it cannot be interrupted)
        self._wait_for_export()
        super().done(code)

    def closeEvent(self, event) -> None:  # also when closed hidden (QDialog rejects only a visible one)
        self._wait_for_export()
        super().closeEvent(event)

    def _wait_for_export(self) -> None:
        """Destroying a QThread that still runs aborts the whole process: wait for it first."""
        if self.job is not None and self.job.isRunning():
            self.result.setText("Waiting for the export to finish…")
            self.job.wait()
