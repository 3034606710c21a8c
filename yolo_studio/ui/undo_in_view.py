"""Edit > Undo and Redo (and the toolbar's) act on the tab in view, as Save does.

The Model tab undoes on its document's ``QUndoStack``; the Modules tab on the block editor's own undo
(Scintilla's); the other tabs have nothing to undo, and the actions say so by being disabled. Before,
the toolbar's Undo on the Modules tab undid the model hidden in the other tab.
"""

from __future__ import annotations

import shiboken6
from PySide6 import QtCore, QtGui

from yolo_studio.ui.help import show_shortcut_in_tooltip


class UndoInView(QtCore.QObject):
    """Owns the window's Undo and Redo actions and points them at the tab in view."""

    def __init__(self, window, model_tab, modules_tab):
        super().__init__(window)
        self.window, self.model_tab, self.modules_tab = window, model_tab, modules_tab
        self.undo = QtGui.QAction("&Undo", window)
        self.undo.setShortcut(QtGui.QKeySequence.Undo)
        self.redo = QtGui.QAction("&Redo", window)
        # both spellings, each once: QKeySequence.Redo *is* Ctrl+Shift+Z on Linux desktops, and an action
        # holding a key twice makes Qt drop it as an "ambiguous shortcut overload"
        self.redo.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])
        self.undo.triggered.connect(lambda: self._act("undo"))
        self.redo.triggered.connect(lambda: self._act("redo"))
        stack = model_tab.undo_stack
        for signal in (stack.indexChanged, stack.cleanChanged, stack.canUndoChanged, stack.canRedoChanged):
            signal.connect(self.follow)
        modules_tab.editor.modified.connect(self.follow)  # Scintilla: any change of text or undo state
        window.tabs.currentChanged.connect(self.follow)
        self.follow()

    def _in_view(self) -> str | None:
        current = self.window.tabs.currentWidget()
        return "model" if current is self.model_tab else "modules" if current is self.modules_tab else None

    def _act(self, what: str) -> None:
        where = self._in_view()
        if where == "model":
            getattr(self.model_tab.undo_stack, what)()
        elif where == "modules":
            getattr(self.modules_tab.editor, what)()
        self.follow()

    def follow(self, *_args) -> None:
        """Enable and name the actions after what the tab in view would undo or redo."""
        if not all(shiboken6.isValid(o) for o in (self, self.window.tabs, self.undo, self.redo)):
            return  # the window is being torn down
        where = self._in_view()
        if where == "model":
            stack = self.model_tab.undo_stack
            states = ((stack.canUndo(), stack.undoText()), (stack.canRedo(), stack.redoText()))
        elif where == "modules":
            editor = self.modules_tab.editor
            states = ((editor.canUndo(), "typing in the block editor"),
                      (editor.canRedo(), "typing in the block editor"))
        else:
            states = ((False, ""), (False, ""))
        for action, word, (enabled, text) in ((self.undo, "Undo", states[0]), (self.redo, "Redo", states[1])):
            action.setEnabled(enabled)
            action.setText(f"&{word} {text}".rstrip() if enabled else f"&{word}")
            show_shortcut_in_tooltip(action)  # "Undo Insert Conv at 3 (Ctrl+Z)"
