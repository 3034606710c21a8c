"""The Train Designer tab: model, dataset and arguments; preflight; start, stop, resume; live monitor."""

from __future__ import annotations

from pathlib import Path

import yaml
from PySide6 import QtCore, QtWidgets

from yolo_studio.training import train_config
from yolo_studio.core.model.model_names import is_model_name
from yolo_studio.core.project.open_documents import DocumentRegister
from yolo_studio.training.preflight import free_name
from yolo_studio.core.project.projects import load_settings
from yolo_studio.training.events import ENDED_EARLY, read_events, run_status
from yolo_studio.training.run_folder import LOGGERS, RunFolder, logging_available, prepare_run
from yolo_studio.ui.layout import column, row, splitter
from yolo_studio.ui.train.form import ArgsFormWidget
from yolo_studio.ui.train.monitor import MonitorPanel
from yolo_studio.ui.train.preflight_panel import PreflightMixin
from yolo_studio.ui.train.run_on import RunOnMixin
from yolo_studio.ui.train.tune_page import TunePage
from yolo_studio.workers.task import TaskThread
from yolo_studio.workers.training import RunSupervisor



class TrainDesignerTab(PreflightMixin, RunOnMixin, QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    run_ended = QtCore.Signal(str)  # status
    preflight_done = QtCore.Signal(object)  # PreflightResult

    def __init__(self, project_dir: str | Path, modules_dir: str | Path | None = None, parent=None, project=None,
                 documents: DocumentRegister | None = None):
        super().__init__(parent)
        self.documents = documents or DocumentRegister()  # the window's open documents
        self._train_saved = None  # (model path, document) the user chose to train without its unsaved edits
        self.project = project  # a core.projects.Project: the form is remembered in it between sessions
        self.project_dir = Path(project_dir)
        self.modules_dir = Path(modules_dir) if modules_dir else None
        self.supervisor: RunSupervisor | None = None
        self.run: RunFolder | None = None
        self.last_preflight = None
        self._start_after_preflight = False
        self._tune_settings = None  # set by the Tune page's Start until preflight has answered
        self.checker = TaskThread("preflight", self)
        self.checker.done.connect(self._on_checker_done)
        self.checker.failed.connect(lambda _job, message: self._show_checks_text(f"Preflight failed: {message}"))
        self._build_widgets()
        self._refresh_presets()
        self._restore_form()
        self._update_preview()
        self._update_buttons()

    # ------------------------------------------------------------------ widgets

    def _build_widgets(self) -> None:
        self.model_path = QtWidgets.QLineEdit(placeholderText="model YAML, or weights (.pt) to fine-tune")
        self.weights_path = QtWidgets.QLineEdit(
            placeholderText="optional: weights (.pt) a YAML model starts from, each layer from the layer it matches")
        self.data_path = QtWidgets.QLineEdit(placeholderText="dataset YAML")
        self.run_name = QtWidgets.QLineEdit(free_name(self.runs_dir, "train"))
        for edit in (self.model_path, self.weights_path, self.data_path, self.run_name):
            edit.textChanged.connect(self._update_preview)
            edit.textChanged.connect(self._mark_preflight_stale)
        browse_model = QtWidgets.QToolButton(text="…", clicked=lambda: self._browse(
            self.model_path, "Model YAML or weights", "Models (*.yaml *.yml *.pt)"))
        self.weights_menu = QtWidgets.QMenu(self)  # fills the Model field: a checkpoint to fine-tune
        self.weights_menu.aboutToShow.connect(self._fill_weights_menu)
        pick_model = QtWidgets.QToolButton(text="Checkpoints ▾", popupMode=QtWidgets.QToolButton.InstantPopup,
                                           toolTip="Fine-tune a checkpoint as the model: the project's runs, its "
                                                   "registry, and the weights folders set in Settings")
        pick_model.setMenu(self.weights_menu)
        self.start_menu = QtWidgets.QMenu(self)  # fills the Weights field: what a YAML model starts from
        self.start_menu.aboutToShow.connect(lambda: self._fill_weights_menu(self.start_menu, self.weights_path))
        pick_start = QtWidgets.QToolButton(text="Checkpoints ▾", popupMode=QtWidgets.QToolButton.InstantPopup,
                                           toolTip="Start the YAML model from a checkpoint's weights, each layer "
                                                   "from the layer it matches")
        pick_start.setMenu(self.start_menu)
        browse_weights = QtWidgets.QToolButton(text="…", clicked=lambda: self._browse(
            self.weights_path, "Start from weights", "Weights (*.pt)"))
        self.weights_row = row(self.weights_path, browse_weights, pick_start)
        self.model_path.textChanged.connect(self._update_weights_row)
        browse_data = QtWidgets.QToolButton(text="…", clicked=lambda: self._browse(self.data_path, "Dataset YAML"))
        demo = QtWidgets.QPushButton("Demo dataset", clicked=self.use_demo_dataset,
                                     toolTip="Generate (once) the synthetic shapes dataset in this project")
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(["User", "Developer"])
        self.mode.currentTextChanged.connect(lambda text: self.form.set_developer(text == "Developer"))
        self.preset = QtWidgets.QComboBox()
        apply_preset = QtWidgets.QPushButton("Apply", clicked=self.apply_preset)
        save_preset = QtWidgets.QPushButton("Save as…", clicked=self.save_preset_dialog)
        form = QtWidgets.QFormLayout()
        form.addRow("Model", row(self.model_path, browse_model, pick_model))
        form.addRow("Weights", self.weights_row)
        form.addRow("Dataset", row(self.data_path, browse_data, demo))
        form.addRow("Run name", self.run_name)
        form.addRow("Preset", row(self.preset, apply_preset, save_preset))
        form.addRow("Mode", self.mode)
        self.logging = {}
        for name, label in (("tensorboard", "TensorBoard"), ("mlflow", "MLflow (local)")):
            box = QtWidgets.QCheckBox(label)
            if not logging_available(name):
                box.setEnabled(False)
                box.setToolTip(f"needs the {LOGGERS[name]} package: pip install 'yolo-studio[logging]'")
            self.logging[name] = box
        form.addRow("Logging", row(*self.logging.values(), stretch=True))
        self._build_run_on(form)
        self.form = ArgsFormWidget()
        self.form.changed.connect(self._update_preview)
        self.form.changed.connect(self._mark_preflight_stale)
        self.preflight_button = QtWidgets.QPushButton("Preflight", clicked=self.run_preflight)
        self.start_button = QtWidgets.QPushButton("▶ Start", clicked=self.start)
        self.stop_button = QtWidgets.QPushButton("■ Stop", clicked=self.stop)
        self.resume_button = QtWidgets.QPushButton("⟳ Resume", clicked=self.resume)
        buttons = row(self.preflight_button, self.start_button, self.stop_button, self.resume_button)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addWidget(self.form, 1)
        left_layout.addWidget(buttons)

        self.monitor = MonitorPanel()
        self.checks = QtWidgets.QListWidget(wordWrap=True)
        self.fix_bar = QtWidgets.QWidget()  # one button per fix preflight offers
        QtWidgets.QHBoxLayout(self.fix_bar).setContentsMargins(0, 0, 0, 0)
        checks_box = QtWidgets.QWidget()
        checks_layout = QtWidgets.QVBoxLayout(checks_box)
        checks_layout.addWidget(self.checks, 1)
        checks_layout.addWidget(self.fix_bar)
        self.resolved_view = QtWidgets.QPlainTextEdit(readOnly=True)
        self.command_view = QtWidgets.QPlainTextEdit(readOnly=True, maximumHeight=70)
        resolved_box = QtWidgets.QWidget()
        resolved_layout = QtWidgets.QVBoxLayout(resolved_box)
        resolved_layout.addWidget(QtWidgets.QLabel("Command (paste into a terminal):"))
        resolved_layout.addWidget(self.command_view)
        resolved_layout.addWidget(QtWidgets.QLabel("Resolved arguments:"))
        resolved_layout.addWidget(self.resolved_view, 1)
        self.pages = QtWidgets.QTabWidget()
        self.pages.addTab(self.monitor, "Monitor")
        self.pages.addTab(checks_box, "Preflight")
        self.pages.addTab(resolved_box, "Resolved && command")
        self.tune_page = TunePage()
        self.tune_page.start_requested.connect(self.start_tuning)
        self.tune_page.apply_best.connect(self.apply_hyperparameters)
        self.pages.addTab(self.tune_page, "Tune")
        column(splitter(left, self.pages, sizes=[430, 970]), on=self, margin=2)

    @property
    def runs_dir(self) -> Path:
        return self.project_dir / "runs"

    def weights_choices(self) -> list:
        """(section, [WeightsFile]) for the model picker: runs, registry, the folders from Settings."""
        from yolo_studio.core.model.checkpoints import find_weights, peek_checkpoint
        from yolo_studio.core.project.projects import load_settings

        runs = sorted(self.runs_dir.glob("*/weights/*.pt")) if self.runs_dir.is_dir() else []  # best and last
        registry = self.project.registry_dir if self.project is not None else self.project_dir / "registry"
        entries = sorted(registry.glob("*/v*/model.pt")) if registry.is_dir() else []
        return [("Runs of this project", [peek_checkpoint(p) for p in runs]),
                ("Registry", [peek_checkpoint(p) for p in entries]),
                ("Weights folders (Settings)", find_weights(load_settings().get("weights_folders") or []))]

    def _fill_weights_menu(self, menu=None, edit=None) -> None:
        """The checkpoints found, by where (``weights_choices``); picking one fills ``edit`` (the Model field
        by default)."""
        menu, edit = menu or self.weights_menu, edit or self.model_path
        menu.clear()
        for section, files in self.weights_choices():
            menu.addSection(section)
            if not files:
                menu.addAction("none found").setEnabled(False)
            for found in files:
                action = menu.addAction(found.label(), lambda p=found.path: edit.setText(str(p)))
                action.setEnabled(found.problem is None)
                action.setToolTip(str(found.path))

    def _update_weights_row(self) -> None:
        """A checkpoint as the model starts from its own weights: the Weights row is for YAML models."""
        checkpoint = self.model_path.text().strip().lower().endswith(".pt")
        self.weights_row.setEnabled(not checkpoint)
        self.weights_row.setToolTip("The model is a checkpoint: it starts from its own weights" if checkpoint else "")

    def _browse(self, edit: QtWidgets.QLineEdit, title: str, kinds: str = "YAML (*.yaml *.yml)") -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, title, str(self.project_dir), kinds)
        if path:
            edit.setText(path)

    def use_demo_dataset(self) -> Path:
        from yolo_studio.core.data import demo_dataset

        data = self.project_dir / "datasets" / "shapes" / "data.yaml"
        if not data.exists():
            self.status_message.emit("Generating the demo dataset…")
            demo_dataset.generate(data.parent)
        self.data_path.setText(str(data))
        return data

    def set_model(self, path: str | Path | None) -> None:
        """The Model tab's file, unless the user chose another."""
        if path and not self.model_path.text():
            self.model_path.setText(str(path))

    # ------------------------------------------------------------------ presets and preview

    def _refresh_presets(self) -> None:
        current = self.preset.currentText()
        self.preset.clear()
        self.preset.addItems(train_config.preset_names(self.project_dir))
        if current:
            self.preset.setCurrentText(current)

    def apply_preset(self) -> None:
        try:
            values = train_config.load_preset(self.preset.currentText(), self.project_dir)
        except ValueError as exc:
            self.status_message.emit(str(exc))
            return
        self.form.set_overrides({**self.form.overrides(), **values})
        self.status_message.emit(f"Preset '{self.preset.currentText()}' applied")

    def save_preset_dialog(self) -> None:
        name, ok = QtWidgets.QInputDialog.getText(self, "Save preset", "Preset name:")
        if ok and name.strip():
            self.save_preset(name.strip())

    def save_preset(self, name: str) -> Path | None:
        try:
            path = train_config.save_preset(name, self.form.overrides(), self.project_dir)
        except ValueError as exc:
            self.status_message.emit(str(exc))
            return None
        self._refresh_presets()
        self.preset.setCurrentText(name)
        return path

    def resolved(self) -> train_config.Resolved:
        return train_config.resolve(self.form.overrides())

    def _model_facts(self, model: str) -> tuple:
        """(task, custom blocks it uses) for the preview (`yolo classify train ...`), from the file."""
        from yolo_studio.core.model.document import ModelDocument, task_of
        from yolo_studio.core.errors import StudioError

        try:
            key = (model, Path(model).stat().st_mtime_ns, str(self.modules_dir))
        except OSError:
            return "detect", []
        if getattr(self, "_facts_cache", (None, None))[0] != key:
            facts = ("detect", [])
            try:
                if model.endswith(".pt"):  # read without running code from it
                    from yolo_studio.core.model.checkpoints import read_checkpoint

                    facts = (read_checkpoint(model).task or "detect", [])
                else:
                    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks

                    doc = ModelDocument.load(model)
                    facts = (task_of(doc, catalog_with_blocks(self.modules_dir)[0]),
                             train_config.custom_blocks_in(doc, self.modules_dir))
            except StudioError:
                pass
            self._facts_cache = (key, facts)
        return self._facts_cache[1]

    def _update_preview(self) -> None:
        resolved = self.resolved()
        model, data = self.model_path.text() or "MODEL.yaml", self.data_path.text() or "DATA.yaml"
        extra = {"project": str(self.runs_dir), "name": self.run_name.text(), "exist_ok": True}
        if self.weights_path.text():  # what the run trains from: the checkpoint remapped to this model's layers
            extra["pretrained"] = str(self.runs_dir / self.run_name.text() / "artifacts" / "transferred.pt")
        task, custom = self._model_facts(model)
        self.command_view.setPlainText(train_config.terminal_commands(
            task, resolved, model, data, extra, custom, self.modules_dir, self.project_dir,
            self.weights_path.text().strip() or None))
        full = {**resolved.config, "model": model, "data": data, **extra}
        problems = "".join(f"# problem: {message}\n" for _key, message in resolved.problems)
        self.resolved_view.setPlainText(problems + yaml.safe_dump(full, sort_keys=False))

    # ------------------------------------------------------------------ preflight

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Preflight, then (if it passes) prepare the run folder and start the training process."""
        if not self.running():
            self.run_preflight(then_start=True)

    def start_tuning(self, settings: dict) -> None:
        """The Tune page's Start: preflight (with the cluster's checks when Run on names one), then a
        tuning's run folder, followed here as a training is."""
        if self.running():
            self.status_message.emit("A training is already running: stop it first")
            return
        if self.run_name.text().startswith("train"):
            self.run_name.setText(free_name(self.runs_dir, "tune"))
        self._tune_settings = settings
        self.run_preflight(then_start=True)

    def apply_hyperparameters(self, values: dict) -> None:
        self.form.set_overrides({**self.form.overrides(), **values})
        self.status_message.emit("The Train form has the best trial's hyperparameters: Start trains with them")

    def _launch(self, task: str) -> None:
        plan = self.plan()
        settings, self._tune_settings = self._tune_settings, None
        try:
            if settings is not None:
                from yolo_studio.training.tuning import prepare_tune

                run = prepare_tune(plan.model, plan.data, plan.runs_dir, plan.name, self.form.overrides(), settings,
                                   task, plan.modules_dir)
                self.tune_page.message.setText(run.spec()["tune"].get("optimizer_note", ""))  # the log says it too
            else:
                run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, self.form.overrides(), task,
                                  plan.modules_dir, self.logging_choice(), weights=plan.weights)
        except (ValueError, OSError) as exc:
            self.status_message.emit(f"Not started: {exc}")
            return
        if plan.cluster is not None:
            self._submit(run, plan.cluster, plan.gpus)
        else:
            self._follow(run, RunSupervisor.start_run(run, parent=self))
        self._name_next_run(plan.name)
        self.remember_form()

    def start_prepared(self, run: RunFolder) -> None:
        """Train a run folder prepared elsewhere (a continued run, a hydra head) and follow it here; the
        form shows what it trains (a Start after it would train the same again, under a new name)."""
        if self.running():
            self.status_message.emit("A training is already running: stop it first")
            return
        spec = run.spec()
        self.model_path.setText(str(run.model))
        self.weights_path.clear()
        self.data_path.setText(str(spec.get("data", "")))
        self.form.set_overrides(dict(spec.get("overrides") or {}))
        self._follow(run, RunSupervisor.start_run(run, parent=self))
        self._name_next_run(run.path.name)

    def logging_choice(self) -> dict:
        return {name: box.isChecked() and box.isEnabled() for name, box in self.logging.items()}

    def resume(self) -> None:
        if self.run is None or self.running():
            return
        if not self.resumable():
            self.status_message.emit(f"{self.run.path.name} cannot resume: it completed, or saved no checkpoint yet")
            return
        target = self.run_on_target()
        if target is not None:  # a run resumes where Run on says: a lost cluster run here, or a local one there
            self._submit(self.run, target, self.gpus.value(), resume=True)
            return
        self._follow(self.run, RunSupervisor.start_run(self.run, resume=True, parent=self))

    def attach(self, run: RunFolder) -> None:
        """Follow a run started elsewhere (a headless run, one left running when the studio closed, or a
        cluster run: its job's log catches the run folder up, then it grows)."""
        from yolo_studio.training.events import on_cluster

        if on_cluster(read_events(run.events)):
            self._follow(run, RunSupervisor.on_cluster(run, self))
            return
        self._follow(run, RunSupervisor(run, None, self))

    def _follow(self, run: RunFolder, supervisor: RunSupervisor) -> None:
        self.run, self.supervisor = run, supervisor
        self.monitor.reset()
        self.tune_page.reset()
        supervisor.events.connect(self.monitor.add_events)
        supervisor.events.connect(self.tune_page.add_events)
        supervisor.log.connect(self.monitor.append_log)
        supervisor.ended.connect(self._on_supervisor_ended)
        supervisor.start()  # after connecting: the replay of the run's events must reach the monitor
        self.pages.setCurrentIndex(0)
        self.status_message.emit(f"Training {run.path.name}…")
        self._update_buttons()

    def stop(self) -> None:
        if self.running():
            again = self.supervisor.stop_requested
            self.supervisor.request_stop()
            self.status_message.emit("Killing the training process and every process it started…" if again else
                                     f"Stopping {self._stops_when()}… (press Stop again to kill)")
            self.stop_button.setText("■ Kill")

    def _stops_when(self) -> str:
        from yolo_studio.training.events import on_cluster
        from yolo_studio.training.tuning import is_tuning

        if not is_tuning(self.run):
            return "after the current batch"
        return "the tuning: its running trials end now" if on_cluster(read_events(self.run.events)) else \
            "after the current trial"

    def running(self) -> bool:
        return self.supervisor is not None and self.supervisor.isRunning()

    def _on_supervisor_ended(self, status: str) -> None:
        self.supervisor.wait()
        messages = {"completed": "Run completed", "stopped": "Run stopped; Resume continues it",
                    "killed": "Run killed; Resume continues from its last saved epoch",
                    "failed": "Run failed: see the summary and the log",
                    "crashed": "Run failed: the training process ended unexpectedly; see the log",
                    "lost": "Run lost: the cluster no longer has its job; Resume continues from its last checkpoint"}
        if status == "crashed":
            self.monitor.summary.setText("<b style='color:#c0392b'>Run failed:</b> the training process ended "
                                         "without a final event (killed or crashed); Resume continues from its "
                                         "last saved epoch")
            self.monitor.summary.show()
        self.status_message.emit(f"{self.run.path.name}: {messages.get(status, status)}")
        self.stop_button.setText("■ Stop")
        self._update_buttons()
        self.run_ended.emit(status)

    def _update_buttons(self) -> None:
        running = self.running()
        self.start_button.setEnabled(not running and self.preflight_button.isEnabled())
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self.resumable())

    def resumable(self) -> bool:
        """The current run ended before its last epoch and has a checkpoint to continue from (a tuning:
        before its last trial, with trials recorded)."""
        from yolo_studio.training.tuning import is_tuning
        from yolo_studio.training.tuning import resumable as tuning_resumable

        if self.run is not None and is_tuning(self.run):
            return tuning_resumable(self.run)
        if self.run is None or not self.run.last.exists():
            return False
        return run_status(read_events(self.run.events)) in ENDED_EARLY

    def _restore_form(self) -> None:
        """The model, dataset, preset, mode and arguments from the last session in this project;
        the settings' default device and trackers where the project has none."""
        saved = self._restore_project_form() if self.project is not None else {}
        settings = load_settings()
        if settings.get("default_device") and "device" not in self.form.overrides():
            self.form.set_overrides({**self.form.overrides(), "device": settings["default_device"]})
        if "logging" not in saved:
            for name, on in (settings.get("trackers") or {}).items():
                if name in self.logging and self.logging[name].isEnabled():
                    self.logging[name].setChecked(bool(on))

    def _restore_project_form(self) -> dict:
        state = self.project.state
        saved = state.get("train") if isinstance(state.get("train"), dict) else {}
        model, data = saved.get("model") or state.get("model"), saved.get("data") or state.get("data")
        if model and self.project.resolve(model).is_file():
            self.model_path.setText(str(self.project.resolve(model)))
        elif model and is_model_name(model):
            self.model_path.setText(model)
        if data and self.project.resolve(data).exists():  # a data YAML, or a classification dataset's folder
            self.data_path.setText(str(self.project.resolve(data)))
        weights = saved.get("weights")
        if weights and self.project.resolve(weights).is_file():
            self.weights_path.setText(str(self.project.resolve(weights)))
        preset = saved.get("preset") or state.get("preset")
        if preset in train_config.preset_names(self.project_dir):
            self.preset.setCurrentText(preset)
        if "overrides" in saved:
            self.form.set_overrides(dict(saved["overrides"] or {}))
        elif preset and self.preset.currentText() == preset:
            self.apply_preset()
        self.mode.setCurrentText(saved.get("mode") or "User")
        for name, on in (saved.get("logging") or {}).items():
            if name in self.logging and self.logging[name].isEnabled():
                self.logging[name].setChecked(bool(on))
        if self.run_on.findData(saved.get("run_on")) > 0:  # a cluster still in Settings
            self.run_on.setCurrentIndex(self.run_on.findData(saved.get("run_on")))
            self.gpus.setValue(int(saved.get("gpus") or 0))
        if isinstance(saved.get("tune"), dict):
            self.tune_page.restore(saved["tune"])
        return saved

    def remember_form(self) -> None:
        if self.project is None:
            return
        paths = {k: self.project.relative(e.text()) if e.text() else "" for k, e in
                 (("model", self.model_path), ("data", self.data_path), ("weights", self.weights_path))}
        if is_model_name(self.model_path.text().strip()):  # yolo11n.yaml: kept as typed, not as a path here
            paths["model"] = self.model_path.text().strip()
        saved = self.project.state.get("train") if isinstance(self.project.state.get("train"), dict) else {}
        tune = self.tune_page.state() or saved.get("tune")  # the page not shown this session: as remembered
        try:
            self.project.remember(train={**paths, "preset": self.preset.currentText(), "mode": self.mode.currentText(),
                                         "overrides": self.form.overrides(), "logging": self.logging_choice(),
                                         "run_on": self.run_on.currentData() or None, "gpus": self.gpus.value(),
                                         "tune": tune})
        except (OSError, ValueError) as exc:
            self.status_message.emit(f"Could not remember the form in {self.project.file}: {exc}")

    def shutdown(self, leave_running: bool = True) -> None:
        """Studio closing: remember the form; stop following (the run keeps going) or stop it first."""
        self.remember_form()
        if self.running():
            if not leave_running:
                self.supervisor.request_stop()
            self.supervisor.detach()
        self.checker.stop()
