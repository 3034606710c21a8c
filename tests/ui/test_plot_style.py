"""The epoch axis every training plot uses."""

from PySide6 import QtWidgets


def test_a_one_epoch_plot_shows_no_epoch_before_the_first(qtbot):
    from yolo_studio.ui import plot_style

    plot_style.apply()
    widget = plot_style.epoch_plot()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.plot([1], [0.5])
    widget.show()
    QtWidgets.QApplication.processEvents()
    view = widget.getPlotItem().getViewBox()
    view.setXRange(-2, 2, padding=0)  # as far left as a user can pan
    QtWidgets.QApplication.processEvents()
    low, high = view.viewRange()[0]
    assert low >= 0
    ticks = widget.getPlotItem().getAxis("bottom").tickValues(-2, 2, 400)
    assert all(v >= 0 for _spacing, values in ticks for v in values)
