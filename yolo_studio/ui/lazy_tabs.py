"""Tabs built the first time they are shown: a placeholder until then (their imports can be slow)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class LazyTabs(QtCore.QObject):
    """Owns the lazily built tabs of a QTabWidget; ``built`` is emitted with (name, widget)."""

    built = QtCore.Signal(str, object)

    def __init__(self, tabs: QtWidgets.QTabWidget):
        super().__init__(tabs)
        self.tabs = tabs
        self.factories: dict = {}
        self.widgets: dict = {}
        tabs.currentChanged.connect(self._on_tabs_current_changed)

    def add(self, name: str, factory) -> None:
        self.factories[name] = factory
        self.tabs.addTab(QtWidgets.QWidget(), name)

    def get(self, name: str):
        """The tab's widget, built now if it was not yet."""
        if name in self.widgets:
            return self.widgets[name]
        index = next(i for i in range(self.tabs.count()) if self.tabs.tabText(i) == name)
        widget = self.factories[name]()
        self.widgets[name] = widget
        blocker = QtCore.QSignalBlocker(self.tabs)
        current = self.tabs.currentIndex()
        placeholder = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, name)
        self.tabs.setCurrentIndex(current)
        del blocker
        placeholder.deleteLater()
        self.built.emit(name, widget)
        return widget

    def show(self, name: str):
        widget = self.get(name)
        self.tabs.setCurrentWidget(widget)
        return widget

    def _on_tabs_current_changed(self, index: int) -> None:
        name = self.tabs.tabText(index)
        if name in self.factories and name not in self.widgets:
            self.show(name)
