"""Settings: saved in the studio's settings, the theme applied at once, the Train tab's defaults."""

from PySide6 import QtGui, QtWidgets

from yolo_studio.core.project import projects


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


def test_one_settings_store_with_a_schema_and_the_old_qt_file_moved_into_it(qtbot, tmp_path, monkeypatch):
    """Recent model files were in Qt's settings.ini, projects and the rest in studio.yaml, each with its
    own list limit: now one file, with a schema version; an old settings.ini is moved into it once."""
    from PySide6 import QtCore

    from yolo_studio.core.project import projects
    from yolo_studio.ui.main_window import MainWindow

    monkeypatch.setenv("YOLO_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "studio.yaml").write_text(f"recent_files: [{tmp_path / 'new.yaml'}]\n")  # schema 0
    old = QtCore.QSettings(str(tmp_path / "home" / "settings.ini"), QtCore.QSettings.IniFormat)
    old.setValue("recent_files", [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    old.sync()
    window = MainWindow(project_dir=tmp_path / "project")
    qtbot.addWidget(window)
    try:
        assert projects.load_settings()["schema"] == projects.SETTINGS_SCHEMA
        assert [p.name for p in projects.recent_files()] == ["new.yaml", "a.yaml", "b.yaml"]
        assert not (tmp_path / "home" / "settings.ini").exists()
        projects.add_recent_files(*(tmp_path / f"m{i}.yaml" for i in range(12)))
        assert len(projects.recent_files()) == projects.MAX_RECENT  # one limit for every list
        window._fill_recent_menu()
        assert window.recent_menu.actions()[0].text() == str((tmp_path / "m0.yaml").resolve())
    finally:
        window.model_tab.undo_stack.setClean()
        window.close()


def test_cancel_in_settings_undoes_a_cluster_saved_in_its_sub_dialog(qtbot):
    from PySide6 import QtCore, QtWidgets

    from yolo_studio.training import cluster
    from yolo_studio.ui.settings_dialog import SettingsDialog

    settings = SettingsDialog()
    qtbot.addWidget(settings)
    settings.show()
    settings.clusters_button.click()
    clusters = next(w for w in settings.findChildren(QtWidgets.QDialog) if w is not settings and w.isVisible())
    qtbot.keyClicks(clusters.name, "lab")
    qtbot.keyClicks(clusters.address, "http://127.0.0.1:8265")
    qtbot.keyClick(clusters.address, QtCore.Qt.Key_Return)  # saved by the Clusters dialog
    assert "lab" in cluster.clusters()
    clusters.reject()
    settings.reject()  # Cancel
    assert "lab" not in cluster.clusters()
