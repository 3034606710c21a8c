"""The Evaluate page of the Runs tab: what a model gets wrong, image by image (docs/EVALUATION.md).

An evaluation (``yolo-studio val``, or Evaluate here) keeps every prediction, so the page redoes the matching
at the thresholds the sliders set without the model: the per-class table, the confusion matrix (a click on a
cell lists exactly those errors), the images ranked by how wrong they are, and the suspected label errors.
Each error is drawn on its image: ground truth dashed, predictions solid, confidence and IoU written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.evaluation import matching
from yolo_studio.core.evaluation.store import Evaluation, is_evaluation, write_suspects
from yolo_studio.ui.datasets.samples import ImageView, class_colour
from yolo_studio.ui.layout import splitter
from yolo_studio.ui.runs.label_fixing import LabelFixing

CLASS_COLUMNS = ("class", "images", "instances", "P", "R", "F1", "best conf", "mAP50", "mAP50-95")
TRUTH_PEN = QtCore.Qt.DashLine


class EvaluatePage(LabelFixing, QtWidgets.QWidget):
    status_message = QtCore.Signal(str)

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.run_path: Path | None = None
        self.evaluation: Evaluation | None = None
        self.matcher: matching.Matcher | None = None
        self.selection = ("ranked", None)  # what the error list shows: ("ranked", class) or ("cell", (row, col))
        self._worker = None
        self._build_widgets()

    def shutdown(self) -> None:
        """End the page's worker threads (an evaluation running, the referee)."""
        for worker in (self._worker, getattr(self, "_referee_worker", None)):
            if worker is not None:
                worker.stop()
        self._worker = self._referee_worker = None

    # ------------------------------------------------------------------ widgets

    def _build_widgets(self) -> None:
        self.chooser = QtWidgets.QComboBox(minimumContentsLength=24)
        self.chooser.currentIndexChanged.connect(self._on_chooser_current_index_changed)
        self.evaluate_button = QtWidgets.QPushButton("Evaluate", clicked=self.evaluate_run, enabled=False,
                                                     toolTip="Validate the run's best.pt on its dataset and keep "
                                                             "every prediction (yolo-studio val)")
        self.conf = self._slider(1, 99, 25)
        self.iou = self._slider(50, 95, 50)
        self.conf_label, self.iou_label = QtWidgets.QLabel(), QtWidgets.QLabel()
        self.compare_button = QtWidgets.QPushButton("Compare with…", clicked=lambda: self.compare_with(),
                                                    toolTip="Another evaluation of the same images (a run, a "
                                                            "registry or hydra version evaluated by yolo-studio val)")
        bar = QtWidgets.QHBoxLayout()
        for w in (QtWidgets.QLabel("Evaluation"), self.chooser, self.evaluate_button, self.compare_button,
                  QtWidgets.QLabel("confidence"),
                  self.conf, self.conf_label, QtWidgets.QLabel("IoU"), self.iou, self.iou_label):
            bar.addWidget(w)
        bar.addStretch(1)
        self.summary = QtWidgets.QLabel(wordWrap=True, textInteractionFlags=QtCore.Qt.TextSelectableByMouse)

        self.classes = QtWidgets.QTableWidget(0, len(CLASS_COLUMNS), sortingEnabled=True)
        self.classes.setHorizontalHeaderLabels(CLASS_COLUMNS)
        self.classes.verticalHeader().hide()
        self.classes.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.classes.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.classes.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.classes.itemSelectionChanged.connect(self._on_classes_item_selection_changed)
        self.sizes = QtWidgets.QLabel()
        self.matrix = QtWidgets.QTableWidget()
        self.matrix.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.matrix.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.matrix.cellClicked.connect(self.show_cell)
        self.matrix.setToolTip("Rows: predicted class; columns: true class; background: nothing there / missed. "
                               "Click a cell for its images.")
        tables = QtWidgets.QWidget()
        tables_layout = QtWidgets.QVBoxLayout(tables)
        tables_layout.setContentsMargins(0, 0, 0, 0)
        tables_layout.addWidget(self.classes, 3)
        tables_layout.addWidget(self.sizes)
        tables_layout.addWidget(QtWidgets.QLabel("Confusion matrix (rows predicted, columns true)"))
        tables_layout.addWidget(self.matrix, 2)

        self.errors_title = QtWidgets.QLabel()
        self.errors = QtWidgets.QListWidget(uniformItemSizes=True)  # thousands of rows: laid out without measuring
        self.errors.currentRowChanged.connect(self._on_errors_current_row_changed)
        self.all_images = QtWidgets.QPushButton("All errors", clicked=lambda: self.show_ranked(None))
        self.suspects = QtWidgets.QListWidget(uniformItemSizes=True)
        self.suspects.currentRowChanged.connect(self._on_suspects_current_row_changed)
        self.export_button = QtWidgets.QPushButton("Export suspects…", clicked=lambda: self.export_suspects())
        lists = QtWidgets.QTabWidget()
        errors_page = QtWidgets.QWidget()
        errors_layout = QtWidgets.QVBoxLayout(errors_page)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.errors_title, 1)
        row.addWidget(self.all_images)
        errors_layout.addLayout(row)
        errors_layout.addWidget(self.errors, 1)
        suspects_page = QtWidgets.QWidget()
        suspects_layout = QtWidgets.QVBoxLayout(suspects_page)
        suspects_layout.addWidget(self.suspects, 1)
        suspects_layout.addWidget(self.export_button)
        lists.addTab(errors_page, "Model errors")
        lists.addTab(suspects_page, "Suspected label errors")
        lists.currentChanged.connect(lambda index: index == 1 and self._suspects is None and self._show_suspects())
        self.lists = lists
        self._suspects = None
        self.view = ImageView()
        self.view.scene().selectionChanged.connect(self._update_edit_buttons)
        self.view.viewport().installEventFilter(self)  # a label dragged to a new place is written on release
        self.caption = QtWidgets.QLabel(wordWrap=True)
        self.delete_label = QtWidgets.QPushButton("Delete label (Del)", clicked=self.delete_selected_label)
        self.reclass_label = QtWidgets.QPushButton("Change class… (C)", clicked=lambda: self.reclass_selected_label())
        self.add_label = QtWidgets.QPushButton("Add the prediction as a label", clicked=self.add_focused_prediction)
        self.undo_label = QtWidgets.QPushButton("Undo label edit", clicked=self.undo_label_edit)
        for keys, slot in ((QtGui.QKeySequence.Delete, self.delete_selected_label),
                           ("C", lambda: self.reclass_selected_label()), (QtGui.QKeySequence.Undo, self.undo_label_edit)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self, context=QtCore.Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)  # only while this page has the focus: other tabs keep their keys
        edits = QtWidgets.QHBoxLayout()
        for b in (self.delete_label, self.reclass_label, self.add_label, self.undo_label):
            edits.addWidget(b)
        edits.addStretch(1)
        picture = QtWidgets.QWidget()
        picture_layout = QtWidgets.QVBoxLayout(picture)
        picture_layout.setContentsMargins(0, 0, 0, 0)
        picture_layout.addWidget(self.view, 1)
        picture_layout.addWidget(self.caption)
        picture_layout.addLayout(edits)
        self.shown, self.label_items, self.undo_stack, self._resizing = None, {}, [], None

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(splitter(tables, splitter(lists, picture, sizes=[260, 520]), sizes=[420, 780]), 1)
        self._show_thresholds()

    def _slider(self, low: int, high: int, value: int) -> QtWidgets.QSlider:
        slider = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=low, maximum=high, value=value)
        slider.setFixedWidth(140)
        slider.valueChanged.connect(lambda _v: self.refresh_figures())
        return slider

    # ------------------------------------------------------------------ which evaluation

    def set_run(self, run_path) -> None:
        """Offer the evaluations of a run (``None``: the project's own evaluations)."""
        self.run_path = Path(run_path) if run_path else None
        self.evaluate_button.setEnabled(self.run_path is not None and (self.run_path / "weights" / "best.pt").is_file())
        roots = [self.run_path / "evaluations"] if self.run_path else []
        roots.append(Path(self.project.root) / "evaluations")
        found = sorted((f for root in roots if root.is_dir() for f in root.iterdir() if is_evaluation(f)),
                       key=lambda f: (f / "evaluation.json").stat().st_mtime, reverse=True)  # the newest first
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for folder in found:
            self.chooser.addItem(f"{folder.name}  ({folder.parent.parent.name})", str(folder))
        self.chooser.setCurrentIndex(0 if found else -1)  # shown in the box too, not only in its list
        self.chooser.blockSignals(False)
        self.evaluation = self.matcher = None
        self._wanted = found[0] if found else None
        if not found:
            self._clear("No evaluation yet: Evaluate validates the run's best.pt and keeps every prediction.")
        elif self.isVisible():  # else when the page is shown: a selection in the runs table stays instant
            self.load(found[0])

    def showEvent(self, event):
        super().showEvent(event)
        if self.evaluation is None and getattr(self, "_wanted", None) is not None:
            self.load(self._wanted)

    def all_evaluations(self) -> list:
        """Every evaluation of the project: its runs' and its own ``evaluations/`` (``yolo-studio val`` of a
        registry or hydra version), the newest first."""
        roots = [r / "evaluations" for r in Path(self.project.runs_dir).glob("*")] + \
            [Path(self.project.root) / "evaluations"]
        found = [f for root in roots if root.is_dir() for f in root.iterdir() if is_evaluation(f)]
        return sorted(found, key=lambda f: (f / "evaluation.json").stat().st_mtime, reverse=True)

    def compare_with(self, other=None):
        """The shown evaluation against another one of the project (asked for when not given); returns the
        dialog, or None when they cannot be compared (said in a message)."""
        from yolo_studio.ui.runs.compare_dialog import CompareDialog

        if self.evaluation is None:
            return None
        if other is None:
            others = [f for f in self.all_evaluations() if f != self.evaluation.folder]
            labels = [f"{f.name}  ({f.parent.parent.name})" for f in others]
            if not others:
                QtWidgets.QMessageBox.information(self, "Compare with", "No other evaluation in this project yet.")
                return None
            label, ok = QtWidgets.QInputDialog.getItem(self, "Compare with", "The other evaluation:", labels, 0, False)
            if not ok:
                return None
            other = others[labels.index(label)]
        names = (f"{self.evaluation.folder.parent.parent.name}/{self.evaluation.folder.name}",
                 f"{Path(other).parent.parent.name}/{Path(other).name}")
        try:
            dialog = CompareDialog(self.evaluation, Evaluation.load(other), labels=names, parent=self)
        except (ValueError, OSError) as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot compare", str(exc))
            return None
        dialog.show()
        return dialog

    def _on_chooser_current_index_changed(self, index: int) -> None:
        if index >= 0:
            self.load(self.chooser.itemData(index))

    def evaluate_run(self) -> None:
        from yolo_studio.deploy.evaluate import evaluate
        from yolo_studio.workers.task import TaskThread

        if self._worker is None:
            self._worker = TaskThread("evaluate", self)
            self._worker.done.connect(lambda _job, evaluation: self._evaluated(evaluation))
            self._worker.failed.connect(lambda _job, message: self._evaluation_failed(message))
        self.evaluate_button.setEnabled(False)
        self.summary.setText(f"Evaluating {self.run_path.name}: validating its best.pt on its dataset…")
        self._worker.submit(evaluate, self.run_path, None, self.project)

    def _evaluated(self, evaluation) -> None:
        self.evaluate_button.setEnabled(True)
        self.set_run(self.run_path)
        self.status_message.emit(f"Evaluation written: {evaluation.folder}")

    def _evaluation_failed(self, message: str) -> None:
        self.evaluate_button.setEnabled(True)
        self.summary.setText(f"The evaluation failed: {message}")

    def load(self, folder) -> None:
        try:
            self.evaluation = Evaluation.load(folder)
        except (OSError, ValueError, KeyError) as exc:
            self._clear(f"{folder} cannot be read: {exc}")
            return
        self.matcher = matching.Matcher(self.evaluation) if self.evaluation.task != "classify" else None
        self.undo_stack = []  # label edits are undone in the evaluation they were made in
        self._forget_drawing()
        if self.matcher is not None and not self.evaluation.referee:  # after the page has been drawn
            QtCore.QTimer.singleShot(300, lambda ev=self.evaluation: ev is self.evaluation and self._referee(ev))
        self.selection = ("ranked", None)
        self._suspects = None  # listed when their tab is first shown
        self.suspects.clear()
        if self.lists.currentIndex() == 1:
            self._show_suspects()
        self.refresh_figures()

    def _referee(self, evaluation) -> None:
        """COCO's figures, computed off the UI thread the first time an evaluation is shown, then kept in it."""
        from yolo_studio.deploy.evaluate import coco_referee
        from yolo_studio.workers.task import TaskThread

        if getattr(self, "_referee_worker", None) is None:
            self._referee_worker = TaskThread("referee", self)
            self._referee_worker.done.connect(lambda _job, result: self._refereed(*result))
        import dataclasses

        copy = dataclasses.replace(evaluation, truth=evaluation.truth.copy(), predictions=evaluation.predictions.copy())
        self._referee_worker.submit(lambda: (evaluation, coco_referee(copy)))  # edits may follow meanwhile

    def _refereed(self, evaluation, figures: dict) -> None:
        from yolo_studio.core.evaluation.store import set_referee

        evaluation.referee = figures
        if evaluation.folder is not None and "mAP50-95" in figures:
            set_referee(evaluation.folder, figures)  # only that key: the folder may hold newer edits
        if evaluation is self.evaluation:
            self._show_summary()  # only that line: the lists and the picture stay where the user is

    def _forget_drawing(self) -> None:
        """The picture's label items and what it shows are gone with the scene."""
        self.shown, self.label_items = None, {}

    def _clear(self, text: str) -> None:
        self._forget_drawing()
        self.evaluation = self.matcher = None
        self.summary.setText(text)
        for table in (self.classes, self.matrix):
            table.setRowCount(0)
        self.errors.clear()
        self.suspects.clear()
        self.view.clear_image()

    # ------------------------------------------------------------------ figures

    @property
    def thresholds(self) -> tuple:
        return self.conf.value() / 100, self.iou.value() / 100

    def _show_thresholds(self) -> None:
        conf, iou = self.thresholds
        self.conf_label.setText(f"{conf:.2f}")
        self.iou_label.setText(f"{iou:.2f}")

    def refresh_figures(self) -> None:
        """Table, sizes, matrix and the error list at the sliders' thresholds, from the kept predictions."""
        self._show_thresholds()
        if self.evaluation is not None and self.evaluation.task == "classify":
            self._refresh_classify()
            return
        if self.matcher is None:
            return
        self.classes.setColumnCount(len(CLASS_COLUMNS))
        self.classes.setHorizontalHeaderLabels(CLASS_COLUMNS)
        conf, iou = self.thresholds
        ev = self.evaluation
        summary = self.matcher.summary(conf, iou)
        best = self.matcher.f1_optimal(iou)
        metrics = ev.metrics
        self._show_summary()
        per_class_map = metrics.get("per_class", {})
        self.classes.setSortingEnabled(False)
        self.classes.setRowCount(len(summary["per_class"]))
        for row, (c, figs) in enumerate(summary["per_class"].items()):
            ultra = per_class_map.get(str(c)) or per_class_map.get(c) or {}
            values = (ev.names.get(c, str(c)), figs["images"], figs["instances"], figs["precision"], figs["recall"],
                      figs["f1"], best[c][0], ultra.get("mAP50"), ultra.get("mAP50-95"))
            for col, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem()
                if isinstance(value, float):
                    item.setData(QtCore.Qt.DisplayRole, round(value, 3))
                elif value is None:
                    item.setText("–")
                else:
                    item.setData(QtCore.Qt.DisplayRole, value)
                item.setData(QtCore.Qt.UserRole, c)
                self.classes.setItem(row, col, item)
        self.classes.setSortingEnabled(True)
        sizes = self.matcher.sizes(conf, iou)
        self.sizes.setText("Recall by size (COCO): " + ", ".join(
            f"{name} {recall:.2f} ({n})" for name, (n, recall) in sizes.items()))
        self._show_matrix(summary["confusion"])
        self._show_errors()

    def _show_summary(self) -> None:
        """The line above the table: what was evaluated, Ultralytics' figures and the referee's."""
        ev = self.evaluation
        figures = ", ".join(f"{key.split('/')[-1]} {value:.3f}" for key, value in ev.metrics.items()
                            if key.startswith("metrics/"))
        referee = f" · referee (COCO, {ev.referee['library']}): mAP50-95 {ev.referee['mAP50-95']:.3f}" \
            if "mAP50-95" in ev.referee else ""
        self.summary.setText(f"<b>{Path(ev.source.get('model', '?')).name}</b> on {Path(ev.source.get('data', '?')).name} "
                             f"({ev.source.get('split', 'val')}): {len(ev.images)} images. Ultralytics: {figures}{referee}")

    def _refresh_classify(self) -> None:
        """A classifier: top-1/top-5, accuracy per class, the confusion matrix of its top-1 (no thresholds)."""
        import numpy as np

        from yolo_studio.core.evaluation import classify

        ev = self.evaluation
        result = classify.figures(ev)
        pairs = ", ".join(f"{ev.names.get(t)} -> {ev.names.get(p)} ({k})" for t, p, k in result["confused"][:5])
        self.summary.setText(f"<b>{Path(ev.source.get('model', '?')).name}</b>: {len(ev.top5)} images · top-1 "
                             f"{result['top1']:.3f} · top-5 {result['top5']:.3f} · most confused: {pairs or 'none'}")
        self.classes.setSortingEnabled(False)
        self.classes.setColumnCount(3)
        self.classes.setHorizontalHeaderLabels(["class", "images", "accuracy"])
        self.classes.setRowCount(len(result["per_class"]))
        for row, (c, (n, accuracy)) in enumerate(result["per_class"].items()):
            for col, value in enumerate((ev.names.get(c, str(c)), n, round(accuracy, 3))):
                item = QtWidgets.QTableWidgetItem()
                item.setData(QtCore.Qt.DisplayRole, value)
                self.classes.setItem(row, col, item)
        self.classes.setSortingEnabled(True)
        self.sizes.setText("")
        nc = max(ev.names, default=-1) + 1
        matrix = np.zeros((nc, nc), dtype=np.int64)
        for _image, truth, classes, _p in ev.top5:
            if classes:
                matrix[classes[0], truth] += 1
        self._show_matrix(matrix, background=False)
        self.errors.clear()

    def _show_matrix(self, matrix, background: bool = True) -> None:
        names = [self.evaluation.names.get(c, str(c)) for c in range(len(matrix) - background)] + \
            (["background"] if background else [])
        self.matrix.setRowCount(len(matrix))
        self.matrix.setColumnCount(len(matrix))
        self.matrix.setHorizontalHeaderLabels(names)
        self.matrix.setVerticalHeaderLabels(names)
        top = max(int(matrix.max()), 1)
        for r in range(len(matrix)):
            for c in range(len(matrix)):
                count = int(matrix[r, c])
                item = QtWidgets.QTableWidgetItem(str(count))
                item.setTextAlignment(QtCore.Qt.AlignCenter)
                strength = count / top
                colour = QtGui.QColor(39, 174, 96) if r == c else QtGui.QColor(192, 57, 43)
                colour.setAlphaF(0.15 + 0.75 * strength if count else 0.0)
                item.setBackground(colour)
                self.matrix.setItem(r, c, item)

    # ------------------------------------------------------------------ errors

    def show_cell(self, row: int, column: int) -> None:
        self.lists.setCurrentIndex(0)
        if self.evaluation is not None and self.evaluation.task == "classify":
            self._show_confused(column, row)
        else:
            self.selection = ("cell", (row, column))
            self._show_errors()
        self.errors.setFocus()

    def _show_confused(self, truth: int, predicted: int) -> None:
        from yolo_studio.core.evaluation import classify

        ev = self.evaluation
        found = classify.images_of(ev, truth, predicted)
        self.errors_title.setText(f"{ev.names.get(truth)} taken for {ev.names.get(predicted)}: {len(found)}")
        self.errors.blockSignals(True)
        self.errors.clear()
        self._entries = []
        for image, probability in found:
            self.errors.addItem(f"{Path(ev.images[image]).name} {probability:.2f}")
            self._entries.append((image, -1, -1))
        self.errors.blockSignals(False)
        if found:
            self.errors.setCurrentRow(0)

    def _show_classified(self, image: int) -> None:
        ev = self.evaluation
        self.view.show_image(ev.images[image])
        _i, truth, classes, probabilities = ev.top5[image]
        top = ", ".join(f"{ev.names.get(c)} {p:.2f}" for c, p in zip(classes, probabilities))
        self.caption.setText(f"{Path(ev.images[image]).name}: true {ev.names.get(truth)} · top-5: {top}")

    def show_ranked(self, cls) -> None:
        if self.matcher is None:  # a classifier (its matrix cells list the images) or nothing loaded
            return
        self.selection = ("ranked", cls)
        self._show_errors()

    def _on_classes_item_selection_changed(self) -> None:
        items = self.classes.selectedItems()
        if items:
            self.show_ranked(items[0].data(QtCore.Qt.UserRole))

    def _show_errors(self) -> None:
        conf, iou = self.thresholds
        kind, what = self.selection
        names = self.evaluation.names
        self.errors.blockSignals(True)
        self.errors.clear()
        self._entries = []
        nc = self.matrix.columnCount() - 1  # the background's row and column
        file_name = self._file_names()
        if kind == "cell":
            row, column = what
            entries = self.matcher.cell(conf, iou, row, column)
            label = lambda c: names.get(c, "background") if c < nc else "background"  # noqa: E731
            self.errors_title.setText(f"predicted {label(row)}, true {label(column)}: {len(entries)}")
            self.errors.addItems([f"{file_name[image]}{f' {self.matcher.conf[p]:.2f}' if p >= 0 else ''}"
                                  for image, p, _t in entries])
            self._entries = entries
        else:
            ranked = self.matcher.ranked_images(conf, iou, what)
            title = f"images with errors{'' if what is None else ' of ' + names.get(what, str(what))}: {len(ranked)}"
            self.errors_title.setText(title + " (most first)")
            self.errors.addItems([f"{file_name[image]}: {missed} missed, {fp} false"
                                  + (f", lowest IoU {lowest:.2f}" if lowest < 1 else "")
                                  for image, missed, fp, lowest in ranked])
            self._entries = [(image, -1, -1) for image, *_rest in ranked]
        self.errors.blockSignals(False)
        if self.errors.count():
            self.errors.setCurrentRow(0)  # draws it
        else:
            self.view.clear_image()
            self._forget_drawing()
            self.caption.clear()

    def _file_names(self) -> list:
        """Each image's file name (made once per evaluation: the lists show thousands)."""
        if getattr(self, "_names_of", (None, None))[0] is not self.evaluation:
            self._names_of = (self.evaluation, [Path(p).name for p in self.evaluation.images])
        return self._names_of[1]

    def _on_errors_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(getattr(self, "_entries", [])):
            image, p, t = self._entries[row]
            if self.evaluation.task == "classify":
                self._show_classified(image)
            else:
                self.draw(image, focus_prediction=p, focus_truth=t)

    def draw(self, image: int, focus_prediction: int = -1, focus_truth: int = -1) -> None:
        """Image ``image`` with its ground truth (dashed) and its predictions at the confidence (solid); the
        error in focus drawn thicker, its confidence and IoU in the caption."""
        ev, m = self.evaluation, self.matcher
        conf, iou = self.thresholds
        items = paint(self.view, ev, m, image, conf, focus_prediction, focus_truth)
        if items is None:
            self._forget_drawing()
            self.caption.setText(f"{ev.images[image]} cannot be read")
            return
        self.shown = (image, focus_prediction, focus_truth)
        self.label_items = {}
        for t, item in items.items():  # labels can be selected (Delete, C) and, boxes, dragged to a new place
            item.setFlag(QtWidgets.QGraphicsItem.ItemIsSelectable)
            item.setFlag(QtWidgets.QGraphicsItem.ItemIsMovable, ev.task in ("detect",))
            item.setData(0, t)
            self.label_items[t] = item
        self._update_edit_buttons()
        t0, t1 = m.truth_ranges[image]
        matched = m.matching(iou)
        parts = [f"{Path(ev.images[image]).name} · ground truth dashed, predictions solid"]
        if focus_prediction >= 0:
            link = matched.any[focus_prediction]
            what = f"prediction {ev.names.get(int(m.pred_cls[focus_prediction]))} {m.conf[focus_prediction]:.2f}"
            if link >= 0:
                parts.append(f"{what}, IoU {matched.any_iou[focus_prediction]:.2f} with a "
                             f"{ev.names.get(int(m.truth_cls[link]))}")
            else:
                overlaps = matching.iou_matrix(m.pred_box[focus_prediction:focus_prediction + 1], m.truth_box[t0:t1])
                best = float(overlaps.max()) if overlaps.size else 0.0
                parts.append(f"{what}: a duplicate, IoU {best:.2f} with a label a more confident prediction took"
                             if best >= iou else f"{what}, no label there (best IoU {best:.2f})")
        if focus_truth >= 0 and focus_prediction < 0:
            parts.append(f"missed: {ev.names.get(int(m.truth_cls[focus_truth]))}")
        self.caption.setText(" · ".join(parts))

    # ------------------------------------------------------------------ suspected label errors

    def _show_suspects(self) -> None:
        self.suspects.clear()
        self._suspects = matching.suspects(self.matcher) if self.matcher is not None else []
        for s in self._suspects:
            name = Path(self.evaluation.images[s.image]).name
            self.suspects.addItem(f"{s.kind.replace('_', ' ')}: {self.evaluation.names.get(s.cls, s.cls)} in {name} "
                                  f"({s.confidence:.2f})")
        self.export_button.setEnabled(bool(self._suspects))

    def _on_suspects_current_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self._suspects or []):
            return
        suspect = self._suspects[row]
        self.draw(suspect.image, focus_prediction=suspect.prediction)  # a missing label: Add the prediction
        pen = QtGui.QPen(QtGui.QColor("#f1c40f"), 3)
        pen.setCosmetic(True)
        x1, y1, x2, y2 = suspect.box
        self.view.scene().addRect(QtCore.QRectF(x1, y1, x2 - x1, y2 - y1), pen)
        self.caption.setText(f"{suspect.kind.replace('_', ' ')}: {self.evaluation.names.get(suspect.cls)} "
                             f"(model {suspect.confidence:.2f}) · yellow: the suspected box")

    def export_suspects(self, path: str | None = None) -> Path | None:
        """The suspected label errors as CSV (``image,kind,class,x1,y1,x2,y2,confidence``), for an annotation tool."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export suspected label errors",
                                                            str(self.evaluation.folder / "label_suspects.csv"),
                                                            "CSV (*.csv)")
        if not path:
            return None
        if self._suspects is None:
            self._show_suspects()
        written = write_suspects(self.evaluation, self._suspects, path)
        self.status_message.emit(f"{len(self._suspects)} suspected label errors written to {written}")
        return written


def paint(view: ImageView, evaluation, matcher, image: int, conf: float, focus_prediction: int = -1,
          focus_truth: int = -1):
    """Image ``image`` of an evaluation in ``view``: its ground truth dashed, its predictions at ``conf`` solid,
    the ones in focus thicker. Returns ``{truth index: its rectangle}``; None when the image cannot be read."""
    if not view.show_image(evaluation.images[image]):
        return None
    scale = max(view.image_size.width(), view.image_size.height()) / 640
    view._placed = []
    m, names = matcher, evaluation.names
    t0, t1 = m.truth_ranges[image]
    truth = {t: _box(view, m.truth_box[t], int(m.truth_cls[t]), names.get(int(m.truth_cls[t]), "?"), scale, True,
                     t == focus_truth) for t in range(t0, t1)}
    p0, p1 = m.pred_ranges[image]
    for p in range(p0, p1):
        if m.conf[p] >= conf or p == focus_prediction:
            _box(view, m.pred_box[p], int(m.pred_cls[p]), f"{names.get(int(m.pred_cls[p]), '?')} {m.conf[p]:.2f}",
                 scale, False, p == focus_prediction)
    return truth


def _box(view: ImageView, box, cls: int, text: str, scale: float, dashed: bool, bold: bool):
    colour = class_colour(cls)
    pen = QtGui.QPen(colour, max(1.0, (4 if bold else 2) * scale))
    if dashed:
        pen.setStyle(TRUTH_PEN)
    x1, y1, x2, y2 = (float(v) for v in box)
    item = view.scene().addRect(QtCore.QRectF(x1, y1, x2 - x1, y2 - y1), pen)
    if not dashed or bold:
        view._label(QtCore.QPointF(x1, y1), text, colour, scale)
    return item
