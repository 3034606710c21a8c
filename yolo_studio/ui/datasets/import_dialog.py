"""The import preview: what an annotation export holds, before anything is written.

The user sees the format and task found, images found and missing, each class with its objects (rename a
class; give two classes one name to merge them; untick one to drop it), what is skipped and why, and the
split (the export's own, or by ratio with a seed). Import writes the dataset off the UI thread, with a progress
bar and Cancel (a cancelled import leaves nothing).
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.core.data.exports.plan import ImportPlan
from yolo_studio.core.project import dataset_import
from yolo_studio.core.project.projects import safe_name
from yolo_studio.ui.layout import column
from yolo_studio.workers.job import JobThread

SPLITS = ("train", "val", "test")


class ImportPreviewDialog(QtWidgets.QDialog):
    imported = QtCore.Signal(object)  # ImportResult

    def __init__(self, plan: ImportPlan, project, source: Path, parent=None):
        super().__init__(parent)
        self.plan, self.project, self.source = plan, project, Path(source)
        self.job: JobThread | None = None
        self.result = None
        self.setWindowTitle(f"Import {self.source.name}")
        self.resize(760, 640)
        self._build()
        self._fill_classes()
        self._update()

    # ------------------------------------------------------------------ widgets

    def _build(self) -> None:
        export = self.plan.export
        self.heading = QtWidgets.QLabel(wordWrap=True)
        self.heading.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.task = QtWidgets.QComboBox()
        self.task.addItems(["detect", "segment"] if export.task in ("detect", "segment") and
                           export.format not in ("darknet", "yolo_folder") else [export.task])
        self.task.setCurrentText(export.task)
        self.task.currentTextChanged.connect(self._on_task_current_text_changed)
        self.annotator = QtWidgets.QComboBox()
        self.annotator.addItem("latest of each task", "")
        for who in export.choices.get("annotator", []):
            self.annotator.addItem(f"annotator {who}" if str(who).isdigit() else str(who), str(who))
        self.annotator.setVisible(bool(export.choices.get("annotator")))
        self.annotator.currentIndexChanged.connect(self._on_annotator_current_index_changed)
        base = self.source.stem if self.source.suffix.lower() == ".zip" else dataset_import.default_name(self.plan)
        self.name = QtWidgets.QLineEdit(dataset_import.free_folder(self.project, safe_name(base)).name)
        form = QtWidgets.QFormLayout()
        form.addRow("Dataset name", self.name)
        form.addRow("Task", self.task)
        if export.choices.get("annotator"):
            form.addRow("Annotations of", self.annotator)

        self.classes = QtWidgets.QTableWidget(0, 5)
        self.classes.setHorizontalHeaderLabels(["keep", "name (edit to rename; one name for two = merged)",
                                                "images" if export.task == "classify" else "objects", "id",
                                                "in the export"])
        self.classes.verticalHeader().hide()
        self.classes.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.Stretch)
        for col, width in ((0, 44), (2, 70), (3, 40), (4, 160)):
            self.classes.setColumnWidth(col, width)
        self.classes.itemChanged.connect(self._on_classes_item_changed)
        self.skipped = QtWidgets.QTreeWidget()
        self.skipped.setHeaderLabels(["skipped", "count", "for example"])
        self.skipped.setRootIsDecorated(False)
        self.skipped.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeToContents)
        self.skipped.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeToContents)
        self.skipped.setMaximumHeight(130)

        self.own_split = QtWidgets.QCheckBox("Use the export's own split")
        self.own_split.setVisible(bool(export.splits))
        self.own_split.setChecked(bool(export.splits))
        self.own_split.toggled.connect(self._update)
        self.ratios = {}
        split_row = QtWidgets.QHBoxLayout()
        for split in SPLITS:
            box = QtWidgets.QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
            box.setValue(self.plan.ratios.get(split, 0.0))
            box.valueChanged.connect(self._update)
            self.ratios[split] = box
            split_row.addWidget(QtWidgets.QLabel(split))
            split_row.addWidget(box)
        self.seed = QtWidgets.QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.valueChanged.connect(self._update)
        split_row.addWidget(QtWidgets.QLabel("seed"))
        split_row.addWidget(self.seed)
        split_row.addStretch(1)
        self.split_counts = QtWidgets.QLabel(wordWrap=True)
        split_box = QtWidgets.QGroupBox("Split (images of one source stay in one split; rare classes reach val)")
        column(self.own_split, split_row, self.split_counts, on=split_box)

        self.why_not = QtWidgets.QLabel(wordWrap=True)  # why Import is disabled, when it is
        self.why_not.setStyleSheet("color: #c0392b")
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        self.buttons = QtWidgets.QDialogButtonBox()
        self.import_button = self.buttons.addButton("Import", QtWidgets.QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QtWidgets.QDialogButtonBox.Cancel)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        column(self.heading, form, QtWidgets.QLabel("<b>Classes</b> (ids in this order)"), (self.classes, 1),
               self.skipped, split_box, self.why_not, self.progress, self.buttons, on=self, margin=10)

    def _fill_classes(self) -> None:
        counts = {}
        for item in self.plan.present():
            for o in item.objects:
                counts[o.label] = counts.get(o.label, 0) + 1
        self.classes.blockSignals(True)
        self.classes.setRowCount(0)
        for old in self.plan.export.classes:
            row = self.classes.rowCount()
            self.classes.insertRow(row)
            keep = QtWidgets.QTableWidgetItem()
            keep.setFlags(QtCore.Qt.ItemIsUserCheckable | QtCore.Qt.ItemIsEnabled)
            keep.setCheckState(QtCore.Qt.Unchecked if old in self.plan.drop else QtCore.Qt.Checked)
            name = QtWidgets.QTableWidgetItem(self.plan.new_name(old) or old)
            name.setData(QtCore.Qt.UserRole, old)
            name.setToolTip(f"in the export: {old}")
            objects = QtWidgets.QTableWidgetItem(str(counts.get(old, 0)))
            ident = QtWidgets.QTableWidgetItem("")
            origin = QtWidgets.QTableWidgetItem(old)
            for item in (objects, ident, origin):
                item.setFlags(QtCore.Qt.ItemIsEnabled)
            for col, item in enumerate((keep, name, objects, ident, origin)):
                self.classes.setItem(row, col, item)
        self.classes.blockSignals(False)

    # ------------------------------------------------------------------ choices

    def _on_classes_item_changed(self, _item) -> None:
        rename, drop = {}, set()
        for row in range(self.classes.rowCount()):
            name = self.classes.item(row, 1)
            old, new = name.data(QtCore.Qt.UserRole), name.text().strip()
            if not new:  # a class needs a name: an emptied cell takes back the export's
                self.classes.blockSignals(True)
                name.setText(old)
                self.classes.blockSignals(False)
            if self.classes.item(row, 0).checkState() != QtCore.Qt.Checked:
                drop.add(old)
            elif new and new != old:
                rename[old] = new
        self.plan.rename, self.plan.drop = rename, drop
        self._update()

    def _on_task_current_text_changed(self, task: str) -> None:
        self.plan.export.task = task
        self._update()

    def _on_annotator_current_index_changed(self, _index: int) -> None:
        annotator = self.annotator.currentData() or None
        if self.source.suffix.lower() == ".zip":
            return  # read again from the archive at import, with this choice
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            fresh = dataset_import.plan_import(self.source, self.task.currentText(), annotator)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot read the export", str(exc))
            return
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        fresh.rename, fresh.drop, fresh.ratios, fresh.seed = self.plan.rename, self.plan.drop, self.plan.ratios, \
            self.plan.seed
        self.plan = fresh
        self._fill_classes()
        self._update()

    def _update(self) -> None:
        plan = self.plan
        plan.resplit = not self.own_split.isChecked()
        plan.ratios = {s: self.ratios[s].value() for s in SPLITS}
        plan.seed = self.seed.value()
        for box in (*self.ratios.values(), self.seed):
            box.setEnabled(not plan.uses_export_split())
        preview = plan.preview()
        missing = preview["missing"]
        earlier = (f"<br><b>Imported before</b> as '{preview['earlier']}': importing it again makes a second "
                   "dataset under the name below.") if preview["earlier"] else ""
        self.heading.setText(
            f"<b>{preview['format_name']}</b> · {preview['task']} · {self.source}<br>"
            f"{preview['images']} images found"
            + (f", <span style='color:#c0392b'>{len(missing)} listed but absent</span> "
               f"(e.g. {', '.join(missing[:3])})" if missing else "")
            + (f" · {preview['without_objects']} without objects" if preview["task"] != "classify" else "")
            + earlier + "".join(f"<br><i>{n}</i>" for n in preview["notes"]))
        ids = {c["name"]: c["id"] for c in preview["classes"]}
        self.classes.blockSignals(True)
        for row in range(self.classes.rowCount()):
            old = self.classes.item(row, 1).data(QtCore.Qt.UserRole)
            new = plan.new_name(old)
            self.classes.item(row, 3).setText("" if new is None else str(ids.get(new, "")))
        self.classes.blockSignals(False)
        self.skipped.clear()
        for reason, s in preview["skipped"].items():
            item = QtWidgets.QTreeWidgetItem([s["why"], str(s["count"]), "; ".join(s["examples"][:2])])
            item.setToolTip(2, "\n".join(s["examples"]))
            self.skipped.addTopLevelItem(item)
        self.skipped.setVisible(bool(preview["skipped"]))
        counts = ", ".join(f"{k} {v}" for k, v in preview["split"]["counts"].items())
        problem = plan.ratio_problem()
        total = sum(plan.ratios.values())
        scaled = "" if plan.uses_export_split() or abs(total - 1) < 1e-6 or problem else \
            " (the ratios are shares: " + ", ".join(f"{k} {v / total:.0%}" for k, v in plan.ratios.items() if v) + ")"
        self.split_counts.setText(f"<span style='color:#c0392b'>{problem}</span>" if problem
                                  else f"images per split: {counts}{scaled}")
        why_not = "no image of the export is on disk" if not preview["images"] else \
            "every class is unticked: tick at least one" if not preview["classes"] else \
            "see the split above" if problem else ""
        self.why_not.setText(why_not)
        self.why_not.setVisible(bool(why_not))
        self.import_button.setEnabled(self.job is None and not why_not)

    # ------------------------------------------------------------------ import

    def start_import(self) -> JobThread:
        name = self.name.text().strip() or None
        plan, project = self.plan, self.project
        if self.source.suffix.lower() == ".zip":
            options = {"rename": plan.rename, "drop": plan.drop, "keep": set(plan.export.untrained) - plan.drop,
                       "ratios": plan.ratios, "seed": plan.seed, "resplit": plan.resplit, "task": plan.export.task,
                       "annotator": self.annotator.currentData() or None}
            work = lambda job: dataset_import.import_dataset(  # noqa: E731
                self.source, project, name, progress=job.report_progress, cancelled=job.is_cancelled, **options)
        else:
            work = lambda job: dataset_import.import_export(plan, project, name, job.report_progress,  # noqa: E731
                                                            job.is_cancelled)
        self.job = JobThread(work, "import", self)
        self.job.progress.connect(self._on_job_progress)
        self.job.finished_with.connect(self._on_job_finished)
        self.job.failed.connect(self._on_job_failed)
        self._set_choices_enabled(False)  # the worker reads the plan: nothing in it changes until it is done
        self.progress.setRange(0, 0)
        self.progress.show()
        self.job.start()
        return self.job

    def _set_choices_enabled(self, enabled: bool) -> None:
        for widget in (self.name, self.task, self.annotator, self.classes, self.own_split, *self.ratios.values(),
                       self.seed, self.import_button):
            widget.setEnabled(enabled)
        if enabled:
            self._update()

    def _on_job_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_job_finished(self, result) -> None:
        self.job, self.result = None, result
        self.imported.emit(result)
        self.accept()

    def _on_job_failed(self, message: str) -> None:
        cancelled = self.job is not None and self.job.is_cancelled()
        self.job = None
        self.progress.hide()
        if cancelled:
            self.reject()
            return
        QtWidgets.QMessageBox.warning(self, "Cannot import", message)
        self._set_choices_enabled(True)

    def _on_cancel_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()  # the writer stops at its next check and removes what it wrote
        else:
            self.reject()

    def done(self, code: int) -> None:  # QDialog.done: a running import is cancelled, never left behind
        if self.job is not None:
            self.job.stop()
        super().done(code)

