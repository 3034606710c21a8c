"""Settings: saved in the studio's settings, the theme applied at once, the Train tab's defaults."""

from PySide6 import QtGui, QtWidgets

from yolo_studio.core import projects


def test_settings_are_saved_applied_and_used_by_new_train_forms(qtbot, tmp_path):
    from yolo_studio.ui.settings_dialog import SettingsDialog, apply_theme
    from yolo_studio.ui.train.designer import TrainDesignerTab

    app = QtWidgets.QApplication.instance()
    style, palette = app.style().name(), QtGui.QPalette(app.palette())
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.workspace.setText(str(tmp_path / "workspace"))
    dialog.theme.setCurrentText("dark")
    dialog.device.setCurrentText("cpu")
    dialog.trackers["tensorboard"].setChecked(True)
    try:
        dialog.accept()
        saved = projects.load_settings()
        assert saved["theme"] == "dark" and saved["default_device"] == "cpu"
        assert saved["trackers"]["tensorboard"] is True and projects.workspace_dir() == tmp_path / "workspace"
        window_colour = QtWidgets.QApplication.instance().palette().color(QtGui.QPalette.Window)
        assert window_colour.lightness() < 80  # dark now, without a restart
        project = projects.create_project(tmp_path / "p")
        tab = TrainDesignerTab(project.root, project=project)  # a project with no remembered form
        qtbot.addWidget(tab)
        assert tab.form.overrides()["device"] == "cpu" and tab.logging_choice()["tensorboard"]
        tab.shutdown()
    finally:
        projects.save_settings(workspace=None, theme=None, default_device=None, trackers=None)
        apply_theme("light")
        assert app.palette().color(QtGui.QPalette.Window).lightness() > 180
        app.setStyle(style)  # as the other tests expect
        app.setPalette(palette)


def test_disabled_widgets_look_disabled_in_the_dark_theme(qtbot):
    from PySide6 import QtGui, QtWidgets

    from yolo_studio.ui.settings_dialog import apply_theme

    apply_theme("dark")
    try:
        button, field = QtWidgets.QPushButton("Apply"), QtWidgets.QLineEdit("x")
        for widget in (button, field):
            qtbot.addWidget(widget)
            widget.setEnabled(False)
        palette = QtWidgets.QApplication.palette()
        for role in (QtGui.QPalette.ButtonText, QtGui.QPalette.Text, QtGui.QPalette.WindowText,
                     QtGui.QPalette.Button, QtGui.QPalette.Base):
            active = palette.color(QtGui.QPalette.Active, role)
            disabled = palette.color(QtGui.QPalette.Disabled, role)
            assert active != disabled, role
        assert palette.color(QtGui.QPalette.Disabled, QtGui.QPalette.ButtonText).lightness() < \
            palette.color(QtGui.QPalette.Active, QtGui.QPalette.ButtonText).lightness() - 60
        from yolo_studio.ui import plot_style
        import pyqtgraph as pg

        plot_style.apply()
        assert pg.getConfigOption("background") != "w"  # plots follow the dark theme
    finally:
        apply_theme("light")
        from yolo_studio.ui import plot_style

        plot_style.apply()
