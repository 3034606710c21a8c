"""Autosave of unsaved edits every few seconds, and the offer to restore them after a crash."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import StudioError
from yolo_studio.core.project.recovery import RecoveryArea

AUTOSAVE_MS = 5000


class Autosaver(QtCore.QObject):
    """Writes the text of every document of the window's register to the recovery area while it has
    unsaved changes; removes them once saved, and when the studio closes normally."""

    def __init__(self, window, interval_ms: int = AUTOSAVE_MS, area: RecoveryArea | None = None):
        super().__init__(window)
        self.window = window
        self.area = area or RecoveryArea()
        self.untitled = f"{os.getpid()}-{id(window)}"
        self.written: dict = {}  # key -> the text last written (unchanged text is not written again)
        self.timer = QtCore.QTimer(self, interval=interval_ms, timeout=self.save_now)
        self.timer.start()

    def save_now(self) -> None:
        current = {}
        for document in self.window.documents.unsaved():
            kind, path = document.kind, document.file()
            current[self.area.key_for(kind, path, self.untitled)] = (kind, path, document.text())
        for key, (kind, path, text) in current.items():
            if self.written.get(key) != text:
                self.area.save(key, kind, path, text)
        for key in self.written.keys() - current.keys():  # saved since, or another file opened
            self.area.clear(key)
        self.written = {key: text for key, (_kind, _path, text) in current.items()}

    def clear_all(self) -> None:
        self.timer.stop()
        for key in self.written:
            self.area.clear(key)
        self.written = {}


def offer_recovery(window, area: RecoveryArea | None = None) -> list:
    """Ask whether to restore what a crashed session left; returns the restored entries."""
    area = area or RecoveryArea()
    entries = area.orphaned()
    if not entries:
        return []
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, "Restore unsaved work?",
                                "A previous session ended without saving these:\n\n" +
                                "\n".join(f"• {e.describe()}" for e in entries), parent=window)
    restore = box.addButton("Restore", QtWidgets.QMessageBox.AcceptRole)
    discard = box.addButton("Discard", QtWidgets.QMessageBox.DestructiveRole)
    box.addButton("Later", QtWidgets.QMessageBox.RejectRole)
    box.setDefaultButton(restore)
    box.setInformativeText("Restored work opens with its unsaved changes; save it to keep it.")
    box.exec()
    if box.clickedButton() is discard:
        for entry in entries:
            area.discard(entry)
        return []
    if box.clickedButton() is not restore:
        return []
    restored = []
    for entry in entries:
        if _restore(window, entry):
            area.discard(entry)  # this session autosaves it again while it is unsaved
            restored.append(entry)
    return restored


def _restore(window, entry) -> bool:
    if entry.kind == "model":
        try:
            doc = ModelDocument.from_text(entry.text, Path(entry.path).name if entry.path else "untitled.yaml")
        except StudioError:  # text typed in the YAML pane that did not parse yet: it goes back there
            return _restore_unparsed(window, entry)
        doc.path = Path(entry.path) if entry.path else None
        window.model_tab.open_document(doc)
        window.model_tab.undo_stack.resetClean()  # unsaved: the title shows it, closing asks
        window.update_title()
        return True
    if entry.kind == "block" and entry.path:
        modules = window.modules_tab
        if Path(entry.path).is_file():
            modules.open_file(entry.path, ask=False)
        else:
            modules.path = Path(entry.path)
        modules.editor.setText(entry.text)  # modified: Save writes it
        return True
    return False


def _restore_unparsed(window, entry) -> bool:
    """Model text that does not parse (it was in the YAML pane): open the file it belongs to, or the
    first template if it was never saved, and put the text back in the pane, its error on its line."""
    from yolo_studio.ui.templates import template_files

    path = Path(entry.path) if entry.path else None
    try:
        doc = ModelDocument.load(path) if path and path.is_file() else None
    except StudioError:
        doc = None
    if doc is None:
        template = next(iter(template_files().values()))[0]
        doc = ModelDocument.from_text(template.read_text(encoding="utf-8"), path.name if path else "untitled.yaml")
        doc.path = path
    tab = window.model_tab
    tab.open_document(doc)
    tab.type_yaml(entry.text)
    window.tabs.setCurrentWidget(tab)
    window.update_title()
    return True
