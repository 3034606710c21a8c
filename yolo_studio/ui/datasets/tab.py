"""The Datasets tab: the project's datasets, import, the validation report, statistics and samples."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from yolo_studio.core.project import dataset_import
from yolo_studio.core.data.dataset_validate import index_dataset, validate
from yolo_studio.ui import plot_style
from yolo_studio.ui.datasets.import_dialog import ImportPreviewDialog
from yolo_studio.ui.datasets.samples import SampleBrowserWidget
from yolo_studio.ui.layout import column, splitter, severity_icon
from yolo_studio.workers.job import JobThread


def _read_pick(source: Path, project):
    """What the user picked: None for a YOLO dataset (imported as it is), an ImportResult for a ZIP already
    extracted in the project, else the plan of an annotation export (to preview)."""
    if source.suffix.lower() == ".zip":
        already = dataset_import.extracted_before(source, project)
        if already is not None:
            return already
        with tempfile.TemporaryDirectory() as scratch:
            root = dataset_import.unpack_for_preview(source, Path(scratch))
            return None if dataset_import.is_yolo_dataset(root) else \
                dataset_import.plan_import(root, project=project)
    if not source.exists():
        raise ValueError(f"{source} does not exist")
    return None if dataset_import.is_yolo_dataset(source) else dataset_import.plan_import(source, project=project)


class DatasetsTab(QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    validated = QtCore.Signal(object)  # ValidationReport
    use_for_training = QtCore.Signal(str)  # data path
    imported = QtCore.Signal(object)  # ImportResult: a dataset was added (or found already imported)

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.job: JobThread | None = None
        self.report = None
        self._build_widgets()
        self.refresh()

    # ------------------------------------------------------------------ widgets

    def _build_widgets(self) -> None:
        self.datasets = QtWidgets.QListWidget()
        self.datasets.currentItemChanged.connect(self._on_datasets_current_item_changed)
        import_menu = QtWidgets.QMenu(self)
        import_menu.addAction("Folder (dataset or export)…", self.import_folder_dialog)
        import_menu.addAction("Annotation file (COCO, VOC, CVAT, LabelMe, Label Studio, obj.data)…",
                              self.import_file_dialog)
        import_menu.addAction("Data YAML…", self.import_yaml_dialog)
        import_menu.addAction("ZIP…", self.import_zip_dialog)
        import_button = QtWidgets.QPushButton("Import ▾")
        import_button.setMenu(import_menu)
        self.remove_button = QtWidgets.QPushButton("Remove…", clicked=self.remove_dialog)
        self.train_button = QtWidgets.QPushButton("Train on it", clicked=self._on_train_clicked)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QtWidgets.QLabel("<b>Datasets</b> of this project"))
        left_layout.addWidget(self.datasets, 1)
        buttons = QtWidgets.QHBoxLayout()
        for b in (import_button, self.remove_button, self.train_button):
            buttons.addWidget(b)
        left_layout.addLayout(buttons)

        self.summary = QtWidgets.QLabel("Select a dataset", wordWrap=True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        self.validate_button = QtWidgets.QPushButton("Validate", clicked=self.start_validation)
        self.cancel_button = QtWidgets.QPushButton("Cancel", clicked=self.cancel_validation)
        self.cancel_button.hide()
        self.splits = QtWidgets.QTableWidget(0, 5)
        self.splits.setHorizontalHeaderLabels(["split", "images", "label files", "objects", "without labels"])
        self.splits.verticalHeader().hide()
        self.splits.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.splits.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Stretch)
        self.splits.setMaximumHeight(130)
        self.findings = QtWidgets.QTreeWidget()
        self.findings.setHeaderLabels(["", "problem", "where", "what to know"])
        self.findings.setRootIsDecorated(False)
        self.findings.setAlternatingRowColors(True)
        self.findings.itemDoubleClicked.connect(self._on_findings_item_double_clicked)
        for index, width in ((0, 28), (1, 130), (2, 340)):
            self.findings.setColumnWidth(index, width)
        report = QtWidgets.QWidget()
        report_layout = QtWidgets.QVBoxLayout(report)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.validate_button)
        bar.addWidget(self.cancel_button)
        report_layout.addLayout(bar)
        report_layout.addWidget(self.splits)
        report_layout.addWidget(self.findings, 1)

        plot_style.apply()
        self.plots = pg.GraphicsLayoutWidget()
        self.histogram = self.plots.addPlot(row=0, col=0, title="objects per class")
        self.histogram.showGrid(y=True, alpha=0.2)
        self.box_plot = self.plots.addPlot(row=0, col=1, title="box sizes (fraction of the image)")
        self.box_plot.setLabel("bottom", "width")
        self.box_plot.setLabel("left", "height")
        self.box_plot.showGrid(x=True, y=True, alpha=0.2)
        self.box_scatter = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(47, 128, 237, 90))
        self.box_plot.addItem(self.box_scatter)

        self.samples = SampleBrowserWidget()
        self.pages = QtWidgets.QTabWidget()
        self.pages.addTab(report, "Report")
        self.pages.addTab(self.plots, "Statistics")
        self.pages.addTab(self.samples, "Samples")
        self.pages.currentChanged.connect(self._on_pages_current_changed)
        column(splitter(left, self.pages, sizes=[280, 1100]), on=self, margin=2)

    # ------------------------------------------------------------------ the list

    def refresh(self, select: str | None = None) -> None:
        current = select or (self.datasets.currentItem().text() if self.datasets.currentItem() else None)
        self.datasets.clear()
        for entry in dataset_import.list_datasets(self.project):
            item = QtWidgets.QListWidgetItem(entry.name)
            item.setData(QtCore.Qt.UserRole, entry)
            item.setToolTip(str(entry.data))
            self.datasets.addItem(item)
            if entry.name == current:
                self.datasets.setCurrentItem(item)
        if self.datasets.currentItem() is None and self.datasets.count():
            self.datasets.setCurrentRow(0)
        has = self.datasets.currentItem() is not None
        for button in (self.remove_button, self.train_button, self.validate_button):
            button.setEnabled(has)

    def current(self):
        item = self.datasets.currentItem()
        return item.data(QtCore.Qt.UserRole) if item else None

    def _on_datasets_current_item_changed(self, item, _previous) -> None:
        if item is None:
            return
        self.samples_loaded = False
        self.start_validation()
        if self.pages.currentIndex() == 2:
            self._load_samples()

    def _on_pages_current_changed(self, index: int) -> None:
        if index == 2 and not getattr(self, "samples_loaded", False):
            self._load_samples()

    def _load_samples(self) -> None:
        entry = self.current()
        if entry is not None:
            self.samples.set_index(index_dataset(entry.data, entry.task or None))
            self.samples_loaded = True

    def _on_train_clicked(self) -> None:
        if self.current() is not None:
            self.use_for_training.emit(str(self.current().data))

    # ------------------------------------------------------------------ import and remove

    def import_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Import a dataset folder", QtCore.QDir.homePath())
        if folder:
            self.import_source(folder)

    def import_yaml_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import a data YAML", QtCore.QDir.homePath(), "YAML (*.yaml *.yml)")
        if path:
            self.import_source(path)

    def import_zip_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import a release ZIP", QtCore.QDir.homePath(), "ZIP (*.zip)")
        if path:
            self.import_source(path)

    def import_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import an annotation export", QtCore.QDir.homePath(), "Annotations (*.json *.xml *.data *.txt);;All files (*)")
        if path:
            self.import_source(path)

    def import_source(self, source: str | Path):
        """Read what the user picked in a worker: a YOLO dataset is imported at once, an annotation export
        opens the preview (``self.preview``) first. The result is selected and validated."""
        self.status_message.emit(f"Reading {source}…")
        job = JobThread(lambda _job: _read_pick(Path(source), self.project), "import", self)
        job.finished_with.connect(lambda found: self._on_pick_read(Path(source), found))
        job.failed.connect(lambda message: self._show_error("Cannot import the dataset", message))
        job.start()
        self.import_job = job
        return job

    def _on_pick_read(self, source: Path, plan) -> None:
        if isinstance(plan, dataset_import.ImportResult):  # a ZIP extracted before: selected, not again
            self._on_import_finished(plan)
            return
        if plan is None:  # a YOLO dataset: registered (a ZIP extracted) as it is
            job = JobThread(lambda _job: dataset_import.import_dataset(source, self.project), "import", self)
            job.finished_with.connect(self._on_import_finished)
            job.failed.connect(lambda message: self._show_error("Cannot import the dataset", message))
            job.start()
            self.import_job = job
            return
        self.status_message.emit(f"{source.name}: {plan.export.format} export, check the preview")
        self.preview = ImportPreviewDialog(plan, self.project, source, self)
        self.preview.imported.connect(self._on_import_finished)
        self.preview.rejected.connect(lambda: self.status_message.emit(f"Import of {source.name} cancelled: "
                                                                       "nothing was written"))
        self.preview.open()

    def _on_import_finished(self, result) -> None:
        self.status_message.emit(result.message)
        self.refresh(select=result.entry.name)
        self.imported.emit(result)

    def remove_dialog(self) -> None:
        entry = self.current()
        if entry is None:
            return
        folder = dataset_import.extraction_folder(entry, self.project)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, "Remove dataset",
                                    f"Remove '{entry.name}' from the project?", parent=self)
        forget = box.addButton("Remove from the list", QtWidgets.QMessageBox.AcceptRole)
        delete = box.addButton("Also delete its files", QtWidgets.QMessageBox.DestructiveRole) if folder else None
        if folder:
            box.setInformativeText(f"Its files are in the project: {folder}. Deleting them cannot be undone.")
        else:
            box.setInformativeText(f"Its files stay where they are ({entry.folder}).")
        box.addButton(QtWidgets.QMessageBox.Cancel)
        box.exec()
        if box.clickedButton() in (forget, delete) and box.clickedButton() is not None:
            self.remove(entry.name, delete_files=box.clickedButton() is delete)

    def remove(self, name: str, delete_files: bool = False) -> None:
        try:
            dataset_import.remove_dataset(self.project, name, delete_files)
        except (ValueError, OSError) as exc:
            self._show_error("Cannot remove the dataset", str(exc))
            return
        self.status_message.emit(f"Removed '{name}'" + (" and its files" if delete_files else ""))
        self.refresh()

    def _show_error(self, title: str, message: str) -> None:
        self.status_message.emit(f"{title}: {message}")
        QtWidgets.QMessageBox.warning(self, title, message)

    # ------------------------------------------------------------------ validation

    def start_validation(self):
        entry = self.current()
        if entry is None:
            return None
        self.cancel_validation()
        task = entry.task or None
        job = JobThread(lambda j: validate(entry.data, task, j.report_progress, j.is_cancelled), "validate", self)
        job.progress.connect(self._on_job_progress)
        job.finished_with.connect(self._show_report)
        job.failed.connect(lambda message: self.summary.setText(f"<b>Validation failed:</b> {message}"))
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.validate_button.setEnabled(False)
        self.summary.setText(f"Validating {entry.name}… (files are read, never changed)")
        job.start()
        return job

    def cancel_validation(self) -> None:
        if self.job is not None and self.job.isRunning():
            self.job.stop()

    def _on_job_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _show_report(self, report) -> None:
        if self.sender() is not self.job:
            return  # a replaced job's late result
        self.report = report
        self.progress.hide()
        self.cancel_button.hide()
        self.validate_button.setEnabled(True)
        colour = "#27ae60" if report.clean else "#c0392b" if report.errors else "#b7950b"
        self.summary.setText(f"<b>{Path(report.source).name}</b> · {report.task} · {len(report.names)} classes · "
                             f"<span style='color:{colour}'>{report.summary()}</span>")
        self.splits.setRowCount(0)
        for split, c in report.splits.items():
            row = self.splits.rowCount()
            self.splits.insertRow(row)
            for col, value in enumerate((split, c["images"], c["labels"], c["instances"], c["backgrounds"])):
                self.splits.setItem(row, col, QtWidgets.QTableWidgetItem(str(value)))
        self.findings.clear()
        for f in report.findings:
            where = f"{f.file}:{f.line}" if f.line else f.file
            item = QtWidgets.QTreeWidgetItem([f.severity, f.kind.replace("_", " "), where, f.message])
            item.setIcon(0, severity_icon(self, f.severity))
            item.setToolTip(2, where)
            item.setToolTip(3, f.message)
            item.setData(0, QtCore.Qt.UserRole, f.file)
            item.setData(1, QtCore.Qt.UserRole, f.split)
            self.findings.addTopLevelItem(item)
        self._draw_statistics(report)
        self.validated.emit(report)

    def _draw_statistics(self, report) -> None:
        self.histogram.clear()
        totals = [0] * len(report.names)
        for counts in report.class_counts.values():
            for i, n in enumerate(counts):
                totals[i] += n
        if totals:
            self.histogram.addItem(pg.BarGraphItem(x=list(range(len(totals))), height=totals, width=0.7,
                                                   brush="#2f80ed"))
            self.histogram.getAxis("bottom").setTicks([list(enumerate(report.names))])
        sizes = report.box_sizes[:: max(1, len(report.box_sizes) // 5000)]  # 5,000 points draw instantly
        self.box_scatter.setData([w for w, _ in sizes], [h for _, h in sizes])

    def _on_findings_item_double_clicked(self, item, _column) -> None:
        """Open the image of a finding in the sample browser (when it names an image or its label)."""
        file = Path(item.data(0, QtCore.Qt.UserRole) or "")
        self.pages.setCurrentIndex(2)
        split = item.data(1, QtCore.Qt.UserRole)
        if split and self.samples.split.findText(split) >= 0:
            self.samples.class_filter.setCurrentIndex(0)
            self.samples.split.setCurrentText(split)
        for row in range(self.samples.list.count()):
            candidate = Path(self.samples.list.item(row).data(QtCore.Qt.UserRole))
            if candidate.stem == file.stem:
                self.samples.list.setCurrentRow(row)
                return

    def shutdown(self) -> None:
        self.cancel_validation()
