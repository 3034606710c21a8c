"""The live monitor of a run: plots, progress, log and summary, fed by plain event dicts."""

from __future__ import annotations

import re
from html import escape as html_escape

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.training.events import epoch_history, metric_group, metric_keys
from yolo_studio.ui import plot_style
from yolo_studio.ui.layout import column

COLUMNS = 4
COLOURS = ("#2f80ed", "#eb5757", "#27ae60", "#9b51e0", "#f2994a", "#56ccf2", "#bb6bd9", "#6fcf97")
MAX_LOG_BLOCKS = 20_000
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and line clears in Ultralytics' output


class MonitorPanel(QtWidgets.QWidget):
    """Curves are created once and only get ``setData``; events may arrive in any batch size."""

    def __init__(self, parent=None):
        super().__init__(parent)
        plot_style.apply()
        self.plots = pg.GraphicsLayoutWidget()
        self.curves: dict = {}  # metric key -> PlotDataItem, created when the run first reports the key
        self.groups: dict = {}  # plot title -> (PlotItem, [(label, colour, dashed)])
        self._plot_count = 0
        self.memory_plot = self._add_plot("memory (GB)")
        self.memory_curve = self.memory_plot.plot([], [], pen=pg.mkPen("#888", width=1.5))
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

    def _add_plot(self, title: str):
        count, self._plot_count = self._plot_count, self._plot_count + 1
        plot = plot_style.epoch_plot(self.plots, row=count // COLUMNS, col=count % COLUMNS, title=title)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setDownsampling(mode="peak")
        plot.setClipToView(True)
        plot.getViewBox().setLimits(yMin=0)  # losses, metrics and rates are never negative: all zeros stay at 0
        return plot

    def _curve(self, key: str):
        """The curve of ``key``, made (with its plot) the first time the run reports it. The legend is the
        plot's title, in the curves' colours, so it never covers them."""
        if key in self.curves:
            return self.curves[key]
        title, label, dashed = metric_group(key)
        if title not in self.groups:
            self.groups[title] = (self._add_plot(title), [])
        plot, legend = self.groups[title]
        colour = COLOURS[len(legend) % len(COLOURS)]
        legend.append((label, colour, dashed))
        pen = pg.mkPen(colour, width=2, style=QtCore.Qt.DashLine if dashed else QtCore.Qt.SolidLine)
        self.curves[key] = plot.plot([], [], pen=pen, name=label, symbol="o", symbolSize=4, symbolBrush=colour,
                                     symbolPen=None)
        names = " ".join(f"<span style='color:{c}'>{'- - ' if d else '— '}{html_escape(n)}</span>"
                         for n, c, d in legend)
        plot.setTitle(f"{html_escape(title)}&nbsp;&nbsp;<small>{names}</small>")
        return self.curves[key]

    def reset(self) -> None:
        """Empty for the next run: its plots are those of the keys it reports (a classify run after a
        segment one shows no mask losses)."""
        self.events: list = []
        self.memory: tuple = ([], [])  # (fractional epoch, GB) from batch progress
        for plot, _legend in self.groups.values():
            self.plots.removeItem(plot)
        self.groups, self.curves, self._plot_count = {}, {}, 1  # the memory plot stays first
        self.memory_curve.setData([], [])
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
            elif kind == "trial_end":  # a tuning: its trials are its progress (the Tune page has the rest)
                self._show_trial(event)
            elif kind in ("run_end", "error", "killed"):
                self._show_summary(event)
            elif kind == "run_start":
                self.summary.hide()
                self.progress_label.setText("resuming…" if event.get("resumed") else "starting…")

    def _redraw_curves(self) -> None:
        history = epoch_history(self.events)
        epochs = [e["epoch"] for e in history]
        for key in metric_keys(history):
            self._curve(key)
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

    def _show_trial(self, e: dict) -> None:
        self.progress.setRange(0, max(e["iterations"], 1))
        self.progress.setValue(e["trial"])
        fitness = f" · fitness {e['fitness']:.4f}" if e.get("fitness") is not None else ""
        self.progress_label.setText(f"trial {e['trial']}/{e['iterations']} {e.get('status', 'done')}{fitness}")

    def _tuning_summary(self, e: dict) -> str:
        done = sum(1 for event in self.events if event["type"] == "trial_end")
        planned = next((event["iterations"] for event in reversed(self.events) if event["type"] == "trial_end"), done)
        title = {"completed": "Tuning completed", "stopped": "Tuning stopped (Resume runs the trials left)"}.get(
            e["status"], f"Tuning {e['status']}")
        best = (f"; best: trial {e['best_trial']}, fitness {e['best_fitness']:.4f} (Apply best on the Tune page)"
                if e.get("best_trial") is not None and e.get("best_fitness") is not None else "")
        return f"<b>{title}</b> after {done} of {planned} trials{best}"

    def _show_summary(self, e: dict) -> None:
        history = epoch_history(self.events)
        best = max(history, key=lambda h: h.get("fitness") or 0, default=None)
        lines = []
        if e["type"] == "run_end" and e.get("kind") == "tune":
            lines.append(self._tuning_summary(e))
        elif e["type"] == "run_end":
            title = {"completed": "Run completed", "stopped": "Run stopped (resumable)"}.get(e["status"], e["status"])
            lines.append(f"<b>{title}</b> after {e.get('epochs_done')} of {e.get('epochs')} epochs")
        elif e["type"] == "error":
            lines.append(f"<b style='color:#c0392b'>Run failed:</b> {e['message']}")
        else:
            lines.append("<b style='color:#c0392b'>Run killed</b> (resume continues from the last saved epoch)")
        if best is not None:  # the run's own quality metrics, whatever its task
            shown = [(k.split("/", 1)[1], v) for k, v in best["metrics"].items()
                     if k.startswith("metrics/") and v is not None][:6]
            lines.append(f"best epoch {best['epoch']}: " + " · ".join(f"{k} {v:.3f}" for k, v in shown))
        if e.get("best"):
            lines.append(f"weights: {e['best']}")
        self.summary.setText("<br>".join(lines))
        self.summary.show()
        if e["type"] == "run_end" and e["status"] == "completed":
            self.progress.setValue(self.progress.maximum())
            self.progress_label.setText("done")
        else:  # stopped, failed or killed: no ETA for a run that is not running
            self.progress_label.setText(re.sub(r" · ETA [^·]*$", "", self.progress_label.text()) +
                                        {"run_end": " · stopped", "error": " · failed"}.get(e["type"], " · killed"))

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
