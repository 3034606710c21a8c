"""The Model Designer's YAML pane as an editor: typed text applies as one undoable edit when it parses,
stays (marked on its line, listed in the problems) while it does not, and never silently replaces a
change the model got meanwhile (an undo, a canvas edit)."""

from __future__ import annotations

from PySide6 import QtWidgets


class YamlEditingMixin:
    """Part of ``ModelDesignerTab``: its ``yaml_pane``, ``doc``, ``apply`` and problem list."""

    def type_yaml(self, text: str) -> None:
        """Put ``text`` in the YAML pane as if typed there, and offer it now: it applies if it parses,
        else it stays in the pane with its error on its line (recovered text that never parsed)."""
        self.right_tabs.setCurrentWidget(self.yaml_pane)
        self.yaml_pane.setPlainText(text)
        self.yaml_pane.flush()

    def _on_yaml_pane_text_edited(self, text: str) -> None:
        """The YAML typed by hand: one undoable edit when it parses; else its error on its line."""
        from yolo_studio.core.errors import ModelYamlError

        current = self.doc.to_yaml()
        if text == current:
            self.yaml_pane.clear_error()
            self._show_problems()
            return
        try:
            edit = self.doc.replace_text(text)
        except ModelYamlError as exc:
            self.yaml_pane.show_error(exc.line, f"{exc.message}\n{exc.hint or ''}".strip())
            self.status_message.emit(f"YAML line {exc.line}: {exc.message}" if exc.line else f"YAML: {exc.message}")
            self._yaml_problem = (exc.line, exc.message)
            self._show_problems()
            return
        if self.yaml_pane.shown_text and self.yaml_pane.shown_text != current and not self._confirm_stale_yaml():
            self.doc.restore(edit.before)  # the model as it is now wins; the pane shows it again
            self._drop_yaml_text()
            return
        self._yaml_problem = None
        self.yaml_pane.clear_error()
        self.apply(edit)

    def _confirm_stale_yaml(self) -> bool:
        """The model changed (an undo, a canvas edit) while the YAML pane held text not applied yet:
        applying that text would silently replace the change. The user decides."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, "The model changed while you typed",
                                    "The model changed (an undo, or an edit on the canvas) while the YAML pane "
                                    "held text that was not applied yet. Applying your text replaces that change.",
                                    parent=self)
        apply = box.addButton("Apply my YAML", QtWidgets.QMessageBox.AcceptRole)
        box.addButton("Keep the model, drop my YAML", QtWidgets.QMessageBox.RejectRole)
        box.setDefaultButton(apply)
        box.exec()
        return box.clickedButton() is apply

    def _drop_yaml_text(self) -> None:
        self._yaml_problem = None
        self.yaml_pane.clear_error()
        self.yaml_pane.shown_text = ""
        self._show_yaml()
        self._show_problems()
