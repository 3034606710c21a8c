"""The Module Designer's check results: one row per block, its whole message readable below the list, and
what the open model says of the file's blocks.

A block that cannot be built alone on the check's generic channels is a warning (a helper such as the
``ChannelAttention`` inside a ``CBAM`` is only built by the block that uses it). A block that fails on the
channels a row of the open model gives it is an error: the model's inspection builds it for real, and
``show_model_problem`` puts that failure first, in red, with the layer and the whole message.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

ERROR = QtGui.QColor(230, 90, 90)
WARNING = QtGui.QColor(230, 170, 60)


class CheckResultsPanel(QtWidgets.QWidget):
    """The results tree and a read-only pane with the selected row's whole text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.results = QtWidgets.QTreeWidget()
        self.results.setHeaderLabels(["block", "result"])
        self.results.setColumnWidth(0, 110)
        self.results.setWordWrap(True)
        self.results.currentItemChanged.connect(self._on_results_current_item_changed)
        self.details = QtWidgets.QPlainTextEdit(readOnly=True)
        self.details.setPlaceholderText("Select a result to read all of it")
        self.details.setMaximumHeight(140)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.details)
        self.model_item = None  # the row saying what the open model makes of this file's blocks

    def clear(self) -> None:
        self.results.clear()
        self.details.clear()
        self.model_item = None

    def add(self, name: str, text: str, full: str | None = None, colour=None, parent=None):
        item = QtWidgets.QTreeWidgetItem(parent or self.results, [name, text])
        item.setToolTip(1, full or text)
        item.setData(1, QtCore.Qt.UserRole, full or text)
        if colour is not None:
            item.setForeground(1, colour)
        if parent is not None:
            parent.setExpanded(True)
        return item

    def show_result(self, result: dict) -> None:
        """A block check's result (``core/blocks/block_check``)."""
        self.clear()
        if result.get("error"):
            self.add("file", result["error"]["message"], colour=ERROR)
        for b in result.get("blocks", []):
            if b["ok"]:
                text = f"ok · {b['rule']} · out {'×'.join(map(str, b['out_shape']))} · {b['params']:,} p · {b['ms']} ms"
                item = self.add(b["name"], text)
            else:
                used = f" · used inside {b['helper']}" if b.get("helper") else ""
                text = f"not built alone{used} · {b['error']['where']}: {b['error']['message']}"
                item = self.add(b["name"], text, text + "\n\nOn the check's own channels (32 in). A model row gives "
                                "it its real channels: see the Model tab, or the row below once a model uses it.",
                                WARNING)
            if "onnx" in b:
                found = b["onnx"]
                summary = ("ok: " + found["message"] if found["ok"] else
                           "unsupported: " + ", ".join(found["unsupported"]) if found["unsupported"] else
                           found["message"])
                self.add("onnx", summary, found["message"], parent=item)
            for problem in b.get("training") or ():
                self.add(problem["when"], f"{problem['message']} · {problem['advice']}",
                         f"{problem['message']}\n{problem['advice']}", WARNING, parent=item)
        if self.results.topLevelItemCount():
            self.results.setCurrentItem(self.results.topLevelItem(0))

    def show_model_problem(self, problem: dict | None, classes: list) -> str | None:
        """What the open model says of this file's ``classes``: an error row first when a layer using one of
        them fails to build, else nothing. Returns the row's text (for the status line), or None."""
        if self.model_item is not None:
            index = self.results.indexOfTopLevelItem(self.model_item)
            if index >= 0:
                self.results.takeTopLevelItem(index)
            self.model_item = None
        if not problem or problem["module"] not in classes:
            return None
        text = (f"error in {problem['model']}: layer {problem['layer']} ({problem['module']}) fails on the "
                f"channels its row gives it: {problem['message']}")
        item = QtWidgets.QTreeWidgetItem([problem["module"], text])
        item.setForeground(1, ERROR)
        item.setToolTip(1, text)
        item.setData(1, QtCore.Qt.UserRole, text + "\n\nFix the block so that its forward works for those "
                                                   "channels, or change the row's arguments in the Model tab.")
        self.results.insertTopLevelItem(0, item)
        self.model_item = item
        self.results.setCurrentItem(item)
        return text

    def _on_results_current_item_changed(self, item, _previous) -> None:
        self.details.setPlainText(item.data(1, QtCore.Qt.UserRole) or item.text(1) if item is not None else "")
