"""One look for every pyqtgraph plot of the studio: white background, dark axes, no antialiasing
(live plots redraw often). Call ``apply()`` before creating plots; it is cheap to call again."""

import pyqtgraph as pg


def apply() -> None:
    pg.setConfigOptions(antialias=False, background="w", foreground="#333")
