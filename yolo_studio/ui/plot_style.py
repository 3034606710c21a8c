"""One look for every pyqtgraph plot of the studio, following the application's theme (a dark
background under the dark palette, white under the light one), no antialiasing (live plots redraw
often). Call ``apply()`` before creating plots; it is cheap to call again."""

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets


def apply() -> None:
    app = QtWidgets.QApplication.instance()
    dark = app is not None and app.palette().color(QtGui.QPalette.Window).lightness() < 128
    pg.setConfigOptions(antialias=False, background="#1e1f22" if dark else "w", foreground="#c8c8c8" if dark else "#333")
