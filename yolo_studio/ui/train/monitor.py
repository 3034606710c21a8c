"""The live monitor of a run: plots, progress, log and summary, fed by plain event dicts."""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.training.events import epoch_history
from yolo_studio.ui import plot_style
from yolo_studio.ui.layout import column

LOSSES = ("box_loss", "cls_loss", "dfl_loss")
PLOTS = {  # title -> [(metric key, label, pen colour, dashed)]
    "mAP": [("metrics/mAP50(B)", "mAP50", "#2f80ed", False), ("metrics/mAP50-95(B)", "mAP50-95", "#27ae60", False)],
    "precision / recall": [("metrics/precision(B)", "P", "#9b51e0", False), ("metrics/recall(B)", "R", "#f2994a", False)],
    "learning rate": [("lr/pg0", "lr pg0", "#eb5757", False)],
}  # and a memory plot (GB on the device; the training process's RAM on CPU) from batch progress
MAX_LOG_BLOCKS = 20_000
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and line clears in Ultralytics' output


class MonitorPanel(QtWidgets.QWidget):
    """Curves are created once and only get ``setData``; events may arrive in any batch size."""

    def __init__(self, parent=None):
        super().__init__(parent)
        plot_style.apply()
        self.plots = pg.GraphicsLayoutWidget()
        self.curves: dict = {}  # metric key -> PlotDataItem
        titles = list(LOSSES) + list(PLOTS)
        for i, title in enumerate(titles):
            plot = self.plots.addPlot(row=i // 4, col=i % 4, title=title)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setDownsampling(mode="peak")
            plot.setClipToView(True)
            plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
            plot.setLabel("bottom", "epoch")
            series = ([(f"train/{title}", "train", "#2f80ed", False), (f"val/{title}", "val", "#eb5757", True)]
                      if title in LOSSES else PLOTS[title])
            for key, label, colour, dashed in series:
                pen = pg.mkPen(colour, width=2, style=QtCore.Qt.DashLine if dashed else QtCore.Qt.SolidLine)
                self.curves[key] = plot.plot([], [], pen=pen, name=label, symbol="o", symbolSize=4,
                                             symbolBrush=colour, symbolPen=None)
        memory = self.plots.addPlot(row=1, col=2, title="memory (GB)")
        memory.showGrid(x=True, y=True, alpha=0.2)
        memory.setDownsampling(mode="peak")
        memory.setClipToView(True)
        memory.setLabel("bottom", "epoch")
        self.memory_curve = memory.plot([], [], pen=pg.mkPen("#555", width=1.5))
        self.progress = QtWidgets.QProgressBar(textVisible=True)
        self.progress_label = QtWidgets.QLabel("No run")
        self.summary = QtWidgets.QLabel(wordWrap=True, textFormat=QtCore.Qt.RichText)
        self.summary.setFrameShape(QtWidgets.QFrame.StyledPanel)
        self.summary.setMargin(8)
        self.summary.hide()
        self.log_view = QtWidgets.QPlainTextEdit(readOnly=True, maximumBlockCount=MAX_LOG_BLOCKS)
        self.log_view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.log_view.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.log_search = QtWidgets.QLineEdit(placeholderText="Search the log…", clearButtonEnabled=True)
        self.log_search.returnPressed.connect(self._on_log_search_return_pressed)
        self.follow = QtWidgets.QCheckBox("Auto-scroll", checked=True)
        log_bar = QtWidgets.QHBoxLayout()
        log_bar.addWidget(self.log_search, 1)
        log_bar.addWidget(self.follow)
        log_box = column(log_bar, self.log_view)
        split = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        split.addWidget(self.plots)
        split.addWidget(log_box)
        split.setSizes([520, 200])
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QtWidgets.QHBoxLayout()
        self.progress.setMaximumWidth(420)
        top.addWidget(self.progress)
        top.addWidget(self.progress_label, 1)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.reset()

    def reset(self) -> None:
        self.events: list = []
        self.memory: tuple = ([], [])  # (fractional epoch, GB) from batch progress
        for curve in (*self.curves.values(), self.memory_curve):
            curve.setData([], [])
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText("No run")
        self.summary.hide()
        self.log_view.clear()

    # ------------------------------------------------------------------ events

    def add_events(self, events: list) -> None:
        self.events.extend(events)
        if any(e["type"] == "epoch_end" for e in events):
            self._redraw_curves()
        batches = [e for e in events if e["type"] == "batch" and e.get("memory_gb") is not None]
        if batches:
            for e in batches:
                self.memory[0].append(e["epoch"] - 1 + e["batch"] / max(e["batches"], 1))
                self.memory[1].append(e["memory_gb"])
            self.memory_curve.setData(*self.memory)
        for event in events:
            kind = event["type"]
            if kind == "batch":
                self._show_batch(event)
            elif kind == "epoch_end":
                self._show_epoch(event)
            elif kind in ("run_end", "error", "killed"):
                self._show_summary(event)
            elif kind == "run_start":
                self.summary.hide()
                self.progress_label.setText("resuming…" if event.get("resumed") else "starting…")

    def _redraw_curves(self) -> None:
        history = epoch_history(self.events)
        epochs = [e["epoch"] for e in history]
        for key, curve in self.curves.items():
            points = [(x, e["metrics"].get(key)) for x, e in zip(epochs, history) if e["metrics"].get(key) is not None]
            curve.setData([p[0] for p in points], [p[1] for p in points])

    def _show_batch(self, e: dict) -> None:
        total = e["epochs"] * e["batches"]
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue((e["epoch"] - 1) * e["batches"] + e["batch"])
        memory = f" · {e['memory_gb']:.2f} GB" if e.get("memory_gb") else ""
        self.progress_label.setText(f"epoch {e['epoch']}/{e['epochs']} · batch {e['batch']}/{e['batches']}{memory}")

    def _show_epoch(self, e: dict) -> None:
        self.progress.setRange(0, max(e["epochs"], 1) * 1000)
        self.progress.setValue(e["epoch"] * 1000)
        self.progress_label.setText(f"epoch {e['epoch']}/{e['epochs']} done · {e['epoch_time']:.1f} s/epoch · "
                                    f"ETA {duration_text(e['eta'])}")

    def _show_summary(self, e: dict) -> None:
        history = epoch_history(self.events)
        best = max(history, key=lambda h: h.get("fitness") or 0, default=None)
        lines = []
        if e["type"] == "run_end":
            title = {"completed": "Run completed", "stopped": "Run stopped (resumable)"}.get(e["status"], e["status"])
            lines.append(f"<b>{title}</b> after {e.get('epochs_done')} of {e.get('epochs')} epochs")
        elif e["type"] == "error":
            lines.append(f"<b style='color:#c0392b'>Run failed:</b> {e['message']}")
        else:
            lines.append("<b style='color:#c0392b'>Run killed</b> (resume continues from the last saved epoch)")
        if best is not None:
            m = best["metrics"]
            lines.append(f"best epoch {best['epoch']}: mAP50 {m.get('metrics/mAP50(B)') or 0:.3f} · mAP50-95 "
                         f"{m.get('metrics/mAP50-95(B)') or 0:.3f} · P {m.get('metrics/precision(B)') or 0:.3f} · "
                         f"R {m.get('metrics/recall(B)') or 0:.3f}")
        if e.get("best"):
            lines.append(f"weights: {e['best']}")
        self.summary.setText("<br>".join(lines))
        self.summary.show()
        if e["type"] == "run_end" and e["status"] == "completed":
            self.progress.setValue(self.progress.maximum())
            self.progress_label.setText("done")

    # ------------------------------------------------------------------ log

    def append_log(self, text: str) -> None:
        cursor = self.log_view.textCursor()
        cursor.movePosition(QtGui.QTextCursor.End)
        cursor.insertText(ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n"))
        if self.follow.isChecked():
            self.log_view.verticalScrollBar().setValue(self.log_view.verticalScrollBar().maximum())

    def _on_log_search_return_pressed(self) -> None:
        text = self.log_search.text()
        if text and not self.log_view.find(text):
            self.log_view.moveCursor(QtGui.QTextCursor.Start)  # wrap around
            self.log_view.find(text)
        self.follow.setChecked(False)


def duration_text(seconds: float) -> str:
    """'4m 05s' or '2h 10m'."""
    seconds = int(seconds or 0)
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m {seconds % 60:02d}s"
