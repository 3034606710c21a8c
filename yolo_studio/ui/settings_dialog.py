"""Settings: workspace folder, theme, default training device, offline trackers for new runs, and
(in their own dialog, ``ui/clusters.py``) the Ray clusters runs can train on.

Stored in ``studio.yaml`` in the studio's data folder (``core.projects.load_settings``).
"""

from __future__ import annotations

import copy

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.home import studio_data_dir
from yolo_studio.core.project.projects import add_recent_files, load_settings, recent_files, save_settings, workspace_dir
from yolo_studio.training.run_folder import LOGGERS, logging_available

THEMES = ("light", "dark")
DEVICES = ("", "cpu", "0", "0,1", "mps")  # "" = Ultralytics chooses (the first GPU, else the CPU)


def apply_theme(theme: str | None) -> None:
    """Fusion style with a light or dark palette for the whole application."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    app.setStyle("Fusion")
    if theme != "dark":
        app.setPalette(app.style().standardPalette())
        return
    palette = QtGui.QPalette()
    dark, base, text = QtGui.QColor(45, 45, 48), QtGui.QColor(30, 30, 30), QtGui.QColor(220, 220, 220)
    for role, colour in ((QtGui.QPalette.Window, dark), (QtGui.QPalette.WindowText, text),
                         (QtGui.QPalette.Base, base), (QtGui.QPalette.AlternateBase, dark),
                         (QtGui.QPalette.Text, text), (QtGui.QPalette.Button, dark),
                         (QtGui.QPalette.ButtonText, text), (QtGui.QPalette.ToolTipBase, dark),
                         (QtGui.QPalette.ToolTipText, text), (QtGui.QPalette.Highlight, QtGui.QColor(47, 128, 237)),
                         (QtGui.QPalette.HighlightedText, QtGui.QColor("white")),
                         (QtGui.QPalette.PlaceholderText, QtGui.QColor(140, 140, 140))):
        palette.setColor(role, colour)
    # disabled widgets must look disabled: dimmer text, and fields and buttons that sink into the window
    dim = QtGui.QColor(112, 112, 112)
    for role, colour in ((QtGui.QPalette.Text, dim), (QtGui.QPalette.ButtonText, dim), (QtGui.QPalette.WindowText, dim),
                         (QtGui.QPalette.Base, QtGui.QColor(40, 40, 43)), (QtGui.QPalette.Button, QtGui.QColor(40, 40, 43)),
                         (QtGui.QPalette.Highlight, QtGui.QColor(70, 80, 95)),
                         (QtGui.QPalette.PlaceholderText, QtGui.QColor(90, 90, 90))):
        palette.setColor(QtGui.QPalette.Disabled, role, colour)
    app.setPalette(palette)


class SettingsDialog(QtWidgets.QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        settings = load_settings()
        self.workspace = QtWidgets.QLineEdit(str(workspace_dir()))
        browse = QtWidgets.QToolButton(text="…", clicked=self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.workspace, 1)
        row.addWidget(browse)
        self.theme = QtWidgets.QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.get("theme") or "light")
        self.device = QtWidgets.QComboBox(editable=True)
        self.device.addItems(DEVICES)
        self.device.setCurrentText(str(settings.get("default_device") or ""))
        self.device.lineEdit().setPlaceholderText("Ultralytics chooses (first GPU, else CPU)")
        trackers = settings.get("trackers") or {}
        self.trackers = {}
        tracker_row = QtWidgets.QHBoxLayout()
        for name, label in (("tensorboard", "TensorBoard"), ("mlflow", "MLflow (local)")):
            box = QtWidgets.QCheckBox(label, checked=bool(trackers.get(name)))
            if not logging_available(name):
                box.setEnabled(False)
                box.setToolTip(f"needs the {LOGGERS[name]} package: pip install 'yolo-studio[logging]'")
            self.trackers[name] = box
            tracker_row.addWidget(box)
        tracker_row.addStretch(1)
        self.weights_folders = QtWidgets.QPlainTextEdit("\n".join(settings.get("weights_folders") or []))
        self.weights_folders.setPlaceholderText("one folder per line, e.g. where you copied yolo11n.pt and friends")
        self.weights_folders.setToolTip("The Train tab's model picker lists the weights (.pt) found in these "
                                        "folders, with their task, classes and size")
        self.weights_folders.setMaximumHeight(70)
        form = QtWidgets.QFormLayout()
        form.addRow("Workspace (new projects)", row)
        form.addRow("Weights folders", self.weights_folders)
        form.addRow("Theme", self.theme)
        form.addRow("Default training device", self.device)
        form.addRow("Offline trackers for new runs", tracker_row)
        self.clusters_button = QtWidgets.QPushButton("Clusters…", clicked=self._clusters,
                                                     toolTip="Ray clusters to train on: address, shared storage, "
                                                             "Test connection (docs/CLUSTER.md)")
        form.addRow("Ray clusters", self.clusters_button)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Save | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(620, 280)
        self._clusters_before = None  # set when the Clusters dialog is opened from here

    def _clusters(self) -> None:
        from yolo_studio.ui.clusters import ClustersDialog

        if self._clusters_before is None:  # what Cancel puts back: the clusters as they were before Settings
            self._clusters_before = copy.deepcopy(load_settings().get("clusters") or [])
        ClustersDialog(self).open()

    def reject(self) -> None:
        """Cancel undoes everything done in Settings, the clusters saved in their own dialog included."""
        if self._clusters_before is not None and (load_settings().get("clusters") or []) != self._clusters_before:
            save_settings(clusters=self._clusters_before)
        super().reject()

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Workspace folder", self.workspace.text())
        if folder:
            self.workspace.setText(folder)

    def accept(self) -> None:
        save_settings(workspace=self.workspace.text().strip() or None, theme=self.theme.currentText(),
                      default_device=self.device.currentText().strip() or None,
                      trackers={name: box.isChecked() for name, box in self.trackers.items()},
                      weights_folders=[line.strip() for line in self.weights_folders.toPlainText().splitlines()
                                       if line.strip()])
        apply_theme(self.theme.currentText())
        super().accept()


def move_qt_settings() -> None:
    """Studios before the settings' schema 1 kept recent model files in Qt's ``settings.ini``: move them
    into ``studio.yaml``, the one settings store (after the ones it has), then retire the file."""
    old = studio_data_dir() / "settings.ini"
    if not old.is_file():
        return
    value = QtCore.QSettings(str(old), QtCore.QSettings.IniFormat).value("recent_files") or []
    add_recent_files(*recent_files(), *([value] if isinstance(value, str) else value))  # studio.yaml's first
    old.replace(old.with_name("settings.ini.moved-to-studio.yaml"))
