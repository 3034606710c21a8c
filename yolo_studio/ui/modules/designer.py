"""The Module Designer tab: write custom blocks, check them, and hand them to the Model Designer.

Files of the modules folder are listed with their classes (read with ``ast``, no import). Save
(Ctrl+S) writes the file atomically and checks it; Check runs ``core.block_check`` (a child
process with a time limit) on a worker thread, on the text in the editor (saved or not). Problems
are marked on their lines. When a saved file passes, ``blocks_changed`` tells the Model Designer
to reload its palette and re-inspect.

Unsaved text is never dropped: the file's name carries a ``*`` in the list and the title while the
editor differs from the file, opening another file asks Save / Discard / Cancel, and the editor is
an ``OpenDocument`` of the window's register, so the quit prompt names it and autosave keeps it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.compat import block_layouts
from yolo_studio.core.blocks import block_check, block_source
from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.blocks.custom_blocks import BlockFileError, block_files, scan_file
from yolo_studio.ui.help import ask_to_save
from yolo_studio.ui.layout import column, splitter
from yolo_studio.ui.modules.editor import CodeEditor
from yolo_studio.ui.modules.results import CheckResultsPanel
from yolo_studio.workers.task import TaskThread

RULE_CHOICES = ("inferred", *block_layouts.LAYOUTS)


def completion_names() -> list:
    """What the editor completes: catalog blocks, torch.nn layers (bare and nn.), common torch calls."""
    from yolo_studio.core.model.catalog import builtin_catalog

    names = set()
    for name in builtin_catalog().blocks:
        names.add(name)
        if name.startswith("nn."):
            names.add(name[3:])
    names.update(("torch", "nn", "forward", "super", "self", "channel_rule", "torch.cat", "torch.sigmoid",
                  "torch.relu", "torch.nn.functional", "Module", "Parameter", "ModuleList", "Sequential"))
    return sorted(names)


class BlockFileDocument:
    """The Module Designer's editor as an ``OpenDocument`` of the window's register."""

    kind = "block"
    where = "the Modules tab"

    def __init__(self, tab: "ModuleDesignerTab"):
        self.tab = tab

    def file(self) -> Path | None:
        return self.tab.path

    def is_modified(self) -> bool:
        return self.tab.is_modified()

    def text(self) -> str:
        return self.tab.editor.text()

    def save(self) -> bool:
        return self.tab.save()


class ModuleDesignerTab(QtWidgets.QWidget):
    blocks_changed = QtCore.Signal()
    status_message = QtCore.Signal(str)
    checked = QtCore.Signal(dict)  # the last check result

    def __init__(self, modules_dir: str | Path, parent=None, uses_of=None, model_problem=None):
        super().__init__(parent)
        self.modules_dir = Path(modules_dir)
        self.modules_dir.mkdir(parents=True, exist_ok=True)
        self.path: Path | None = None
        self.uses_of = uses_of or (lambda names: [])  # class names -> ["layer 5 of m.yaml", ...]
        self.model_problem = model_problem or (lambda: None)  # the open model's failing layer, if any
        self.result: dict | None = None
        self.run_blocks = True  # False when the user refused to run this folder's code
        self.checker = TaskThread("block-check", self)
        self.checker.done.connect(self._on_checker_done)
        self.checker.failed.connect(lambda _job, message: self.status_message.emit(f"check failed: {message}"))
        self.document = BlockFileDocument(self)
        self._build_widgets()
        self.refresh_files()

    def is_modified(self) -> bool:
        """The editor holds text the file on disk does not (or a file that no longer exists)."""
        return self.path is not None and bool(self.editor.modify())

    def _build_widgets(self) -> None:
        self.files = QtWidgets.QTreeWidget()
        self.files.setHeaderLabels(["file / block", "layout"])
        self.files.itemClicked.connect(self._on_files_item_clicked)
        self.files.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeToContents)
        self.files.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeToContents)
        new_button = QtWidgets.QToolButton(text="New", popupMode=QtWidgets.QToolButton.InstantPopup)
        menu = QtWidgets.QMenu(new_button)
        for kind in block_source.TEMPLATES:
            menu.addAction(kind, lambda k=kind: self.new_from_template(k))
        new_button.setMenu(menu)
        rename = QtWidgets.QPushButton("Rename…", clicked=self.rename_dialog)
        delete = QtWidgets.QPushButton("Delete…", clicked=self.delete_dialog)
        buttons = QtWidgets.QHBoxLayout()
        for w in (new_button, rename, delete):
            buttons.addWidget(w)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.files)

        self.editor = CodeEditor()
        self.editor.set_completions(completion_names())
        self.editor.savePointChanged.connect(lambda _dirty: self._show_modified())
        self.save_button = QtWidgets.QPushButton("Save && check (Ctrl+S)", clicked=self.save)
        self.check_button = QtWidgets.QPushButton("Check", clicked=self.check)
        self.onnx_check = QtWidgets.QCheckBox("ONNX export check")
        self.onnx_check.setToolTip("Also export each block alone to ONNX and name unsupported operators")
        self.title = QtWidgets.QLabel("No file open")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.onnx_check)
        top.addWidget(self.check_button)
        top.addWidget(self.save_button)
        centre = column(top, self.editor, self._build_find_bar())

        self.results_panel = CheckResultsPanel()
        self.results = self.results_panel.results
        self.rule_class = QtWidgets.QComboBox()
        self.rule = QtWidgets.QComboBox()
        self.rule.addItems(RULE_CHOICES)
        apply_rule = QtWidgets.QPushButton("Set rule", clicked=self._on_apply_rule_clicked)
        form = QtWidgets.QFormLayout()
        form.addRow("block", self.rule_class)
        form.addRow("channel rule", self.rule)
        form.addRow(apply_rule)
        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.addWidget(QtWidgets.QLabel("Check results"))
        right_layout.addWidget(self.results_panel, 1)
        rules = QtWidgets.QGroupBox("Channel rule (saved as channel_rule)")
        rules.setLayout(form)
        right_layout.addWidget(rules)

        # Ctrl+S is the main window's Save, which saves the current tab
        column(splitter(left, centre, right, sizes=[230, 760, 330]), on=self, margin=2)

    def _build_find_bar(self) -> QtWidgets.QWidget:
        bar = QtWidgets.QWidget()
        self.find_text = QtWidgets.QLineEdit(placeholderText="Find")
        self.replace_text = QtWidgets.QLineEdit(placeholderText="Replace with")
        self.match_case = QtWidgets.QCheckBox("Aa")
        self.match_case.setToolTip("Match case")
        layout = QtWidgets.QHBoxLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.find_text, QtWidgets.QPushButton("Next", clicked=self._on_find_next_clicked),
                  self.replace_text, QtWidgets.QPushButton("Replace all", clicked=self._on_replace_all_clicked),
                  self.match_case):
            layout.addWidget(w)
        self.find_text.returnPressed.connect(self._on_find_next_clicked)
        find = QtGui.QAction("Find", self, shortcut=QtGui.QKeySequence.Find,
                             shortcutContext=QtCore.Qt.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: (self.find_text.setFocus(), self.find_text.selectAll()))
        self.addAction(find)
        return bar

    def _on_find_next_clicked(self) -> None:
        if not self.editor.find_next(self.find_text.text(), self.match_case.isChecked()):
            self.status_message.emit(f"'{self.find_text.text()}' not found")

    def _on_replace_all_clicked(self) -> None:
        count = self.editor.replace_all(self.find_text.text(), self.replace_text.text(), self.match_case.isChecked())
        self.status_message.emit(f"Replaced {count} occurrence{'s' if count != 1 else ''}")

    # ------------------------------------------------------------------ files

    def refresh_files(self) -> None:
        self.files.clear()
        for path in block_files(self.modules_dir):
            item = QtWidgets.QTreeWidgetItem(self.files, [self._file_label(path), ""])
            item.setData(0, QtCore.Qt.UserRole, str(path))
            try:
                for block in scan_file(path):
                    rule = block.info.rule + ("" if block.declared_rule else "?")
                    child = QtWidgets.QTreeWidgetItem(item, [block.info.name, rule])
                    child.setToolTip(1, f"declared: channel_rule = \"{block.declared_rule}\"" if block.declared_rule
                                     else f"read from the signature: {block.info.rule} is tried first; the model "
                                          "build confirms the call on the real inputs")
                    child.setData(0, QtCore.Qt.UserRole, str(path))
            except BlockFileError as exc:
                QtWidgets.QTreeWidgetItem(item, [f"line {exc.line}: {exc.message}", ""])
            item.setExpanded(True)

    def _file_label(self, path: Path) -> str:
        return f"{path.name} *" if self.path is not None and path == self.path and self.is_modified() else path.name

    def _show_modified(self) -> None:
        """The ``*`` on the open file's name, in the title and in the file list."""
        self.title.setText(self._file_label(self.path) if self.path is not None else "No file open")
        for i in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(i)
            path = Path(item.data(0, QtCore.Qt.UserRole))
            item.setText(0, self._file_label(path))

    def confirm_leave(self) -> bool:
        """Before the editor shows another file: Save / Discard / Cancel when its text is unsaved."""
        if not self.is_modified():
            return True
        return ask_to_save(self, "Unsaved block file", f"{self.path.name} has unsaved changes. Save them first?",
                           self.save)

    def open_file(self, path: str | Path, ask: bool = True) -> bool:
        """Show ``path`` in the editor; False when the user kept the unsaved file or it cannot be read."""
        path = Path(path)
        if ask and path != self.path and not self.confirm_leave():
            self._select_current_file()
            return False
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror or str(exc)
            QtWidgets.QMessageBox.warning(self, "Cannot open the block file", f"{path}: {reason}.")
            self._select_current_file()
            return False
        self.path = path
        self.editor.set_text(text)
        self._show_modified()
        self._fill_rule_classes()
        self.results_panel.clear()
        return True

    def _select_current_file(self) -> None:
        """Keep the file list on the file the editor shows (after a refused switch)."""
        for i in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(i)
            if self.path is not None and Path(item.data(0, QtCore.Qt.UserRole)) == self.path:
                self.files.setCurrentItem(item)
                return

    def new_from_template(self, kind: str) -> Path | None:
        if not self.confirm_leave():
            return None
        text, name = block_source.template_text(kind)
        path, n = self.modules_dir / f"{name.lower()}.py", 1
        while path.exists():
            n += 1
            path = self.modules_dir / f"{name.lower()}{n}.py"
        if n > 1:
            text, name = block_source.template_text(kind, f"{name}{n}")
        write_text_atomic(path, text)
        self.refresh_files()
        self.open_file(path, ask=False)
        return path

    def save(self) -> bool:
        if self.path is None:
            return False
        try:
            write_text_atomic(self.path, self.editor.text())
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot save", f"{self.path}: {exc.strerror or exc}")
            return False
        self.editor.setSavePoint()
        self.refresh_files()
        self._fill_rule_classes()
        self.status_message.emit(f"Saved {self.path.name}; checking…")
        self.check()
        return True

    def check(self) -> None:
        """Check what the editor shows: its unsaved text when there is some, else the file."""
        if not self.run_blocks:
            self.status_message.emit("This folder's blocks are not trusted, so they are not run.")
            return
        if self.path is not None:
            self.check_button.setEnabled(False)
            onnx = self.onnx_check.isChecked()
            text = self.editor.text() if self.is_modified() else None
            self.checker.submit(self._check_and_remember, self.path, onnx, text)

    @staticmethod
    def _check_and_remember(path: Path, onnx: bool, text: str | None = None) -> dict:
        """Worker thread: check the file (or the editor's text for it); a saved file's result is kept, so
        the Model tab need not check it again."""
        result = block_check.check_file(path, onnx=onnx, text=text)
        if text is None:
            block_check.remember(path, result)
        return result

    def _classes_of(self, path: Path) -> list:
        try:
            return [b.info.name for b in scan_file(path)]
        except BlockFileError:
            return []

    def rename_file(self, new_name: str) -> Path:
        new = self.path.with_name(new_name if new_name.endswith(".py") else f"{new_name}.py")
        self.path.rename(new)
        self.path = new
        self.refresh_files()
        self._show_modified()
        self.blocks_changed.emit()
        return new

    def delete_file(self) -> None:
        self.path.unlink()
        self.path = None
        self.editor.set_text("")
        self._show_modified()
        self.refresh_files()
        self.blocks_changed.emit()

    def usage_warning(self) -> str:
        """Which open model layers use the blocks of the current file ('' if none)."""
        uses = self.uses_of(self._classes_of(self.path)) if self.path else []
        return ("These layers use blocks of this file and will break:\n" + "\n".join(uses)) if uses else ""

    def rename_dialog(self) -> None:
        if self.path is None:
            return
        name, ok = QtWidgets.QInputDialog.getText(self, "Rename block file", self.usage_warning() or "New name:",
                                                  text=self.path.stem)
        if ok and name.strip():
            self.rename_file(name.strip())

    def delete_dialog(self) -> None:
        if self.path is None:
            return
        text = f"Delete {self.path.name}?\n\n{self.usage_warning()}".strip()
        if QtWidgets.QMessageBox.question(self, "Delete block file", text) == QtWidgets.QMessageBox.Yes:
            self.delete_file()

    # ------------------------------------------------------------------ rules and results

    def _fill_rule_classes(self) -> None:
        self.rule_class.clear()
        if self.path is not None:
            self.rule_class.addItems(self._classes_of(self.path))

    def _on_apply_rule_clicked(self) -> None:
        name = self.rule_class.currentText()
        if not name:
            return
        rule = None if self.rule.currentText() == "inferred" else self.rule.currentText()
        try:
            text = block_source.set_channel_rule(self.editor.text(), name, rule)
        except (SyntaxError, KeyError) as exc:
            self.status_message.emit(f"Cannot set the rule: {exc}")
            return
        line = self.editor.lineFromPosition(self.editor.currentPos())
        self.editor.setText(text)  # kept on the undo stack, unlike set_text
        self.editor.gotoLine(line)

    def _on_checker_done(self, _job: int, result: dict) -> None:
        self.check_button.setEnabled(True)
        self.result = result
        self.editor.clear_errors()
        for line, message, warning in block_check.markers(result):
            self.editor.mark_error(line, message, warning)
        self.results_panel.show_result(result)
        alone = sum(1 for b in result.get("blocks", []) if not b["ok"])
        verdict = ("problems found" if not result["ok"] else "all blocks pass" if not alone else
                   f"loads; {alone} class{'es' if alone > 1 else ''} not built alone (checked when a model uses "
                   f"{'them' if alone > 1 else 'it'})")
        what = f"{Path(result['file']).name} (unsaved text)" if result.get("unsaved") else Path(result["file"]).name
        self.status_message.emit(f"{what}: {verdict}")
        if result["ok"] and not result.get("unsaved"):  # the Model tab builds from the saved file
            self.blocks_changed.emit()
        self.show_model_problem()
        self.checked.emit(result)

    def show_model_problem(self) -> None:
        """The open model was inspected again: a layer using one of this file's blocks that fails on its
        row's channels is an error here (the check alone, on its own channels, could only warn)."""
        if self.path is None or self.result is None:
            return
        problem = self.model_problem()
        text = self.results_panel.show_model_problem(problem, self._classes_of(self.path))
        if text:
            line = next((b.get("line") for b in self.result.get("blocks", []) if b["name"] == problem["module"]), 1)
            self.editor.mark_error(line or 1, text, False)
            self.status_message.emit(f"{self.path.name}: {text}")

    def _on_files_item_clicked(self, item, _column) -> None:
        path, block = item.data(0, QtCore.Qt.UserRole), item.text(0) if item.parent() is not None else None
        # read before opening: saving the file being left refills the list and deletes ``item``
        if path and Path(path) != self.path and not self.open_file(path):
            return
        if block is not None:
            self.rule_class.setCurrentText(block)

    def shutdown(self) -> None:
        self.checker.stop()
