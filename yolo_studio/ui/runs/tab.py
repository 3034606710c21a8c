"""The Runs tab: every run of the project, curves of several runs overlaid, one run's details."""

from __future__ import annotations

import time
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.training.run_store import delete_run, history, list_runs
from yolo_studio.ui import plot_style
from yolo_studio.ui.datasets.samples import PALETTE, ImageView
from yolo_studio.ui.layout import column, splitter
from yolo_studio.ui.train.monitor import duration_text

COLUMNS = ("name", "status", "model", "dataset", "epochs", "best mAP50-95", "duration", "started")
METRICS = ("metrics/mAP50-95(B)", "metrics/mAP50(B)", "metrics/precision(B)", "metrics/recall(B)",
           "train/box_loss", "val/box_loss", "train/cls_loss", "val/cls_loss", "train/dfl_loss", "val/dfl_loss",
           "lr/pg0")
def _where(path) -> str:
    from yolo_studio.training.cluster import cluster_info
    from yolo_studio.training.run_folder import RunFolder
    from yolo_studio.training.tuning import is_tuning

    run = RunFolder(Path(path))
    parts = (["tuning"] if is_tuning(run) else []) + [f"on {info['cluster']}" for info in [cluster_info(run)] if info]
    return " ".join(parts)


STATUS_COLOUR = {"completed": "#27ae60", "running": "#2f80ed", "queued": "#2f80ed", "stopped": "#b7950b",
                 "failed": "#c0392b", "crashed": "#c0392b", "killed": "#c0392b", "lost": "#c0392b"}
LOG_TAIL = 200_000  # characters of train.log shown


class RunsTab(QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    register_requested = QtCore.Signal(str)  # run folder
    predict_requested = QtCore.Signal(str)  # weights file
    export_requested = QtCore.Signal(str)  # weights file
    continue_requested = QtCore.Signal(str, int)  # a finished run folder, more epochs

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.summaries: list = []
        self._sizer = None  # TaskThread counting compared runs' params and GFLOPs, made on first use
        self._build_widgets()
        self.refresh()

    def shutdown(self) -> None:
        if self._sizer is not None:
            self._sizer.stop()
        self.evaluate_page.shutdown()

    def _build_widgets(self) -> None:
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        refresh = QtWidgets.QPushButton("Refresh", clicked=self.refresh)
        self.delete_button = QtWidgets.QPushButton("Delete run…", clicked=self.delete_dialog)
        self.register_button = QtWidgets.QPushButton("Register model…", clicked=self._on_register_clicked)
        self.continue_button = QtWidgets.QPushButton("Continue…", clicked=self.continue_dialog, enabled=False,
                                                     toolTip="Train a finished run longer: a new run from its last "
                                                             "weights and arguments")
        self.compare_button = QtWidgets.QPushButton("Compare architectures", clicked=self.compare_architectures,
                                                    toolTip="Select two runs: what differs between their models, "
                                                            "matched by structure", enabled=False)
        self.compare_evaluations_button = QtWidgets.QPushButton(
            "Compare evaluations", clicked=self.compare_evaluations, enabled=False,
            toolTip="Select two runs evaluated on the same images: per-class figures and the images that got "
                    "better and worse")
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(QtWidgets.QLabel("Select several runs to compare their curves."), 1)
        for b in (refresh, self.continue_button, self.compare_button, self.compare_evaluations_button,
                  self.register_button, self.delete_button):
            bar.addWidget(b)
        top = column(bar, self.table)

        self.metric = QtWidgets.QComboBox()
        self.metric.addItems(METRICS)
        self.metric.currentTextChanged.connect(lambda _text: self._draw_overlay(refill=False))
        plot_style.apply()
        self.plot = plot_style.epoch_plot()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getViewBox().setLimits(yMin=0)  # metrics and losses are never negative
        self.legend = self.plot.addLegend(offset=(-5, 5))
        compare = QtWidgets.QWidget()
        compare_layout = QtWidgets.QVBoxLayout(compare)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Metric"))
        row.addWidget(self.metric, 1)
        compare_layout.addLayout(row)
        compare_layout.addWidget(self.plot, 1)

        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        self.config_view = QtWidgets.QPlainTextEdit(readOnly=True, font=mono)
        self.log_view = QtWidgets.QPlainTextEdit(readOnly=True, font=mono)
        self.log_view.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.plot_files = QtWidgets.QListWidget()
        self.plot_files.setMaximumWidth(220)
        self.plot_image = ImageView()
        self.plot_files.currentItemChanged.connect(
            lambda item, _p: item is not None and self.plot_image.show_image(item.data(QtCore.Qt.UserRole)))
        plots = QtWidgets.QSplitter()
        plots.addWidget(self.plot_files)
        plots.addWidget(self.plot_image)
        self.checkpoints = QtWidgets.QTreeWidget()
        self.checkpoints.setHeaderLabels(["file", "size", "saved"])
        self.checkpoints.setRootIsDecorated(False)
        predict = QtWidgets.QPushButton("Test in Inference", clicked=lambda: self._emit_checkpoint(self.predict_requested))
        export = QtWidgets.QPushButton("Export…", clicked=lambda: self._emit_checkpoint(self.export_requested))
        checkpoints = QtWidgets.QWidget()
        checkpoints_layout = QtWidgets.QVBoxLayout(checkpoints)
        checkpoints_layout.addWidget(self.checkpoints, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(predict)
        buttons.addWidget(export)
        buttons.addStretch(1)
        checkpoints_layout.addLayout(buttons)
        self.details = QtWidgets.QTabWidget()
        self.details.addTab(compare, "Compare curves")
        self.details.addTab(self.config_view, "Config && command")
        self.details.addTab(self.log_view, "Log")
        self.details.addTab(plots, "Plots")
        self.details.addTab(checkpoints, "Checkpoints")
        from yolo_studio.ui.runs.evaluate_page import EvaluatePage

        self.evaluate_page = EvaluatePage(self.project)
        self.evaluate_page.status_message.connect(self.status_message)
        self.details.addTab(self.evaluate_page, "Evaluate")
        column(splitter(top, self.details, sizes=[300, 520], vertical=True), on=self, margin=2)

    # ------------------------------------------------------------------ table

    def refresh(self) -> None:
        selected = {s.name for s in self.selected()}
        self.summaries = list_runs(self.project.runs_dir)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.summaries))
        for row, s in enumerate(self.summaries):
            best = f"{s.best_map:.3f}" if s.best_map is not None else "–"
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started)) if s.started else "–"
            values = (s.name, s.status, Path(s.model).name, _short(s.data), f"{s.epochs_done}/{s.epochs or '?'}",
                      best, duration_text(s.duration), started)
            for col, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setData(QtCore.Qt.UserRole, row)
                if col == 1:
                    item.setForeground(QtGui.QColor(STATUS_COLOUR.get(s.status, "#555")))
                    where = _where(s.path)
                    if where:  # a cluster run, or a tuning: said beside its status
                        item.setText(f"{s.status} · {where}")
                if col == 3:
                    item.setToolTip(s.data)
                if col == 0 and s.parent:  # train --continue: its curves start with the parent's epochs
                    item.setText(f"{s.name}  (continues {s.parent})")
                    item.setToolTip(f"A new run from {s.parent}'s last weights and arguments; its curves show "
                                    f"{s.parent}'s epochs first")
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() in selected:
                self.table.selectRow(row)
        self._on_table_item_selection_changed()

    def selected(self) -> list:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.summaries[self.table.item(r, 0).data(QtCore.Qt.UserRole)] for r in rows]

    def _on_table_item_selection_changed(self) -> None:
        chosen = self.selected()
        self.delete_button.setEnabled(len(chosen) == 1)
        self.compare_button.setEnabled(len(chosen) == 2)
        self.compare_evaluations_button.setEnabled(len(chosen) == 2)
        self.continue_button.setEnabled(len(chosen) == 1 and chosen[0].status == "completed" and chosen[0].studio)
        self.register_button.setEnabled(len(chosen) == 1 and (chosen[0].path / "weights" / "best.pt").is_file())
        self._draw_overlay()
        self._show_details(chosen[0] if len(chosen) == 1 else None)

    def continue_dialog(self) -> None:
        """Ask how many more epochs, then ask the Train tab to run them (a new run linked to this one)."""
        (run,) = self.selected()[:1]
        epochs, ok = QtWidgets.QInputDialog.getInt(
            self, "Continue the run", f"Train {run.name} for how many more epochs? (A new run starts from its last "
            "weights with its arguments; the learning-rate schedule starts again.)", max(run.epochs, 1), 1, 100000)
        if ok:
            self.continue_requested.emit(str(run.path), epochs)

    def compare_evaluations(self):
        """The two selected runs' newest evaluations side by side (``CompareDialog``); returns the dialog."""
        from yolo_studio.core.evaluation.store import Evaluation, is_evaluation
        from yolo_studio.ui.runs.compare_dialog import CompareDialog

        runs = self.selected()[:2]
        found = []
        for run in runs:
            folders = sorted((f for f in (run.path / "evaluations").glob("*") if is_evaluation(f)),
                             key=lambda f: (f / "evaluation.json").stat().st_mtime)
            if not folders:
                QtWidgets.QMessageBox.information(self, "Compare evaluations", f"{run.name} has no evaluation yet: "
                                                  "select it and press Evaluate in its Evaluate tab first.")
                return None
            found.append(Evaluation.load(folders[-1]))
        def promote(k: int) -> None:
            from yolo_studio.training import registry

            name, ok = QtWidgets.QInputDialog.getText(self, "Register and promote", f"Register {runs[k].name}'s "
                                                      "best.pt as the next version of (name):", text="model")
            if not ok or not name.strip():
                return
            try:
                same = [e for e in registry.list_entries(self.project.registry_dir)  # registered before: promote it
                        if e.name == name.strip() and e.source_run == str(runs[k].path)]
                entry = same[-1] if same else registry.register(self.project.registry_dir, runs[k].path, name.strip())
                registry.promote(self.project.registry_dir, entry.ref)
            except ValueError as exc:
                QtWidgets.QMessageBox.warning(self, "Not registered", str(exc))
                return
            self.status_message.emit(f"{entry.name}@production is now {entry.ref} ({runs[k].name})")

        try:
            dialog = CompareDialog(*found, labels=(runs[0].name, runs[1].name), parent=self, promote=promote)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot compare", str(exc))
            return None
        dialog.show()
        return dialog

    def compare_architectures(self) -> str:
        """What differs between the models of the two selected runs (as `yolo-studio diff A B`), in a dialog;
        returns its text. Their params and GFLOPs follow when measured (off the UI thread)."""
        from yolo_studio.core.blocks.block_check import measure_with_blocks
        from yolo_studio.core.model.arch_diff import diff_models, load_architecture, size_line, summary_lines
        from yolo_studio.core.errors import StudioError
        from yolo_studio.workers.task import TaskThread

        a, b = self.selected()[:2]
        try:
            (model_a, label_a), (model_b, label_b) = load_architecture(a.path), load_architecture(b.path)
        except StudioError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot compare", str(exc))
            return ""
        first, *rest = summary_lines(diff_models(model_a, model_b), model_a, model_b,
                                     f"{a.name} ({label_a}) -> {b.name} ({label_b})")
        text = "\n".join([first, *rest])
        dialog = QtWidgets.QDialog(self, windowTitle=f"Architectures: {a.name} and {b.name}")
        view = QtWidgets.QPlainTextEdit(text, readOnly=True)
        view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        sizes = QtWidgets.QLabel("Counting params and GFLOPs…", objectName="sizes")
        close = QtWidgets.QPushButton("Close", clicked=dialog.accept)
        column(sizes, view, close, on=dialog)
        if self._sizer is None:
            self._sizer = TaskThread("compare-sizes", self)
        jobs, measured = [], {}

        def show(job: int, size) -> None:
            if job in jobs:
                measured[job] = size
            if len(measured) == 2:
                sizes.setText(size_line(measured[jobs[0]], measured[jobs[1]], (a.name, b.name)))

        self._sizer.done.connect(show)
        dialog.finished.connect(lambda *_: self._sizer.done.disconnect(show))
        for run, model, label in ((a, model_a, label_a), (b, model_b, label_b)):
            modules = run.path / "artifacts" / "modules"
            jobs.append(self._sizer.submit(measure_with_blocks, model, label, modules if modules.is_dir() else None))
        dialog.resize(760, 420)
        dialog.open()
        return text

    def _fill_metrics(self, runs: dict) -> None:
        """The metric box lists the keys the selected runs report (a classify run's accuracy, a detection
        run's mAP), quality metrics first; the current choice is kept when it still exists."""
        keys: dict = {}
        for series in runs.values():
            keys.update(dict.fromkeys(series))
        ordered = sorted(keys, key=lambda k: (not k.startswith("metrics/"), not k.startswith("val/"), k))
        current = self.metric.currentText()
        self.metric.blockSignals(True)
        self.metric.clear()
        self.metric.addItems(ordered or list(METRICS))
        preferred = next((k for k in METRICS if k in ordered), ordered[0] if ordered else METRICS[0])
        self.metric.setCurrentText(current if current in ordered else preferred)
        self.metric.blockSignals(False)

    def _draw_overlay(self, refill: bool = True) -> None:
        self.plot.clear()
        self.legend.clear()
        runs = {s.path: history(s.path) for s in self.selected()}  # a continued run with its parent's epochs
        if refill:
            self._fill_metrics(runs)
        key = self.metric.currentText()
        for i, s in enumerate(self.selected()):
            xs, ys = runs[s.path].get(key, ([], []))
            self.plot.plot(xs, ys, pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2), name=s.name, symbol="o",
                           symbolSize=5, symbolBrush=PALETTE[i % len(PALETTE)], symbolPen=None)
        self.plot.setTitle(key)

    def _show_details(self, summary) -> None:
        self.config_view.clear()
        self.log_view.clear()
        self.plot_files.clear()
        self.checkpoints.clear()
        self.evaluate_page.set_run(summary.path if summary is not None else None)
        if summary is None:
            return
        artifacts = summary.path / "artifacts"
        parts = []
        for folder, name in ((summary.path, "best_hyperparameters.yaml"), (summary.path, "tune_results.csv"),
                             (artifacts, "command.txt"), (artifacts, "resolved.yaml"), (artifacts, "run.yaml")):
            if (folder / name).is_file():  # a tuning's results first
                parts.append(f"# ---- {name}\n{(folder / name).read_text(encoding='utf-8', errors='replace')}")
        if not parts and (summary.path / "args.yaml").is_file():
            parts.append((summary.path / "args.yaml").read_text(encoding="utf-8", errors="replace"))
        self.config_view.setPlainText("\n".join(parts) or "(no configuration files in this run folder)")
        log = summary.path / "logs" / "train.log"
        if log.is_file():
            text = log.read_text(encoding="utf-8", errors="replace")
            self.log_view.setPlainText(text[-LOG_TAIL:])
            self.log_view.moveCursor(QtGui.QTextCursor.End)
        for png in sorted(summary.path.glob("*.png")) + sorted(summary.path.glob("*.jpg")):
            item = QtWidgets.QListWidgetItem(png.name)
            item.setData(QtCore.Qt.UserRole, str(png))
            self.plot_files.addItem(item)
        if self.plot_files.count():
            self.plot_files.setCurrentRow(0)
        for weights in summary.weights():
            stat = weights.stat()
            item = QtWidgets.QTreeWidgetItem([weights.name, f"{stat.st_size / 2**20:.1f} MB",
                                              time.strftime("%Y-%m-%d %H:%M", time.localtime(stat.st_mtime))])
            item.setData(0, QtCore.Qt.UserRole, str(weights))
            self.checkpoints.addTopLevelItem(item)

    def _emit_checkpoint(self, signal) -> None:
        item = self.checkpoints.currentItem() or self.checkpoints.topLevelItem(0)
        if item is not None:
            signal.emit(item.data(0, QtCore.Qt.UserRole))

    def _on_register_clicked(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.register_requested.emit(str(chosen[0].path))

    # ------------------------------------------------------------------ delete

    def delete_dialog(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            return
        run = chosen[0]
        answer = QtWidgets.QMessageBox.warning(
            self, "Delete run", f"Delete the run '{run.name}' and everything in {run.path}?\n\nIts weights, logs and "
            "plots are deleted; models registered from it stay in the registry. This cannot be undone.",
            QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.Cancel, QtWidgets.QMessageBox.Cancel)
        if answer == QtWidgets.QMessageBox.Yes:
            self.delete(run.path)

    def delete(self, path: Path) -> bool:
        try:
            delete_run(path, self.project.runs_dir)
        except (ValueError, OSError) as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot delete the run", str(exc))
            return False
        self.status_message.emit(f"Deleted the run {Path(path).name}")
        self.refresh()
        return True


def _short(path: str) -> str:
    p = Path(path) if path else None
    if p is None:
        return "–"
    return f"{p.parent.name}/{p.name}" if p.name in ("data.yaml",) else p.name

