"""The Inference tab: drop images, folders or videos; pick a model; see what it finds and how fast."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.deploy.export import on_cuda
from yolo_studio.deploy.gpu_worker import PREDICT, run_in_child
from yolo_studio.deploy.predict import IMAGE_SUFFIXES, VIDEO_SUFFIXES, predict, timing_summary
from yolo_studio.hydra.model import detect_sources, network_stages
from yolo_studio.hydra.store import HydraStore, list_hydras, training_imgsz
from yolo_studio.training import registry
from yolo_studio.training.run_store import list_runs, run_imgsz
from yolo_studio.ui.datasets.samples import ImageView
from yolo_studio.ui.devices import device_box
from yolo_studio.ui.layout import column, splitter, severity_icon
from yolo_studio.workers.job import JobThread


HYDRA = "hydra:"  # the model combo's data for a hydra model: ("hydra:<name>", imgsz)
HYDRA_DETECT = "yolo_studio.hydra.model:detect_task"  # a hydra's heads in the GPU worker process


class InferenceTab(QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    finished = QtCore.Signal(list)  # ImageResults

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.sources: list = []
        self.results: list = []
        self.job = None
        self.output = Path(tempfile.mkdtemp(prefix="yolo-studio-predict-"))  # annotated images, shown then saved
        self.setAcceptDrops(True)
        self._build_widgets()
        self.refresh_models()

    def _build_widgets(self) -> None:
        self.model = QtWidgets.QComboBox()
        self.model.setMinimumWidth(320)
        browse = QtWidgets.QToolButton(text="…", clicked=self._browse_model, toolTip="Any .pt file")
        self.conf = QtWidgets.QDoubleSpinBox(minimum=0.001, maximum=1.0, singleStep=0.05, value=0.25, decimals=3)
        self.iou = QtWidgets.QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=0.7)
        self.imgsz = QtWidgets.QSpinBox(minimum=32, maximum=4096, singleStep=32, value=640)
        self.device = device_box(self)
        self.model.currentIndexChanged.connect(self._on_model_current_index_changed)
        controls = QtWidgets.QHBoxLayout()
        for label, widget in (("Model", self.model), (None, browse), ("conf", self.conf), ("iou", self.iou),
                              ("imgsz", self.imgsz), ("on", self.device)):
            if label:
                controls.addWidget(QtWidgets.QLabel(label))
            controls.addWidget(widget, 1 if widget is self.model else 0)
        self.drop_label = QtWidgets.QLabel("Drop images, folders or videos here, or pick them:")
        pick_files = QtWidgets.QPushButton("Images or videos…", clicked=self._pick_files)
        pick_folder = QtWidgets.QPushButton("Folder…", clicked=self._pick_folder)
        self.run_button = QtWidgets.QPushButton("▶ Run", clicked=self.run)
        self.cancel_button = QtWidgets.QPushButton("Cancel", clicked=self.cancel)
        self.cancel_button.hide()
        self.save_button = QtWidgets.QPushButton("Save annotated…", clicked=self.save_dialog, enabled=False)
        sources = QtWidgets.QHBoxLayout()
        sources.addWidget(self.drop_label, 1)
        for b in (pick_files, pick_folder, self.run_button, self.cancel_button, self.save_button):
            sources.addWidget(b)
        self.list = QtWidgets.QTreeWidget()
        self.list.setHeaderLabels(["source", "objects", "pre ms", "infer ms", "post ms"])
        self.list.setRootIsDecorated(False)
        for index, width in enumerate((170, 60, 60, 64)):
            self.list.setColumnWidth(index, width)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.view = ImageView()
        self.found = QtWidgets.QLabel(wordWrap=True)
        split = splitter(self.list, column((self.view, 1), self.found), sizes=[460, 900])
        self.summary = QtWidgets.QLabel()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addLayout(sources)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)

    # ------------------------------------------------------------------ models

    def refresh_models(self, select: str | None = None) -> None:
        """Registry entries first (latest first), then the runs' best.pt files."""
        current = select or self.model.currentData()
        following = self.model.currentText().split(" = ")[0] if "@production = " in self.model.currentText() else None
        self.model.blockSignals(True)
        self.model.clear()
        entries = list(reversed(registry.list_entries(self.project.registry_dir)))
        for entry in entries:  # the versions in use first: a bare name means its production version
            if registry.PRODUCTION in registry.held_by(entry):
                self.model.addItem(f"{entry.name}@production = {entry.ref} (registry, "
                                   f"{entry.metrics.get('mAP50-95', 0):.3f} mAP50-95)", (str(entry.weights), entry.imgsz))
        for entry in entries:
            self.model.addItem(f"{entry.ref} (registry, {entry.metrics.get('mAP50-95', 0):.3f} mAP50-95)",
                               (str(entry.weights), entry.imgsz))
        for run in list_runs(self.project.runs_dir):
            best = run.path / "weights" / "best.pt"
            if best.is_file():
                self.model.addItem(f"{run.name}/best.pt (run)", (str(best), run_imgsz(run.path)))
        for store in list_hydras(self.project.root / "hydra"):
            heads = len(store.active())
            self.model.addItem(f"{store.name} (hydra, {heads} active head{'s' if heads != 1 else ''})",
                               (f"{HYDRA}{store.name}", training_imgsz(store)))
        if following and not select:  # "name@production" follows the alias to the version it names now
            index = next((i for i in range(self.model.count()) if self.model.itemText(i).startswith(following + " = ")),
                         -1)
            current = self.model.itemData(index) if index >= 0 else current
        if current:
            self.select_model(current[0] if isinstance(current, tuple) else current)
        self.model.blockSignals(False)
        self._on_model_current_index_changed()

    def select_model(self, weights: str | Path, imgsz: int | None = None) -> None:
        weights = str(Path(weights))
        for i in range(self.model.count()):
            if self.model.itemData(i)[0] == weights:
                self.model.setCurrentIndex(i)
                return
        self.model.addItem(f"{Path(weights).name} ({Path(weights).parent})", (weights, imgsz or 640))
        self.model.setCurrentIndex(self.model.count() - 1)

    def _on_model_current_index_changed(self, *_args) -> None:
        data = self.model.currentData()
        if data:
            self.imgsz.setValue(int(data[1] or 640))
        self.run_button.setEnabled(bool(data))

    def _browse_model(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Model weights", str(self.project.root),
                                                        "PyTorch weights (*.pt)")
        if path:
            self.select_model(path)

    # ------------------------------------------------------------------ sources

    def set_sources(self, paths) -> None:
        self.sources = [Path(p) for p in paths]
        names = ", ".join(p.name for p in self.sources[:4]) + (" …" if len(self.sources) > 4 else "")
        self.drop_label.setText(f"{len(self.sources)} source(s): {names}")

    def _pick_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Images or videos", "", f"Media ({patterns})")
        if paths:
            self.set_sources(paths)

    def _pick_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of images or videos")
        if folder:
            self.set_sources([folder])

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile()]
        if paths:
            self.set_sources(paths)
            self.run()

    # ------------------------------------------------------------------ running

    def run(self):
        data = self.model.currentData()
        if not data or not self.sources:
            self.status_message.emit("Choose a model and drop or pick images first")
            return None
        self.cancel()
        weights, sources = data[0], list(self.sources)
        conf, iou, imgsz, device = self.conf.value(), self.iou.value(), self.imgsz.value(), self.device.currentData()
        shutil.rmtree(self.output, ignore_errors=True)
        output = self.output

        def work(job):
            hydra = self.project.root / "hydra" / weights[len(HYDRA):] if weights.startswith(HYDRA) else None
            if on_cuda(device):  # in a worker process: no CUDA context or native crash in the studio's
                task, kwargs = (HYDRA_DETECT, {"store": str(hydra), "sources": [str(s) for s in sources]}) if hydra \
                    else (PREDICT, {"model": str(weights), "sources": [str(s) for s in sources],
                                    "save_dir": str(output)})
                return run_in_child(task, {**kwargs, "conf": conf, "iou": iou, "imgsz": imgsz, "device": device},
                                    job.report_item, job.is_cancelled)
            if hydra is not None:  # one backbone pass, every active head
                return detect_sources(HydraStore(hydra), sources, imgsz, conf, iou, device, job.report_item,
                                      job.is_cancelled)
            return predict(weights, sources, conf, iou, imgsz, device, output, on_result=job.report_item,
                           cancelled=job.is_cancelled)

        self.list.blockSignals(True)  # clearing moves the current row through the old items
        self.list.clear()
        self.list.blockSignals(False)
        self.results = []
        self.job = JobThread(work, "predict", self)
        self.job.item.connect(self._on_job_item)
        self.job.finished_with.connect(self._on_job_finished)
        self.job.failed.connect(self._on_job_failed)
        self.run_button.setEnabled(False)
        self.cancel_button.show()
        self.summary.setText(f"Running {Path(weights).name} on {len(sources)} source(s)…")
        self.job.start()
        return self.job

    def cancel(self) -> None:
        if self.job is not None and self.job.isRunning():
            self.job.stop()

    def _on_job_item(self, result) -> None:
        self.results.append(result)
        t = result.timing
        name = Path(result.source).name + (f" #{result.frame}" if result.frame is not None else "")
        if result.error:  # listed with its reason, never skipped
            item = QtWidgets.QTreeWidgetItem([name, "-", "", "", ""])
            item.setIcon(0, severity_icon(self, "warning"))
            item.setToolTip(0, f"{result.source}: {result.error}")
        else:
            network = network_stages(t)
            item = QtWidgets.QTreeWidgetItem([name, str(len(result.objects)), f"{t.get('preprocess', 0):.1f}",
                                              f"{t.get('inference', sum(network.values())):.1f}",
                                              f"{t.get('postprocess', 0):.1f}"])
            if "inference" not in network:  # a hydra model: the backbone, the shared layers and each head
                item.setToolTip(3, "\n".join(f"{stage}: {ms:.1f} ms" for stage, ms in network.items()))
        item.setData(0, QtCore.Qt.UserRole, len(self.results) - 1)
        self.list.addTopLevelItem(item)
        if self.list.topLevelItemCount() == 1:
            self.list.setCurrentItem(item)

    def _on_job_finished(self, results: list) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.hide()
        self.save_button.setEnabled(bool(results))
        failed = [r for r in results if r.error]
        read = [r for r in results if not r.error]
        mean = timing_summary(read)
        objects = sum(len(r.objects) for r in read)
        cancelled = " (cancelled)" if self.job is not None and self.job.is_cancelled() else ""
        not_read = f" · {len(failed)} file{'s' if len(failed) != 1 else ''} not read (listed with the reason)" \
            if failed else ""
        self.summary.setText(f"{len(read)} images{cancelled}, {objects} objects · mean per image: "
                             + " · ".join(f"{k} {v:.1f} ms" for k, v in mean.items()) + not_read)
        self.finished.emit(results)

    def _on_job_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.hide()
        self.summary.setText(f"<b style='color:#c0392b'>Inference failed:</b> {message}")
        self.status_message.emit(f"Inference failed: {message}")

    def _on_list_current_item_changed(self, item, _previous) -> None:
        index = item.data(0, QtCore.Qt.UserRole) if item is not None else None
        if index is None or not 0 <= index < len(self.results):
            return
        result = self.results[index]
        if result.error:  # nothing to show: say why, instead of keeping the previous picture
            self.view.clear_image()
            self.found.setText(f"{result.source}: {result.error}")
            return
        frame = result.frame is not None
        if frame or not self.view.show_image(result.source):
            self.view.show_image(result.saved)  # a video frame: the annotated frame
        else:
            self.view.draw_predictions(result.objects)
        found = ", ".join(f"{o['name']} {o['conf']:.2f}" for o in result.objects[:20]) or "nothing found"
        self.found.setText(f"{result.source} · {result.width}x{result.height} · {found}")

    def save_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Save the annotated images into")
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str | Path) -> int:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        saved = 0
        for result in self.results:
            if result.saved and Path(result.saved).is_file():
                shutil.copy2(result.saved, folder / Path(result.saved).name)
                saved += 1
        self.status_message.emit(f"Saved {saved} annotated images to {folder}")
        return saved

    def shutdown(self) -> None:
        self.cancel()
        shutil.rmtree(self.output, ignore_errors=True)

