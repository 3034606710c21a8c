"""The Train tab's Tune page: the search space and budget, then the trials live.

The space is Ultralytics' default, every range editable and every parameter switchable. A tuning
trains the Train tab's model on its dataset with its arguments (the tuned ones excepted), here or on
the cluster chosen in Run on, and is a run folder like any other (the Runs tab lists it). While it
runs, the table lists the trials (hyperparameters, fitness, status), the left plot shows the best
fitness so far, and the right plot the chosen trial's curves. "Apply best" puts the best trial's
hyperparameters into the Train form.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from yolo_studio.training import tuning
from yolo_studio.ui import plot_style
from yolo_studio.ui.layout import column

FITNESS_CHOICES = (("Ultralytics' fitness", tuning.FITNESS), ("mAP50-95", "metrics/mAP50-95(B)"),
                   ("mAP50", "metrics/mAP50(B)"), ("precision", "metrics/precision(B)"),
                   ("recall", "metrics/recall(B)"))


class TunePage(QtWidgets.QWidget):
    start_requested = QtCore.Signal(dict)  # the tune settings (training.tuning.tune_settings)
    apply_best = QtCore.Signal(dict)  # the best trial's hyperparameters

    def __init__(self, parent=None):
        super().__init__(parent)
        plot_style.apply()
        self.events: list = []
        self.space = QtWidgets.QTableWidget(0, 3)
        self.space.setHorizontalHeaderLabels(["Hyperparameter", "Min", "Max"])
        self.space.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)
        self.space.verticalHeader().hide()
        self.iterations = QtWidgets.QSpinBox(minimum=1, maximum=10_000, value=10)
        self.epochs = QtWidgets.QSpinBox(minimum=1, maximum=1000, value=10)
        self.fitness = QtWidgets.QComboBox()
        for label, key in FITNESS_CHOICES:
            self.fitness.addItem(label, key)
        self.hours = QtWidgets.QDoubleSpinBox(minimum=0, maximum=10_000, decimals=1, specialValueText="no limit",
                                              suffix=" h", toolTip="Stop after this time even if trials remain")
        self.gpus = QtWidgets.QSpinBox(minimum=0, maximum=64, toolTip="GPUs per trial on a cluster (0: one CPU)")
        self.grace = QtWidgets.QSpinBox(minimum=1, maximum=1000, value=1,
                                        toolTip="Epochs a trial trains before ASHA may stop it early (cluster)")
        self.start_button = QtWidgets.QPushButton("▶ Start tuning", clicked=self._start)
        self.apply_button = QtWidgets.QPushButton("Apply best", enabled=False, clicked=self._apply_best,
                                                  toolTip="Put the best trial's hyperparameters into the Train form")
        self.message = QtWidgets.QLabel(wordWrap=True)
        form = QtWidgets.QFormLayout()
        form.addRow("Trials", self.iterations)
        form.addRow("Epochs per trial", self.epochs)
        form.addRow("Fitness", self.fitness)
        form.addRow("Budget", self.hours)
        form.addRow("GPUs per trial", self.gpus)
        form.addRow("ASHA grace period", self.grace)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)
        left = column(QtWidgets.QLabel("Search space (Ultralytics' default; untick to keep a value fixed):"),
                      (self.space, 1), form, buttons, self.message)

        self.trials = QtWidgets.QTableWidget(0, 3)
        self.trials.setHorizontalHeaderLabels(["Trial", "Fitness", "Status"])
        self.trials.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.trials.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.trials.verticalHeader().hide()
        self.trials.itemSelectionChanged.connect(self._show_trial)
        self.best_plot = pg.PlotWidget(title="best fitness so far")
        self.best_curve = self.best_plot.plot([], [], pen=pg.mkPen("#2f80ed", width=2), symbol="o", symbolSize=5)
        self.trial_plot = pg.PlotWidget(title="a trial's epochs (choose one)")
        self.trial_curve = self.trial_plot.plot([], [], pen=pg.mkPen("#27ae60", width=2), symbol="o", symbolSize=5)
        plots = QtWidgets.QHBoxLayout()
        plots.addWidget(self.best_plot)
        plots.addWidget(self.trial_plot)
        right = column(plots, (self.trials, 1))
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 700])
        column(split, on=self)
        self._space_loaded = False
        self._saved: dict | None = None  # remembered settings, shown once the space is loaded

    def showEvent(self, event) -> None:  # the space comes from Ultralytics: read when the page is first shown
        self.load_space()
        super().showEvent(event)

    def load_space(self) -> None:
        if self._space_loaded:
            return
        self._space_loaded = True
        space = tuning.default_space()
        self.space.setRowCount(len(space))
        for row, (name, (low, high)) in enumerate(space.items()):
            item = QtWidgets.QTableWidgetItem(name)
            item.setFlags(QtCore.Qt.ItemIsUserCheckable | QtCore.Qt.ItemIsEnabled)
            item.setCheckState(QtCore.Qt.Checked)
            self.space.setItem(row, 0, item)
            self.space.setItem(row, 1, QtWidgets.QTableWidgetItem(f"{low:g}"))
            self.space.setItem(row, 2, QtWidgets.QTableWidgetItem(f"{high:g}"))
        if self._saved:
            self._show_saved(self._saved)

    def state(self) -> dict | None:
        """What the page shows, for the project to remember (None before it was first shown, or while a
        range is not two numbers: the last good settings stay remembered)."""
        if not self._space_loaded:
            return None
        try:
            return self.settings()
        except ValueError:
            return None

    def restore(self, saved: dict) -> None:
        """Show remembered settings (``tune_settings``' shape); the space when it is first loaded."""
        self._saved = saved
        if self._space_loaded:
            self._show_saved(saved)

    def _show_saved(self, saved: dict) -> None:
        space = saved.get("space") or {}
        for row in range(self.space.rowCount()):
            name = self.space.item(row, 0)
            name.setCheckState(QtCore.Qt.Checked if name.text() in space else QtCore.Qt.Unchecked)
            if name.text() in space:
                low, high = space[name.text()]
                self.space.item(row, 1).setText(f"{low:g}")
                self.space.item(row, 2).setText(f"{high:g}")
        for box, key in ((self.iterations, "iterations"), (self.epochs, "epochs"), (self.gpus, "gpus_per_trial"),
                         (self.grace, "grace_period")):
            if isinstance(saved.get(key), int):
                box.setValue(saved[key])
        self.hours.setValue(float(saved.get("hours") or 0))
        if self.fitness.findData(saved.get("fitness")) >= 0:
            self.fitness.setCurrentIndex(self.fitness.findData(saved.get("fitness")))

    def set_checked(self, names) -> None:
        """Tune only ``names`` (the others keep the Train form's value)."""
        self.load_space()
        for row in range(self.space.rowCount()):
            item = self.space.item(row, 0)
            item.setCheckState(QtCore.Qt.Checked if item.text() in names else QtCore.Qt.Unchecked)

    def chosen_space(self) -> dict:
        """{name: [min, max]} of the ticked rows; ValueError names a range that is not two numbers."""
        self.load_space()
        space = {}
        for row in range(self.space.rowCount()):
            name = self.space.item(row, 0)
            if name.checkState() != QtCore.Qt.Checked:
                continue
            try:
                space[name.text()] = [float(self.space.item(row, 1).text()), float(self.space.item(row, 2).text())]
            except ValueError:
                raise ValueError(f"{name.text()}: its range must be two numbers") from None
        return space

    def settings(self) -> dict:
        return tuning.tune_settings(self.chosen_space(), self.iterations.value(), self.epochs.value(),
                                    self.fitness.currentData(), self.hours.value() or None, self.gpus.value(),
                                    self.grace.value())

    def _start(self) -> None:
        try:
            settings = self.settings()
        except ValueError as exc:
            self.message.setText(f"<b style='color:#c0392b'>Not started:</b> {exc}")
            return
        self.message.clear()
        self.start_requested.emit(settings)

    # ------------------------------------------------------------------ live

    def reset(self) -> None:
        self.events = []
        self.trials.setRowCount(0)
        self.best_curve.setData([], [])
        self.trial_curve.setData([], [])
        self.apply_button.setEnabled(False)

    def add_events(self, events: list) -> None:
        """Events of the followed run (any run: only a tuning's trial events change the page)."""
        new = [e for e in events if e["type"] in ("trial_end", "trial_result", "run_end")]
        if not new:
            return
        self.events.extend(new)
        done = tuning.trials(self.events)
        keys = sorted({k for t in done for k in t.get("hyperparameters", {})})
        self.trials.setColumnCount(3 + len(keys))
        self.trials.setHorizontalHeaderLabels(["Trial", "Fitness", "Status", *keys])
        self.trials.setRowCount(len(done))
        for row, trial in enumerate(done):
            fitness = trial.get("fitness")
            cells = [str(trial["trial"]), f"{fitness:.4f}" if fitness is not None else "-", trial.get("status", ""),
                     *(f"{trial['hyperparameters'].get(k, ''):.4g}" if k in trial["hyperparameters"] else ""
                       for k in keys)]
            for col, text in enumerate(cells):
                self.trials.setItem(row, col, QtWidgets.QTableWidgetItem(text))
        curve = [(n, best) for n, best in tuning.best_so_far(self.events) if best is not None]
        self.best_curve.setData([n for n, _ in curve], [b for _, b in curve])
        self.apply_button.setEnabled(tuning.best_trial(self.events) is not None)

    def _show_trial(self) -> None:
        rows = self.trials.selectionModel().selectedRows()
        if not rows:
            return
        trial = tuning.trials(self.events)[rows[0].row()]
        epochs = trial.get("epochs") or []
        key = self.fitness.currentData()
        shown = key if any(key in e for e in epochs) else "metrics/mAP50-95(B)"  # results.csv has no fitness column
        values = [(i + 1, e.get(shown)) for i, e in enumerate(epochs)]
        values = [(x, float(y)) for x, y in values if y not in (None, "")]
        self.trial_curve.setData([x for x, _ in values], [y for _, y in values])
        self.trial_plot.setTitle(f"trial {trial['trial']}: {shown.replace('metrics/', '')}")

    def _apply_best(self) -> None:
        best = tuning.best_trial(self.events)
        if best is not None:
            self.apply_best.emit(dict(best["hyperparameters"]))
            self.message.setText(f"Applied trial {best['trial']} (fitness {best['fitness']:.4f}) to the Train form")
