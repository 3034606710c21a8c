"""One look for every pyqtgraph plot of the studio, following the application's theme (a dark
background under the dark palette, white under the light one), no antialiasing (live plots redraw
often). Call ``apply()`` before creating plots; it is cheap to call again."""

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets


def apply() -> None:
    app = QtWidgets.QApplication.instance()
    dark = app is not None and app.palette().color(QtGui.QPalette.Window).lightness() < 128
    pg.setConfigOptions(antialias=False, background="#1e1f22" if dark else "w", foreground="#c8c8c8" if dark else "#333")


class EpochAxis(pg.AxisItem):
    """An x axis of epochs: whole numbers only (a run of two epochs had ticks 1.1 to 1.9), never scaled
    by an SI prefix (one epoch of batch points read "epoch (x0.001)")."""

    def __init__(self, *args, **kwargs):
        super().__init__("bottom", *args, **kwargs)
        self.enableAutoSIPrefix(False)
        self.setLabel("epoch")

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                spacing, values = 1, [float(v) for v in range(int(minVal), int(maxVal) + 1)]
            values = [v for v in values if float(v).is_integer() and v >= 0]  # no epoch before the first
            if values and all(values != kept for _, kept in levels):
                levels.append((spacing, values))
        return levels[:2]


def epoch_plot(parent_layout=None, **kwargs):
    """A plot (in ``parent_layout``, a GraphicsLayoutWidget, if given; else a PlotWidget) whose x axis
    counts epochs."""
    axis = {"bottom": EpochAxis()}
    plot = parent_layout.addPlot(axisItems=axis, **kwargs) if parent_layout is not None else \
        pg.PlotWidget(axisItems=axis, **kwargs)
    # one epoch is one point: auto-range centred it on 1 and the axis went below 0 ("-1 epochs")
    (plot.getViewBox() if hasattr(plot, "getViewBox") else plot.getPlotItem().getViewBox()).setLimits(xMin=0)
    return plot
