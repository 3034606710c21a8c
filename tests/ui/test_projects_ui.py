"""Projects in the window: trust asked once per project, switching projects, the remembered Train form."""

import shutil

from PySide6 import QtWidgets

from helpers import answer_next_dialog
from yolo_studio.training.demo_project import MODEL, create_demo
from yolo_studio.core.project.projects import create_project, open_project


def _close(window):
    window.model_tab.undo_stack.setClean()
    window.close()
    window.deleteLater()


def test_a_project_someone_else_wrote_is_asked_about_once(qtbot, tmp_path, resources):
    from yolo_studio.ui.main_window import MainWindow

    project = create_project(tmp_path / "received")  # not created by this studio's UI: not trusted yet
    shutil.copy(resources / "modules" / "attention.py", project.modules_dir)
    seen = answer_next_dialog(QtWidgets.QMessageBox.Yes)
    first = MainWindow(project_dir=project.root)
    assert "The project 'received'" in seen[0] and first.model_tab.run_blocks
    _close(first)
    again = MainWindow(project_dir=project.root)  # no dialog: a second question would block this line
    assert again.model_tab.run_blocks and again.model_tab.modules_dir == project.modules_dir
    _close(again)
    other = create_project(tmp_path / "other")  # trust is per project, not global
    shutil.copy(resources / "modules" / "attention.py", other.modules_dir)
    seen = answer_next_dialog(QtWidgets.QMessageBox.No)
    refused = MainWindow(project_dir=other.root)
    assert seen and not refused.model_tab.run_blocks
    _close(refused)


def test_switching_projects_opens_the_other_project_with_its_last_model(qtbot, tmp_path):
    from yolo_studio.ui.main_window import MainWindow

    demo = create_demo(tmp_path / "demo")
    window = MainWindow(project_dir=tmp_path / "new-project")  # an empty folder becomes a project
    window.show()
    assert (tmp_path / "new-project" / "project.yaml").is_file()
    switched = window.switch_project(demo.root)
    try:
        assert switched is not None and switched.project.root == demo.root and not window.isVisible()
        assert switched.model_tab.path == demo.resolve(MODEL)
        assert "YOLO Studio demo" in switched.windowTitle()
    finally:
        _close(switched)
        window.deleteLater()


def test_a_folder_that_is_not_a_project_is_refused_and_nothing_changes(qtbot, tmp_path):
    from yolo_studio.ui.main_window import MainWindow

    window = MainWindow(project_dir=tmp_path / "p")
    busy = tmp_path / "photos"
    busy.mkdir()
    (busy / "cat.jpg").write_bytes(b"x")
    seen = answer_next_dialog()
    assert window.switch_project(busy) is None
    assert "is not a YOLO Studio project" in seen[0] and window.project.root == (tmp_path / "p").resolve()
    _close(window)


def test_the_train_form_is_remembered_in_the_project(qtbot, tmp_path):
    from yolo_studio.ui.train.designer import TrainDesignerTab

    demo = create_demo(tmp_path / "demo")
    tab = TrainDesignerTab(demo.root, project=demo)
    qtbot.addWidget(tab)
    assert tab.data_path.text().endswith("data.yaml") and tab.form.overrides()["imgsz"] == 128  # CPU quick
    tab.mode.setCurrentText("Developer")
    tab.form.widgets["lr0"].set_value(0.02)
    tab.shutdown()
    reopened = TrainDesignerTab(demo.root, project=open_project(demo.root))
    qtbot.addWidget(reopened)
    assert reopened.mode.currentText() == "Developer" and reopened.form.overrides()["lr0"] == 0.02
    assert reopened.model_path.text() == str(demo.resolve(MODEL)) and reopened.preset.currentText() == "CPU quick"
    reopened.shutdown()


def test_the_tune_page_is_remembered_in_the_project(qtbot, tmp_path):
    """Found by hand: the trials, epochs and space typed on the Tune page were back to the defaults after
    a restart. Remembered only once the page was shown: a session that never opened it keeps them."""
    from yolo_studio.ui.train.designer import TrainDesignerTab

    demo = create_demo(tmp_path / "demo")
    tab = TrainDesignerTab(demo.root, project=demo)
    qtbot.addWidget(tab)
    tab.pages.setCurrentWidget(tab.tune_page)
    tab.show()
    page = tab.tune_page
    page.set_checked({"lr0", "mosaic"})
    page.space.item(0, 2).setText("0.02")
    page.iterations.setValue(6)
    page.epochs.setValue(3)
    page.fitness.setCurrentIndex(2)
    tab.shutdown()
    unopened = TrainDesignerTab(demo.root, project=open_project(demo.root))  # the Tune page never shown
    qtbot.addWidget(unopened)
    unopened.shutdown()
    reopened = TrainDesignerTab(demo.root, project=open_project(demo.root))
    qtbot.addWidget(reopened)
    reopened.pages.setCurrentWidget(reopened.tune_page)
    reopened.show()
    again = reopened.tune_page.settings()
    assert again["space"] == {"lr0": [1e-05, 0.02], "mosaic": [0.0, 1.0]} and again["iterations"] == 6
    assert again["epochs"] == 3 and again["fitness"] == page.fitness.itemData(2)
    reopened.shutdown()
