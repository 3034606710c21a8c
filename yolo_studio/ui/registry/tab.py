"""The Registry tab: registered models by name and version; filter, tag, compare, export, test."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from yolo_studio.training import registry
from yolo_studio.ui import plot_style

COLUMNS = ("model", "in use as", "task", "imgsz", "mAP50", "mAP50-95", "precision", "recall", "dataset", "tags",
           "source run", "created")


class RegistryTab(QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    predict_requested = QtCore.Signal(str)  # weights file
    export_requested = QtCore.Signal(str)  # weights file

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.entries: list = []
        self.filter = QtWidgets.QLineEdit(placeholderText="Filter by name or tag…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self.refresh)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._draw_comparison)
        self.tag_button = QtWidgets.QPushButton("Tags…", clicked=self.tag_dialog)
        self.export_button = QtWidgets.QPushButton("Export…", clicked=lambda: self._emit(self.export_requested))
        self.predict_button = QtWidgets.QPushButton("Test in Inference",
                                                    clicked=lambda: self._emit(self.predict_requested))
        self.promote_button = QtWidgets.QPushButton("Promote to production", clicked=self.promote,
                                                    toolTip="The bare name and the Inference tab use this version")
        self.rollback_button = QtWidgets.QPushButton("Roll back", clicked=self.roll_back,
                                                     toolTip="Give production back to the version it held before")
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.filter, 1)
        for b in (QtWidgets.QPushButton("Refresh", clicked=self.refresh), self.tag_button, self.promote_button,
                  self.rollback_button, self.predict_button, self.export_button):
            bar.addWidget(b)
        plot_style.apply()
        self.chart = pg.PlotWidget(title="selected versions")
        self.chart.showGrid(y=True, alpha=0.2)
        self.chart.addLegend(offset=(-5, 5))
        self.chart.setMaximumHeight(260)
        self.empty = QtWidgets.QLabel("No registered models yet: in the Runs tab, select a run and press "
                                      "<b>Register model…</b>", wordWrap=True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.chart)
        self.refresh()

    def refresh(self) -> None:
        wanted = self.filter.text().strip().lower()
        self.entries = [e for e in registry.list_entries(self.project.registry_dir)
                        if not wanted or wanted in e.name.lower() or any(wanted in t.lower() for t in e.tags)]
        self.empty.setVisible(not self.entries and not wanted)
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            m = e.metrics
            values = (e.ref, ", ".join(registry.held_by(e)), e.task, str(e.imgsz), *(_metric(m.get(k)) for k in ("mAP50", "mAP50-95", "precision",
                                                                                  "recall")),
                      e.dataset.get("hash", ""), ", ".join(e.tags), e.source_run.rsplit("/", 1)[-1], e.created[:16])
            for col, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                if col == 8:
                    item.setToolTip(e.dataset.get("path", ""))
                self.table.setItem(row, col, item)
        self._draw_comparison()

    def selected(self) -> list:
        return [self.entries[r] for r in sorted({i.row() for i in self.table.selectedItems()})]

    def _draw_comparison(self) -> None:
        chosen = self.selected()
        for b in (self.tag_button, self.export_button, self.predict_button, self.promote_button):
            b.setEnabled(len(chosen) == 1)
        self.rollback_button.setEnabled(len(chosen) == 1 and bool(registry.aliases(
            self.project.registry_dir, chosen[0].name).get(registry.PRODUCTION, {}).get("before")))
        self.chart.clear()
        if not chosen:
            return
        x = list(range(len(chosen)))
        for offset, key, colour in ((-0.2, "mAP50", "#2f80ed"), (0.2, "mAP50-95", "#27ae60")):
            heights = [e.metrics.get(key) or 0 for e in chosen]
            self.chart.addItem(pg.BarGraphItem(x=[i + offset for i in x], height=heights, width=0.38, brush=colour,
                                               name=key))
        self.chart.getAxis("bottom").setTicks([[(i, e.ref) for i, e in enumerate(chosen)]])

    def promote(self) -> None:
        (entry,) = self.selected()[:1]
        try:
            registry.promote(self.project.registry_dir, entry.ref)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Not promoted", str(exc))
            return
        self.status_message.emit(f"{entry.name}@production is now {entry.ref}")
        self.refresh()

    def roll_back(self) -> None:
        (entry,) = self.selected()[:1]
        try:
            back = registry.roll_back(self.project.registry_dir, entry.name)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Not rolled back", str(exc))
            return
        self.status_message.emit(f"{entry.name}@production is back to {back.ref}")
        self.refresh()

    def tag_dialog(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            return
        text, ok = QtWidgets.QInputDialog.getText(self, "Tags", f"Tags of {chosen[0].ref} (comma separated):",
                                                  text=", ".join(chosen[0].tags))
        if ok:
            self.set_tags(chosen[0], text.split(","))

    def set_tags(self, entry, tags) -> None:
        registry.set_tags(entry, tags)
        self.refresh()

    def register(self, run_path: str, name: str):
        """Register a run's best model; an error is shown, never raised."""
        try:
            entry = registry.register(self.project.registry_dir, run_path, name)
        except (ValueError, OSError) as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot register the model", str(exc))
            return None
        self.status_message.emit(f"Registered {entry.ref}")
        self.refresh()
        return entry

    def _emit(self, signal) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            signal.emit(str(chosen[0].weights))


def _metric(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "–"
