"""Shapes every tab repeats: a column of parts, a row of them, parts side by side in a splitter,
severity icons."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def column(*items, on: QtWidgets.QWidget | None = None, margin: int = 0) -> QtWidgets.QWidget:
    """A widget (``on``, or a new one) laid out as a vertical column of ``items``: widgets, layouts,
    or (widget, stretch) pairs."""
    widget = on if on is not None else QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(widget)
    layout.setContentsMargins(margin, margin, margin, margin)
    for item in items:
        if isinstance(item, tuple):
            layout.addWidget(*item)
        elif isinstance(item, QtWidgets.QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    return widget


def row(*widgets, stretch: bool = False) -> QtWidgets.QWidget:
    """Widgets side by side: the first takes the room, or (``stretch``) all stay left."""
    box = QtWidgets.QWidget()
    layout = QtWidgets.QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if i == 0 and not stretch else 0)
    if stretch:
        layout.addStretch(1)
    return box


def splitter(*widgets, sizes: list, vertical: bool = False) -> QtWidgets.QSplitter:
    """``widgets`` side by side (or stacked) with a handle between each, starting at ``sizes``."""
    split = QtWidgets.QSplitter(QtCore.Qt.Vertical if vertical else QtCore.Qt.Horizontal)
    for widget in widgets:
        split.addWidget(widget)
    split.setSizes(sizes)
    return split


_SEVERITY_PIXMAPS = {"error": QtWidgets.QStyle.SP_MessageBoxCritical, "warning": QtWidgets.QStyle.SP_MessageBoxWarning,
                     "ok": QtWidgets.QStyle.SP_DialogApplyButton, "info": QtWidgets.QStyle.SP_MessageBoxInformation}


def severity_icon(widget: QtWidgets.QWidget, severity: str):
    """The style's own icon for error / warning / ok / info: an emoji such as a no-entry sign is an
    empty box on Linux desktops whose fonts lack it."""
    return widget.style().standardIcon(_SEVERITY_PIXMAPS.get(severity, QtWidgets.QStyle.SP_MessageBoxWarning))
