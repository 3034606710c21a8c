"""The studio's main window: menus, toolbar, status bar and the tabs (Model first)."""

from __future__ import annotations

from pathlib import Path

import yaml
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import StudioError
from yolo_studio.core.blocks.custom_blocks import code_files
from yolo_studio.core.project.open_documents import DocumentRegister, describe
from yolo_studio.core.project.projects import Project, add_recent, add_recent_files, create_project, \
    open_or_create_project, open_project, recent_files, recent_projects, workspace_dir
from yolo_studio.ui.settings_dialog import move_qt_settings
from yolo_studio.core.project.trust import TrustStore
from yolo_studio.ui.autosave import Autosaver
from yolo_studio.ui.help import SameAction, ask_to_save, first_run_banner, show_shortcut_in_tooltip, shown
from yolo_studio.ui.project_tabs import ProjectTabs
from yolo_studio.ui.undo_in_view import UndoInView
from yolo_studio.ui.templates import template_files, template_task
from yolo_studio.ui.model.designer import ModelDesignerTab
from yolo_studio.ui.model.menus import add_model_menus
from yolo_studio.ui.modules.designer import ModuleDesignerTab

WARM_UP_DELAY_MS = 1000  # the warm-up starts after the first paint, or this long after the window is shown
OPEN_WINDOWS: list = []  # windows opened by switching projects (a top-level window needs a Python owner)


def default_project() -> Project:
    """The most recently opened project, else the demo project (created on first use)."""
    from yolo_studio.training.demo_project import ensure_demo

    for path in recent_projects():
        try:
            return open_project(path)
        except ValueError:
            continue
    return ensure_demo(workspace_dir())


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, modules_dir: str | Path | None = None, project_dir: str | Path | None = None):
        super().__init__()
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        move_qt_settings()
        self.project = open_or_create_project(project_dir) if project_dir else default_project()
        add_recent(self.project)
        self.project_dir = self.project.root
        self._closing_confirmed = False
        modules_dir = Path(modules_dir) if modules_dir else self.project.modules_dir
        self.tabs = QtWidgets.QTabWidget()
        self.model_tab = ModelDesignerTab(modules_dir=modules_dir)
        self.modules_tab = ModuleDesignerTab(modules_dir, uses_of=self.model_tab.uses_of,
                                             model_problem=self.model_tab.block_problem)
        self._warmed = False  # torch and Ultralytics are loaded on the inspection worker after the first paint
        self.documents = DocumentRegister()  # what every tab asks about open, unsaved work
        self.documents.add(self.model_tab.document)
        self.documents.add(self.modules_tab.document)
        self.model_tab.document.ask_path = self._ask_save_path
        self.tabs.addTab(self.model_tab, "Model")
        self.tabs.addTab(self.modules_tab, "Modules")
        self.project_tabs = ProjectTabs(self)  # Datasets, Train, Runs, Registry, Inference: built when shown
        self.lazy = self.project_tabs.lazy
        self.modules_tab.blocks_changed.connect(self.model_tab.reload_blocks)
        self.model_tab.inspected.connect(self.modules_tab.show_model_problem)  # a block failing in its row
        self.modules_tab.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.model_tab.inspector.ultralytics_changed.connect(self._on_ultralytics_changed)
        self._settle_trust(modules_dir)
        self.hint = self._first_run_hint()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        if self.hint is not None:
            layout.addWidget(self.hint)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.totals = QtWidgets.QLabel()
        self.overlay = QtWidgets.QLabel(objectName="overlay")  # what the nodes' stripes or marks are about
        self.statusBar().addPermanentWidget(self.overlay)
        self.statusBar().addPermanentWidget(self.totals)
        self.model_tab.weights_changed.connect(self._show_overlay)
        self.model_tab.comparison_changed.connect(self._show_overlay)
        self.model_tab.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.model_tab.totals_changed.connect(self.totals.setText)
        self.model_tab.title_changed.connect(self.update_title)
        self._build_actions()
        self.update_title()
        self.autosaver = Autosaver(self)
        self._reattach_runs()
        self.project_tabs.watch_project()  # what a yolo-studio command writes into it is shown here

    # ------------------------------------------------------------------ actions

    def _build_actions(self) -> None:
        tab = self.model_tab
        file_menu = self.menuBar().addMenu("&File")
        self.new_menu = file_menu.addMenu("&New from template")
        self.new_menu.aboutToShow.connect(self._fill_new_menu)  # reading 66 templates waits for the menu
        self.open_action = file_menu.addAction("&Open…", self.open_dialog, QtGui.QKeySequence.Open)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.save_action = file_menu.addAction("&Save", self.save, QtGui.QKeySequence.Save)
        self.save_as_action = file_menu.addAction("Save &as…", self.save_as, QtGui.QKeySequence("Ctrl+Shift+S"))
        file_menu.addSeparator()
        file_menu.addAction("New pro&ject…", self.new_project_dialog)
        file_menu.addAction("Open pro&ject…", self.open_project_dialog)
        self.recent_projects_menu = file_menu.addMenu("Recent projec&ts")
        self.recent_projects_menu.aboutToShow.connect(self._fill_recent_projects_menu)
        file_menu.addAction("Open the &demo project", self.open_demo_project)
        file_menu.addAction("Se&ttings…", self.settings_dialog)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", self.close, QtGui.QKeySequence.Quit)
        new_action = QtGui.QAction("New", self, shortcut=QtGui.QKeySequence.New)
        new_action.triggered.connect(lambda: self.new_from_template(template_files()["11"][-1]))
        self.addAction(new_action)

        self.undo_in_view = UndoInView(self, tab, self.modules_tab)
        undo, redo, frame = add_model_menus(self, tab)

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Documentation", self.docs_dialog, QtGui.QKeySequence.HelpContents)
        help_menu.addAction("&Keyboard shortcuts", self.shortcuts_dialog)
        help_menu.addSeparator()
        help_menu.addAction("&About YOLO Studio", self.about_dialog)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        for action in self.findChildren(QtGui.QAction):
            show_shortcut_in_tooltip(action)
        # Undo and Redo with fixed texts: the menu's name the next edit ("Undo Change args of layer 8"), and
        # on the toolbar that moved every button after them at each edit
        for action in (self.open_action, self.save_action, SameAction("Undo", undo, self),
                       SameAction("Redo", redo, self), frame):
            toolbar.addAction(action)
        self.undo_action, self.redo_action = undo, redo

    def _fill_new_menu(self) -> None:
        if self.new_menu.actions():
            return
        for family, paths in template_files().items():
            sub = self.new_menu.addMenu(family)
            for path in paths:
                sub.addAction(f"{path.stem}  ({template_task(path)})", lambda p=path: self.new_from_template(p))

    def _settle_trust(self, modules_dir: Path) -> None:
        """Ask once per project (or loose block folder) before running blocks the studio did not create."""
        files = code_files(modules_dir)  # block files and a fork's tasks.py: all code that would run
        in_project = modules_dir.resolve() == self.project.modules_dir.resolve()
        key = self.project.root if in_project else modules_dir
        store = TrustStore()
        allowed = store.decision(key)
        if files and allowed is None:
            names = ", ".join(p.name for p in files[:5]) + (" …" if len(files) > 5 else "")
            where = f"The project '{self.project.name}' ({self.project.root})" if in_project else \
                f"The modules folder {modules_dir}"
            answer = QtWidgets.QMessageBox.question(
                self, "Run these blocks?",
                f"{where} holds Python code ({names}).\n\nBlocks run when models are inspected or trained and "
                "when they are checked. Run them? Only allow code you trust; the answer is remembered for this "
                f"{'project' if in_project else 'folder'}.")
            allowed = answer == QtWidgets.QMessageBox.Yes
            store.remember(key, allowed)
        blocked = files and not allowed
        self.model_tab.run_blocks = not blocked
        self.modules_tab.run_blocks = not blocked
        if blocked:
            self.statusBar().showMessage(f"Blocks in {modules_dir} are not run (not trusted)", 10000)

    def _first_run_hint(self) -> QtWidgets.QWidget | None:
        """A banner saying what to do next on the demo project, until its first run (or Close)."""
        from yolo_studio.training.demo_project import first_run_hint

        text = first_run_hint(self.project)
        return first_run_banner(text) if text is not None else None

    def move_selected(self, step: int) -> None:
        """Move the selected layer up (-1) or down (1): Edit > Move layer."""
        tab = self.model_tab
        if len(tab.selected) != 1:
            self.statusBar().showMessage("Select one layer to move it", 4000)
            return
        src = tab.selected[0]
        dst = src + step
        if 0 <= dst < len(tab.doc.rows):
            tab.move_row(src, dst)
            tab.select_rows([dst])

    def update_title(self) -> None:
        path = self.model_tab.path
        name = path.name if path else "untitled.yaml"
        star = "*" if self.model_tab.is_modified() else ""
        self.setWindowTitle(f"{name}{star} — {self.project.name} — YOLO Studio")

    # ------------------------------------------------------------------ files

    def open_path(self, path: str | Path) -> bool:
        """Open a model YAML, or the architecture a checkpoint stores (as an untitled document, its nodes
        coloured by what keeps the checkpoint's weights); a bad file is reported and changes nothing."""
        if not self._confirm_discard([self.model_tab.document]):
            return False
        try:
            if str(path).endswith(".pt"):
                return self._open_checkpoint(Path(path))
            doc = ModelDocument.load(path)
        except StudioError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot open model", str(exc))
            return False
        self.model_tab.open_document(doc)
        self._remember_recent(Path(path))
        return True

    def _open_checkpoint(self, path: Path) -> bool:
        from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint

        info = read_checkpoint(path)
        if not info.model_yaml:
            raise CheckpointError(f"{path.name} stores no model YAML", "Open the YAML it was trained from.")
        stored = {k: v for k, v in info.model_yaml.items() if k != "yaml_file"}
        doc = ModelDocument.from_text(yaml.safe_dump(stored, sort_keys=False), f"{path.stem}.yaml")
        self.model_tab.open_document(doc)  # untitled: Save asks where to write the YAML; the .pt is never written
        self.model_tab.show_weights(path)
        self.statusBar().showMessage(f"The architecture stored in {path.name}; Save writes it as a YAML", 15000)
        return True

    def _show_overlay(self) -> None:
        self.overlay.setText(self.model_tab.overlay_caption())
        self.overlay.setToolTip(self.model_tab.overlay_legend())

    def compare_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Compare with another model", str(self.project.root),
                                                        "Model YAML or checkpoint (*.yaml *.yml *.pt)")
        if path:
            try:
                self.model_tab.compare_with(path)
            except StudioError as exc:
                QtWidgets.QMessageBox.warning(self, "Cannot compare", str(exc))

    def show_weights_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Show which layers keep a checkpoint's weights",
                                                        str(self.project.root), "Weights (*.pt)")
        if path:
            try:
                self.model_tab.show_weights(path)
            except StudioError as exc:
                QtWidgets.QMessageBox.warning(self, "Cannot read the checkpoint", str(exc))

    def _remember_recent(self, path: Path) -> None:
        """Recent files for the menu, and the project's last model (opened again with the project)."""
        add_recent_files(path)
        if self.project.root in Path(path).resolve().parents:
            self.project.remember(model=self.project.relative(path))

    def new_from_template(self, template: Path) -> None:
        if not self._confirm_discard([self.model_tab.document]):
            return
        doc = ModelDocument.from_text(template.read_text(encoding="utf-8"), template.name)
        self.model_tab.open_document(doc)

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open model YAML", str(self.project.models_dir),
                                                        "Model YAML or checkpoint (*.yaml *.yml *.pt)")
        if path:
            self.open_path(path)

    def save(self) -> bool:
        if self.tabs.currentWidget() is self.modules_tab:
            self.modules_tab.save()
            return True
        if self.model_tab.path is None:
            return self.save_as()
        return self._save_to(self.model_tab.path)

    def save_as(self) -> bool:
        path = self._ask_save_path()
        return self._save_to(path) if path else False

    def _ask_save_path(self) -> Path | None:
        """Save As proposes the model's current name and folder (the project's models folder when untitled)."""
        current = self.model_tab.path or self.project.models_dir / "model.yaml"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save model YAML", str(current), "Model YAML (*.yaml)")
        return Path(path) if path else None

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.model_tab.save(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self._remember_recent(saved)
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return True

    def _confirm_discard(self, documents: list | None = None) -> bool:
        """Save / Discard / Cancel for the unsaved ones of ``documents`` (default: every open document),
        each named; True when the caller may go on."""
        unsaved = [d for d in (self.documents.documents() if documents is None else documents) if d.is_modified()]
        if not unsaved:
            return True
        names = "\n".join(f"• {describe(d)}" for d in unsaved)
        return ask_to_save(self, "Unsaved changes", f"These have unsaved changes:\n\n{names}\n\nSave them first?",
                           lambda: all(self._save_document(d) for d in unsaved))

    def _save_document(self, document) -> bool:
        if document is self.model_tab.document:
            path = self.model_tab.path or self._ask_save_path()
            return self._save_to(path) if path else False
        return document.save()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in map(str, recent_files()):
            self.recent_menu.addAction(p, lambda p=p: self.open_path(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ------------------------------------------------------------------ projects

    def new_project_dialog(self) -> None:
        name, ok = QtWidgets.QInputDialog.getText(self, "New project", "Project name:")
        if not ok or not name.strip():
            return
        from yolo_studio.core.project.projects import safe_name

        folder = workspace_dir() / safe_name(name)
        try:
            project = create_project(folder, name.strip())
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot create the project", str(exc))
            return
        TrustStore().remember(project.root, True)  # created here: its blocks are the user's own
        self.switch_project(project.root)

    def settings_dialog(self):
        """Workspace, theme, default device and trackers (remembered in the studio's settings)."""
        from yolo_studio.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        if dialog.exec():
            self.statusBar().showMessage("Settings saved", 5000)
        return dialog

    def open_project_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open project folder", str(workspace_dir()))
        if folder:
            self.switch_project(folder)

    def open_demo_project(self) -> None:
        from yolo_studio.training.demo_project import ensure_demo

        self.statusBar().showMessage("Preparing the demo project…")
        self.switch_project(ensure_demo(workspace_dir()).root)

    def _fill_recent_projects_menu(self) -> None:
        self.recent_projects_menu.clear()
        for path in recent_projects():
            self.recent_projects_menu.addAction(str(path), lambda p=path: self.switch_project(p))
        if self.recent_projects_menu.isEmpty():
            self.recent_projects_menu.addAction("(none)").setEnabled(False)

    def switch_project(self, path: str | Path):
        """Open another project in a new window and close this one; returns the new window or None."""
        if Path(path).resolve() == self.project.root:
            return self
        try:
            open_project(path)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot open the project", str(exc))
            return None
        leave = self._ask_about_training()
        if leave is None or not self._confirm_discard():
            return None
        window = MainWindow(project_dir=path)  # shown before this one closes, so the studio does not quit
        OPEN_WINDOWS.append(window)
        window.show()
        window.open_project_model()
        self._shut_down(leave)
        self._closing_confirmed = True
        self.close()
        return window

    def open_project_model(self) -> None:
        """Open the model the project had open last time, if it still exists."""
        model = self.project.state.get("model")
        if model and self.project.resolve(model).is_file():
            self.open_path(self.project.resolve(model))

    # ------------------------------------------------------------------ Qt events

    def showEvent(self, event):
        super().showEvent(event)
        QtCore.QTimer.singleShot(WARM_UP_DELAY_MS, self, self._warm_up)  # if no paint comes (e.g. minimised)

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self._warmed:  # right after the first paint, never before
            QtCore.QTimer.singleShot(0, self, self._warm_up)

    def _warm_up(self) -> None:
        """torch and Ultralytics load on the inspection worker, so the first shapes come sooner."""
        if self._warmed:
            return
        self._warmed = True
        tab = self.model_tab
        tab.inspector.warm_up(str(tab.modules_dir) if tab.modules_dir and tab.run_blocks else None)

    def _on_ultralytics_changed(self, message: str) -> None:
        """The start-up probe found an assumption the installed Ultralytics breaks: say so once, plainly."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, "Ultralytics has changed", message, parent=self)
        box.setWindowModality(QtCore.Qt.NonModal)  # the studio stays usable behind it
        self.ultralytics_warning = shown(box)

    def dragEnterEvent(self, event):
        if any(u.toLocalFile().lower().endswith((".yaml", ".yml")) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        for url in event.mimeData().urls():
            if url.toLocalFile().lower().endswith((".yaml", ".yml")):
                self.open_path(url.toLocalFile())
                break

    def closeEvent(self, event):
        if self._closing_confirmed:
            event.accept()
            return
        leave = self._ask_about_training()
        if leave is not None and self._confirm_discard():
            self._shut_down(leave)
            event.accept()
        else:
            event.ignore()

    def _shut_down(self, leave_running: bool) -> None:
        self.autosaver.clear_all()  # a normal close: nothing to recover
        self.model_tab.shutdown()
        self.modules_tab.shutdown()
        for name, tab in self.lazy.widgets.items():
            if name == "Train":
                tab.shutdown(leave_running=leave_running)
            elif hasattr(tab, "shutdown"):
                tab.shutdown()

    # ------------------------------------------------------------------ the project's tabs

    def about_dialog(self) -> None:
        from yolo_studio.ui.help import about_text

        QtWidgets.QMessageBox.about(self, "About YOLO Studio", about_text())

    def shortcuts_dialog(self):
        from yolo_studio.ui.help import ShortcutsDialog

        return shown(ShortcutsDialog(self))

    def docs_dialog(self):
        from yolo_studio.ui.help import DocsDialog

        return shown(DocsDialog(self))

    def devices_dialog(self):
        from yolo_studio.ui.devices import DevicesDialog

        return shown(DevicesDialog(self))

    @property
    def train_tab(self):
        """The Train tab, built on first use."""
        return self.lazy.get("Train")

    def _reattach_runs(self) -> None:
        from yolo_studio.training.run_store import running_runs

        runs = running_runs(Path(self.project_dir) / "runs")
        if runs:
            self.train_tab.attach(runs[-1])
            self.statusBar().showMessage(f"Re-attached to the running training '{runs[-1].path.name}'", 10000)

    def _ask_about_training(self):
        """None: cancel closing; True: leave a running training running; False: stop it."""
        train = self.lazy.widgets.get("Train")
        if train is None or not train.running():
            return True
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, "Training is running",
                                    f"'{train.run.path.name}' is still training. Leave it running (the "
                                    "studio re-attaches when opened again) or stop it?", parent=self)
        leave = box.addButton("Leave running", QtWidgets.QMessageBox.AcceptRole)
        stop = box.addButton("Stop training", QtWidgets.QMessageBox.DestructiveRole)
        box.addButton(QtWidgets.QMessageBox.Cancel)
        box.exec()
        return True if box.clickedButton() is leave else False if box.clickedButton() is stop else None
