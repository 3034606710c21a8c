"""The Train tab's preflight: the plan Start would train, its checks in the list, and the fixes
preflight offers as buttons (applied, then checked again)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from yolo_studio.core.model.model_names import model_file
from yolo_studio.training.preflight import Plan, free_name, preflight
from yolo_studio.training.run_folder import checkpoint_blocks
from yolo_studio.ui.layout import severity_icon


class PreflightMixin:
    """Part of ``TrainDesignerTab`` (which owns the fields, ``checker``, ``checks``, ``fix_bar`` and ``form``)."""

    def plan(self) -> Plan:
        """What Start would train. The register says whether the model has unsaved edits in an editor."""
        model = Path(self.model_path.text())
        if self.model_path.text().strip() and not model.exists():  # yolo11n.yaml: as plain yolo resolves it
            found, note = model_file(self.model_path.text().strip())
            if note:
                model = Path(found)
                self.status_message.emit(f"{note}.")
        unsaved = self.documents.unsaved_edits_to(model) if self.model_path.text() else None
        modules = self.modules_dir
        if model.suffix == ".pt":  # a run's or the registry's checkpoint: its block files travel with it
            modules = checkpoint_blocks(model) or modules
        return Plan(model, Path(self.data_path.text()), self.runs_dir, self.run_name.text().strip(),
                    self.resolved().config, modules, unsaved_in=unsaved.where if unsaved else None,
                    train_saved=unsaved is not None and self._train_saved == (model, unsaved),
                    weights=Path(self.weights_path.text()) if self.weights_path.text().strip() else None,
                    cluster=self.run_on_target(), gpus=self.gpus.value())

    def run_preflight(self, then_start: bool = False) -> None:
        self._start_after_preflight = then_start
        self.preflight_button.setEnabled(False)
        self.start_button.setEnabled(False)
        self._show_checks_text("Checking…")
        self.checker.submit(preflight, self.plan(), self.resolved().problems)

    def _on_checker_done(self, _job: int, result) -> None:
        self.last_preflight = result
        self.preflight_button.setEnabled(True)
        self.checks.clear()
        self._clear_fixes()
        for check in result.checks:
            self.checks.addItem(QtWidgets.QListWidgetItem(severity_icon(self, check.severity),
                                                          f"[{check.topic}] {check.message}"))
            for fix in check.fixes:
                button = QtWidgets.QPushButton(_fix_text(fix), clicked=lambda _=False, f=fix: self.apply_fix(f))
                self.fix_bar.layout().addWidget(button)
        self.fix_bar.layout().addStretch(1)
        self.preflight_done.emit(result)
        start = self._start_after_preflight
        self._start_after_preflight = False
        if start and result.ok:
            self._launch(result.task or "detect")
        else:  # Preflight pressed, or Start refused: the checks are what the user wants to see
            self._tune_settings = None
            self.pages.setCurrentIndex(1)
            if not result.ok:
                self.status_message.emit(f"Not started: {len(result.errors)} preflight error(s)")
        self._update_buttons()

    def _mark_preflight_stale(self, *_args) -> None:
        """A field the checks were about changed: the old checks (and their fix buttons) no longer say
        anything about what Start would train."""
        if self.last_preflight is None or not self.preflight_button.isEnabled() or getattr(self, "_keep_checks", False):
            return  # none shown, one running, or the tab naming the next run after a start
        self.last_preflight = None
        self._clear_fixes()
        self._show_checks_text("The model, dataset or arguments changed since these checks: press Preflight to "
                               "check again (Start checks first anyway).")

    def _name_next_run(self, base: str) -> None:
        """A free name for the next run, once this one started: the checks shown are this run's, not stale."""
        self._keep_checks = True
        try:
            self.run_name.setText(free_name(self.runs_dir, base))
        finally:
            self._keep_checks = False

    def _show_checks_text(self, text: str) -> None:
        self.checks.clear()
        self.checks.addItem(text)
        self.preflight_button.setEnabled(True)
        self._update_buttons()

    def fix_buttons(self) -> list:
        return self.fix_bar.findChildren(QtWidgets.QPushButton)

    def _clear_fixes(self) -> None:
        layout = self.fix_bar.layout()
        while layout.count():
            widget = layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def apply_fix(self, fix: tuple) -> None:
        """Apply one of preflight's fixes, then check again. A fix to a model open in the Model tab is an
        edit of that document (undoable there), never a write to the file behind it."""
        kind, value = fix
        model = Path(self.model_path.text())
        if kind == "set_name":
            self.run_name.setText(value)
        elif kind == "set_arg":
            key, setting = value
            self.form.set_overrides({**self.form.overrides(), key: setting})
        elif kind == "clear_weights":
            self.weights_path.clear()
        elif kind == "set_device":
            self.form.set_overrides({**self.form.overrides(), "device": value})
        elif kind == "save_model":
            document = self.documents.open_for(model)
            if document is not None and not document.save():
                return
        elif kind == "train_saved":
            self._train_saved = (model, self.documents.open_for(model))
        elif kind == "set_nc":
            document = self.documents.open_for(model)
            if document is not None and hasattr(document, "set_header"):
                document.set_header("nc", value)
                self.status_message.emit(f"Set nc: {value} in {model.name} in {document.where} (unsaved; Ctrl+Z "
                                         "there undoes it)")
            else:
                from yolo_studio.core.model.document import ModelDocument

                doc = ModelDocument.load(model)
                doc.set_header("nc", value)
                doc.save()
                self.status_message.emit(f"Set nc: {value} in {model.name}")
        self._clear_fixes()
        self.run_preflight()


def _fix_text(fix: tuple) -> str:
    kind, value = fix
    return {"set_nc": f"Set nc: {value} in the model", "set_name": f"Use the name '{value}'",
            "set_device": f"Use device={value}", "save_model": "Save the model",
            "train_saved": "Train the saved file", "clear_weights": "Clear the weights",
            "set_arg": f"Use {value[0]}={value[1]}" if isinstance(value, tuple) else ""}.get(kind, f"{kind} {value}")
