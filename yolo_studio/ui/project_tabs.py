"""The project's tabs (Datasets, Train, Runs, Registry, Inference) and the actions between them.

Each tab is built the first time it is shown. The actions that cross tabs live here: train on a
dataset, register a run's model, test a checkpoint in Inference, export a checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.ui.lazy_tabs import LazyTabs


class ProjectTabs:
    def __init__(self, window):
        self.window = window
        self.lazy = LazyTabs(window.tabs)
        for name, factory in (("Datasets", self._make_datasets_tab), ("Train", self._make_train_tab),
                              ("Runs", self._make_runs_tab), ("Registry", self._make_registry_tab),
                              ("Heads", self._make_heads_tab), ("Inference", self._make_inference_tab)):
            self.lazy.add(name, factory)
        window.tabs.currentChanged.connect(self._on_tabs_current_changed)

    def watch_project(self) -> None:
        """Notice ``project.yaml`` written by another process (a ``yolo-studio dataset import`` in a terminal):
        the folder is watched, since an atomic write replaces the file, and what changed is shown."""
        window = self.window
        self._watcher = QtCore.QFileSystemWatcher([str(window.project.root)], window)
        self._reread = QtCore.QTimer(window, singleShot=True, interval=150, timeout=self._on_project_changed)
        self._watcher.directoryChanged.connect(lambda _path: self._reread.start())

    def _on_project_changed(self) -> None:
        if self.window.project.reload():
            self.project_changed_outside()

    def project_changed_outside(self) -> None:
        """Another process wrote the project file (its state is read again): the tabs built so far show it."""
        widgets = self.lazy.widgets
        if "Datasets" in widgets:
            widgets["Datasets"].refresh()
        if "Runs" in widgets:
            widgets["Runs"].refresh()
        self._show_status("The project was changed outside this window (e.g. by yolo-studio): shown again.")

    def _show_status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _make_datasets_tab(self):
        from yolo_studio.ui.datasets.tab import DatasetsTab

        tab = DatasetsTab(self.window.project)
        tab.status_message.connect(self._show_status)
        tab.use_for_training.connect(self._train_on_dataset)
        return tab

    def _make_train_tab(self):
        from yolo_studio.ui.train.designer import TrainDesignerTab

        tab = TrainDesignerTab(self.window.project_dir, self.window.model_tab.modules_dir, project=self.window.project,
                               documents=self.window.documents)
        tab.status_message.connect(self._show_status)
        tab.run_ended.connect(lambda _status: "Runs" in self.lazy.widgets and self.lazy.widgets["Runs"].refresh())
        return tab

    def _make_runs_tab(self):
        from yolo_studio.ui.runs.tab import RunsTab

        tab = RunsTab(self.window.project)
        tab.status_message.connect(self._show_status)
        tab.register_requested.connect(self.register_dialog)
        tab.predict_requested.connect(self.test_in_inference)
        tab.export_requested.connect(self.export_dialog)
        tab.continue_requested.connect(self.continue_run)
        return tab

    def _make_registry_tab(self):
        from yolo_studio.ui.registry.tab import RegistryTab

        tab = RegistryTab(self.window.project)
        tab.status_message.connect(self._show_status)
        tab.predict_requested.connect(self.test_in_inference)
        tab.export_requested.connect(self.export_dialog)
        return tab

    def _make_heads_tab(self):
        from yolo_studio.ui.hydra.tab import HeadsTab

        tab = HeadsTab(self.window.project)
        tab.status_message.connect(self._show_status)
        tab.train_head_requested.connect(self.train_head)
        return tab

    def train_head(self, store, head: str, data: str):
        """Train a head in the Train tab (its form's arguments, the backbone frozen); store it when done."""
        from yolo_studio.training.preflight import free_name
        from yolo_studio.hydra.model import add_trained_head, prepare_head_run

        train = self.lazy.show("Train")
        overrides = {k: v for k, v in train.form.overrides().items() if k != "name"}
        runs_dir = self.window.project.runs_dir
        try:
            run = prepare_head_run(store, head, data, runs_dir, free_name(runs_dir, f"{store.name}-{head}"), overrides)
        except (ValueError, OSError) as exc:
            QtWidgets.QMessageBox.warning(self.window, "Cannot train the head", str(exc))
            return None

        def on_ended(status: str) -> None:
            train.run_ended.disconnect(on_ended)
            if status != "completed":
                self._show_status(f"The head run ended {status}: nothing was stored (Resume continues it)")
                return
            try:
                version, _promoted, reason = add_trained_head(store, head, run)
            except ValueError as exc:
                QtWidgets.QMessageBox.warning(self.window, "Head not stored", str(exc))
                return
            self._show_status(f"Head '{head}' v{version.version}: {reason}")
            if "Heads" in self.lazy.widgets:
                self.lazy.widgets["Heads"].refresh(select=(store.name, head))

        train.run_ended.connect(on_ended)
        train.start_prepared(run)
        return run

    def continue_run(self, run_path: str, epochs: int):
        """A finished run trained longer: a new run from its last weights, followed in the Train tab."""
        from yolo_studio.training.headless import LR_RESTARTS, prepare_continuation

        try:
            run, result = prepare_continuation(run_path, {"epochs": epochs})
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self.window, "Cannot continue the run", str(exc))
            return None
        if run is None:
            QtWidgets.QMessageBox.warning(self.window, "Cannot continue the run", "\n".join(
                c.message for c in result.errors))
            return None
        train = self.lazy.show("Train")
        train.start_prepared(run)
        self._show_status(f"{run.path.name} continues {Path(run_path).name} for {epochs} epochs; {LR_RESTARTS}")
        return run

    def _make_inference_tab(self):
        from yolo_studio.ui.inference.tab import InferenceTab

        tab = InferenceTab(self.window.project)
        tab.status_message.connect(self._show_status)
        return tab

    def _on_tabs_current_changed(self, index: int) -> None:
        name = self.window.tabs.tabText(index)
        if name == "Train":
            self.lazy.get("Train").set_model(self.window.model_tab.path)
        elif name in ("Runs", "Registry", "Heads") and name in self.lazy.widgets:
            self.lazy.widgets[name].refresh()
        elif name == "Inference" and name in self.lazy.widgets:
            self.lazy.widgets[name].refresh_models()

    def _train_on_dataset(self, data: str) -> None:
        self.lazy.show("Train").data_path.setText(data)

    def register_dialog(self, run_path: str):
        """Ask for a model name and register the run's best.pt; returns the entry or None."""
        default = Path(run_path).name
        name, ok = QtWidgets.QInputDialog.getText(self.window, "Register model", "Model name (a new version is added when "
                                                  "the name exists):", text=default)
        if not ok or not name.strip():
            return None
        entry = self.lazy.get("Registry").register(run_path, name.strip())
        if entry is not None:
            self._show_status(f"Registered {entry.ref}: see the Registry tab")
        return entry

    def test_in_inference(self, weights: str) -> None:
        tab = self.lazy.show("Inference")
        tab.refresh_models()
        tab.select_model(weights)

    def export_dialog(self, weights: str):
        from yolo_studio.deploy.export import sample_images
        from yolo_studio.training.registry import list_entries
        from yolo_studio.training.run_store import run_imgsz
        from yolo_studio.ui.registry.export_dialog import ExportDialog

        path = Path(weights)
        entry = next((e for e in list_entries(self.window.project.registry_dir) if e.weights == path), None)
        imgsz = entry.imgsz if entry else run_imgsz(path.parent.parent)
        dialog = ExportDialog(path, imgsz, sample_images(path), self.window)
        dialog.show()
        return dialog
