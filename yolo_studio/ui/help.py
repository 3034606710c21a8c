"""The Help menu: About (with the versions that matter for a bug report), the keyboard shortcuts
(read from the window's own actions, so the list cannot go stale), and the documentation, shown
offline from the Markdown files shipped beside the package."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

DOCS = Path(__file__).resolve().parent.parent.parent  # README.md and docs/ (source checkout and bundle)
PACKAGES = ("yolo-studio", "ultralytics", "torch", "torchvision", "PySide6-Essentials", "NodeGraphQt",
            "pyqtgraph", "pyside6-scintilla", "onnxruntime", "ray")


def versions() -> list:
    """(name, version) of the studio and what it runs on, read from package metadata (no imports)."""
    found = [("Python", platform.python_version()), ("Qt", QtCore.qVersion())]
    for name in PACKAGES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return found


def about_text() -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions())
    return (f"<h3>YOLO Studio</h3><p>Design, train and test Ultralytics YOLO models on your own machine, "
            f"offline.</p><table>{rows}</table><p>{platform.system()} {platform.machine()}, "
            f"{sys.executable}</p>")


def action_keys(action: QtGui.QAction) -> tuple:
    """(text without its '&' mnemonics and trailing '…', [keys as the platform writes them])."""
    keys = [k.toString(QtGui.QKeySequence.NativeText) for k in action.shortcuts() if not k.isEmpty()]
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…"), keys


def show_shortcut_in_tooltip(action: QtGui.QAction) -> None:
    """'Save (Ctrl+S)': the tooltip teaches the key."""
    text, keys = action_keys(action)
    tip = f"{text} ({', '.join(keys)})"
    if keys and action.toolTip() != tip:
        action.setToolTip(tip)


class SameAction(QtGui.QAction):
    """Triggers ``action`` under a fixed text, enabled and explained (tooltip) as it is."""

    def __init__(self, text: str, action: QtGui.QAction, parent):
        super().__init__(text, parent)
        self.action = action
        self.triggered.connect(action.trigger)
        action.changed.connect(self.follow)  # a bound slot: disconnected when either is deleted
        self.follow()

    def follow(self) -> None:
        if not (shiboken6.isValid(self) and shiboken6.isValid(self.action)):  # the window is being torn down
            return
        self.setEnabled(self.action.isEnabled())
        self.setToolTip(self.action.toolTip())


def shortcut_rows(window: QtWidgets.QWidget) -> list:
    """(action, keys) of every action of ``window`` that has a key, sorted by action."""
    rows = {}
    for action in window.findChildren(QtGui.QAction):
        text, keys = action_keys(action)
        if keys and text:
            rows.setdefault(text, ", ".join(keys))
    return sorted(rows.items(), key=lambda r: r[0].lower())


def first_run_banner(text: str) -> QtWidgets.QWidget:
    """A strip above the tabs with ``text`` and a button that hides it."""
    banner = QtWidgets.QFrame(objectName="first-run-hint")
    banner.setStyleSheet("#first-run-hint { background: #2d4a6b; } QLabel { color: #f0f4f8; }")
    label = QtWidgets.QLabel(text, wordWrap=True)
    close = QtWidgets.QToolButton(toolTip="Hide this hint", autoRaise=True,
                                  icon=banner.style().standardIcon(QtWidgets.QStyle.SP_TitleBarCloseButton))
    close.clicked.connect(banner.hide)
    row = QtWidgets.QHBoxLayout(banner)
    row.setContentsMargins(10, 6, 6, 6)
    row.addWidget(label, 1)
    row.addWidget(close, 0, QtCore.Qt.AlignTop)
    return banner


def doc_files() -> list:
    """The documentation shipped with the studio: README first, then docs/*.md."""
    files = [DOCS / "README.md"] if (DOCS / "README.md").is_file() else []
    return files + sorted((DOCS / "docs").glob("*.md"))


class ShortcutsDialog(QtWidgets.QDialog):
    def __init__(self, window: QtWidgets.QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QtWidgets.QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["action", "keys"])
        for i, (text, keys) in enumerate(rows):
            self.table.setItem(i, 0, QtWidgets.QTableWidgetItem(text))
            self.table.setItem(i, 1, QtWidgets.QTableWidgetItem(keys))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(QtWidgets.QLabel("In the canvas: Delete removes the selected layers, F frames the model, "
                                          "the wheel zooms, a middle-button drag pans."))
        self.resize(520, 520)


class DocsBrowser(QtWidgets.QTextBrowser):
    """Markdown with its screenshots scaled to the page's width."""

    def loadResource(self, kind, url):
        data = super().loadResource(kind, url)
        if kind == QtGui.QTextDocument.ImageResource and isinstance(data, (QtGui.QImage, QtGui.QPixmap)):
            width = max(self.viewport().width() - 40, 200)
            if data.width() > width:
                return data.scaledToWidth(width, QtCore.Qt.SmoothTransformation)
        if kind == QtGui.QTextDocument.ImageResource and isinstance(data, (bytes, QtCore.QByteArray)):
            image = QtGui.QImage.fromData(data)
            width = max(self.viewport().width() - 40, 200)
            return image.scaledToWidth(width, QtCore.Qt.SmoothTransformation) if image.width() > width else image
        return data


class DocsDialog(QtWidgets.QDialog):
    """README and docs/*.md, rendered from the files on disk: no network, no browser."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("YOLO Studio documentation")
        self.pages = QtWidgets.QListWidget()
        self.view = DocsBrowser()
        self.view.setOpenLinks(False)
        self.view.anchorClicked.connect(self._on_view_anchor_clicked)
        for path in doc_files():
            item = QtWidgets.QListWidgetItem(path.stem)
            item.setData(QtCore.Qt.UserRole, str(path))
            self.pages.addItem(item)
        self.pages.currentItemChanged.connect(lambda item, _prev: item and self.show_file(item.data(QtCore.Qt.UserRole)))
        split = QtWidgets.QSplitter()
        split.addWidget(self.pages)
        split.addWidget(self.view)
        split.setSizes([180, 820])
        QtWidgets.QVBoxLayout(self).addWidget(split)
        self.resize(1100, 760)
        if self.pages.count():
            self.pages.setCurrentRow(0)
        else:
            self.view.setPlainText("The documentation files are not installed with this copy of the studio.")

    def show_file(self, path: str) -> None:
        path = Path(path)
        self.view.setSearchPaths([str(path.parent)])  # images referenced relative to the page
        self.view.setMarkdown(path.read_text(encoding="utf-8"))
        self.current = path

    def _on_view_anchor_clicked(self, url: QtCore.QUrl) -> None:
        target = (self.current.parent / url.path()).resolve() if not url.scheme() else None
        for i in range(self.pages.count()):
            if target is not None and Path(self.pages.item(i).data(QtCore.Qt.UserRole)).resolve() == target:
                self.pages.setCurrentRow(i)
                return
        if url.scheme() in ("http", "https"):
            self.view.append(f"\n(links to the web are not opened here: {url.toString()})")


def shown(dialog):
    """Show a dialog that does not wait for an answer, and return it (callers and tests keep it)."""
    dialog.show()
    return dialog


def ask_to_save(parent, title: str, question: str, save) -> bool:
    """Save / Discard / Cancel for unsaved work; True when the caller may go on (``save()`` succeeded, or
    Discard), False on Cancel or a failed save."""
    answer = QtWidgets.QMessageBox.question(
        parent, title, question,
        QtWidgets.QMessageBox.Save | QtWidgets.QMessageBox.Discard | QtWidgets.QMessageBox.Cancel,
        QtWidgets.QMessageBox.Save)
    if answer == QtWidgets.QMessageBox.Save:
        return bool(save())
    return answer == QtWidgets.QMessageBox.Discard
