"""The main window: files, dialogs, shortcuts, drag and drop, the unsaved-changes prompt."""

import pytest
from PySide6 import QtCore, QtGui, QtTest, QtWidgets

from helpers import answer_next_dialog, close_discarding



@pytest.fixture
def window(qtbot):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow()
    w.model_tab.live_inspection = False
    w.show()
    yield w
    if w.isVisible():  # closed here, not by qtbot: a test may leave unsaved edits behind
        close_discarding(w)
    w.deleteLater()


def test_a_bad_file_is_reported_and_the_open_model_stays(window, resources, data_dir):
    assert window.open_path(resources / "models" / "yolo11n-demo.yaml")
    seen = answer_next_dialog()
    assert not window.open_path(data_dir / "malformed" / "bad_indentation.yaml")
    assert "bad_indentation.yaml:4" in seen[0] and "indented differently" in seen[0]
    assert window.model_tab.path.name == "yolo11n-demo.yaml" and len(window.model_tab.doc.rows) == 24


def test_title_save_and_recent_files(window, resources, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text((resources / "models" / "yolo11n-demo.yaml").read_text())
    window.open_path(path)
    assert window.windowTitle().startswith("m.yaml —")
    window.model_tab.update_row(0, args=[32, 3, 2])
    assert window.windowTitle().startswith("m.yaml* —")
    QtTest.QTest.keySequence(window, QtGui.QKeySequence.Save)
    assert window.windowTitle().startswith("m.yaml —")
    assert "[-1, 1, Conv, [32, 3, 2]] # 0-P1/2" in path.read_text()
    window._fill_recent_menu()
    assert window.recent_menu.actions()[0].text() == str(path.resolve())


def test_close_with_unsaved_changes_asks(window, resources):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    window.model_tab.update_row(0, args=[32, 3, 2])
    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    assert not window.close()
    assert "unsaved changes" in seen[0] and window.isVisible()
    answer_next_dialog(QtWidgets.QMessageBox.Discard)
    assert window.close()


def test_undo_redo_shortcuts_and_delete_key(window, resources, qtbot):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    tab = window.model_tab
    original = tab.doc.to_yaml()
    tab.select_rows([11])
    window.activateWindow()
    viewer = tab.canvas.graph.viewer()
    viewer.setFocus()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is viewer)
    QtTest.QTest.keyClick(viewer, QtCore.Qt.Key_Delete)
    assert len(tab.doc.rows) == 23
    QtTest.QTest.keySequence(window, QtGui.QKeySequence.Undo)
    assert tab.doc.to_yaml() == original
    QtTest.QTest.keySequence(window, QtGui.QKeySequence("Ctrl+Shift+Z"))
    assert len(tab.doc.rows) == 23


def test_move_layer_actions(window, resources):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    tab = window.model_tab
    tab.select_rows([11])
    window.move_selected(-1)
    assert tab.doc.rows[10].module == "nn.Upsample"
    assert tab.doc.head_start == 12  # it now sits between two backbone rows, so it joined the backbone
    assert tab.selected == [10]


def test_dropping_a_yaml_file_on_the_window_opens_it(window, resources):
    path = resources / "models" / "yolo11n-se.yaml"
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = QtCore.QPointF(50, 50)
    enter = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                  QtCore.Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QtWidgets.QApplication.sendEvent(window, QtGui.QDropEvent(pos, QtCore.Qt.CopyAction, mime,
                                                              QtCore.Qt.LeftButton, QtCore.Qt.NoModifier))
    assert window.model_tab.path == path


def test_new_from_template_menu_lists_every_shipped_model_by_family(window):
    from helpers import shipped_model_yamls

    window.new_menu.aboutToShow.emit()
    actions = [a for m in window.new_menu.actions() if m.menu() for a in m.menu().actions()]
    assert len(actions) == len(shipped_model_yamls())
    seg = next(a for a in actions if a.text().startswith("yolo11-seg "))
    assert "(segment)" in seg.text()
    seg.trigger()
    assert window.model_tab.path is None and window.windowTitle().startswith("untitled.yaml")
    assert window.model_tab.doc.rows[-1].module == "Segment"


def test_no_key_is_bound_twice_and_tooltips_name_the_keys(window):
    """Qt ignores a key that two actions (or one action twice) hold: 'Ambiguous shortcut overload'."""
    seen = {}
    for action in window.findChildren(QtGui.QAction):
        keys = [k.toString() for k in action.shortcuts() if not k.isEmpty()]
        assert len(keys) == len(set(keys)), f"{action.text()} holds a key twice: {keys}"
        for key in keys:
            context = action.shortcutContext()
            other = seen.setdefault((key, context), action)
            assert other is action, f"{key} is bound to both {other.text()!r} and {action.text()!r}"
    assert {k.toString() for k in window.redo_action.shortcuts()} == {"Ctrl+Shift+Z", "Ctrl+Y"}
    assert window.save_action.toolTip() == f"Save ({QtGui.QKeySequence('Ctrl+S').toString(QtGui.QKeySequence.NativeText)})"


def test_enter_in_an_argument_field_applies_it(window, resources, qtbot):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    tab = window.model_tab
    tab.select_rows([0])
    field = tab.properties.arg_fields[0]
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.selectAll()
    QtTest.QTest.keyClicks(field, "48")
    QtTest.QTest.keyClick(field, QtCore.Qt.Key_Return)
    qtbot.waitUntil(lambda: tab.doc.rows[0].args[0] == 48)
    assert tab.undo_stack.canUndo() and tab.properties.arg_fields[0].text() == "48"


def test_hostile_files_opened_in_the_window_are_messages_on_their_line(window, resources, tmp_path):
    from helpers import hostile_texts

    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    for name, data in hostile_texts().items():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(data)
        if name == "huge":  # valid YAML, only large: it opens
            assert window.open_path(path) and window.model_tab.path == path
            window.open_path(resources / "models" / "yolo11n-demo.yaml")
            continue
        seen = answer_next_dialog()
        opened = window.open_path(path)
        assert not opened and seen and str(path) in seen[0], (name, seen)
        assert "Traceback" not in seen[0] and window.model_tab.path.name == "yolo11n-demo.yaml"


def test_help_menu_about_shortcuts_and_offline_docs(window):
    from yolo_studio.ui.help import DocsDialog, ShortcutsDialog, about_text

    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in menu.actions() if a.text()] == ["&Documentation", "&Keyboard shortcuts",
                                                               "&About YOLO Studio"]
    text = about_text()
    assert "ultralytics" in text and "torch" in text and "Python" in text
    shortcuts = ShortcutsDialog(window)
    rows = {shortcuts.table.item(i, 0).text(): shortcuts.table.item(i, 1).text()
            for i in range(shortcuts.table.rowCount())}
    assert rows["Save"] == QtGui.QKeySequence("Ctrl+S").toString(QtGui.QKeySequence.NativeText)
    assert "Ctrl+Shift+Z" in rows["Redo"].replace(" ", "") or "Shift" in rows["Redo"]
    docs = DocsDialog(window)
    names = [docs.pages.item(i).text() for i in range(docs.pages.count())]
    assert names[0] == "README" and "ARCHITECTURE" in names and "YOLO Studio" in docs.view.toPlainText()
    shortcuts.close()
    docs.close()


def test_template_families_are_in_version_order(window):
    from yolo_studio.ui.main_window import template_files

    families = list(template_files())
    numbered = [f for f in families if f.lstrip("v").isdigit()]
    assert numbered == sorted(numbered, key=lambda f: int(f.lstrip("v")))
    assert families[:len(numbered)] == numbered and families.index("v8") < families.index("11")


def test_the_demo_project_says_what_to_do_first(qtbot, tmp_path):
    from yolo_studio.training.demo_project import create_demo, first_run_hint
    from yolo_studio.ui.main_window import MainWindow

    project = create_demo(tmp_path / "demo")
    assert "Train tab" in first_run_hint(project)
    w = MainWindow(project_dir=project.root)
    qtbot.addWidget(w)
    w.show()
    assert w.hint is not None and w.hint.isVisible()
    (project.runs_dir / "train").mkdir(parents=True)
    assert first_run_hint(project) is None  # once a run exists, no hint
    w.close()


def test_the_yaml_pane_is_editable_undoable_and_marks_errors_on_their_line(window, resources, qtbot):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    tab = window.model_tab
    original = tab.doc.to_yaml()
    tab.right_tabs.setCurrentWidget(tab.yaml_pane)
    pane = tab.yaml_pane
    window.activateWindow()
    pane.setFocus()
    qtbot.waitUntil(pane.hasFocus)
    assert pane.find("[64, 3, 2]")  # select it, as a double-click and drag would
    QtTest.QTest.keyClicks(pane, "[48, 3, 2]")
    qtbot.waitUntil(lambda: tab.doc.rows[0].args == [48, 3, 2], timeout=3000)
    assert tab.is_modified() and tab.doc.to_yaml() == pane.toPlainText()

    tab.canvas.widget.setFocus()
    QtTest.QTest.keySequence(window, QtGui.QKeySequence("Ctrl+Z"))
    assert tab.doc.to_yaml() == original and pane.toPlainText() == original

    pane.setFocus()
    qtbot.waitUntil(pane.hasFocus)
    cursor = pane.textCursor()
    cursor.movePosition(QtGui.QTextCursor.End)
    pane.setTextCursor(cursor)
    QtTest.QTest.keyClicks(pane, "  - [-1, 1, Conv, [16, 3")  # an unclosed bracket on the last line
    last_line = pane.toPlainText().count("\n") + 1
    qtbot.waitUntil(lambda: pane.error_lines() != [], timeout=3000)
    assert tab.doc.to_yaml() == original  # nothing applied
    assert abs(pane.error_lines()[0] - last_line) <= 1 and "YAML" in window.statusBar().currentMessage()
    assert pane.toPlainText().endswith("[16, 3")  # the typed text stays


def test_yaml_typed_just_before_quitting_is_named_in_the_quit_prompt(window, resources, qtbot):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    tab = window.model_tab
    tab.right_tabs.setCurrentWidget(tab.yaml_pane)
    pane = tab.yaml_pane
    window.activateWindow()
    pane.setFocus()
    qtbot.waitUntil(pane.hasFocus)
    assert pane.find("[64, 3, 2]")
    QtTest.QTest.keyClicks(pane, "[48, 3, 2]")
    assert pane.is_pending()  # quit before typing paused
    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    assert not window.close()
    assert "yolo11n-demo.yaml (model, in the Model tab)" in seen[0] and tab.doc.rows[0].args == [48, 3, 2]


def test_a_changed_ultralytics_is_named_in_one_dialog_that_leaves_the_studio_usable(qtbot, monkeypatch):
    """The start-up probe runs on the inspection worker after its warm-up (no model open needed); a real
    change made to Ultralytics for this test (its task guess) reaches the user as one plain message."""
    from ultralytics.nn import tasks

    from yolo_studio.ui.main_window import MainWindow

    monkeypatch.setattr(tasks, "guess_model_task", lambda model: "segment")
    w = MainWindow()
    w.show()
    qtbot.waitUntil(lambda: getattr(w, "ultralytics_warning", None) is not None and w.ultralytics_warning.isVisible(),
                    timeout=120_000)
    text = w.ultralytics_warning.text()
    assert "changed guess_model_task: a model ending in Detect is segment, not detect" in text
    assert QtWidgets.QApplication.activeModalWidget() is None  # the window behind it still takes input
    w.ultralytics_warning.close()
    close_discarding(w)
    w.deleteLater()


def test_the_window_and_the_command_line_on_one_project_lose_nothing(qtbot, tmp_path):
    """A dataset imported from a terminal while the window is open is shown, and the window's next write of
    project.yaml keeps it (it was dropped: the window wrote the state it had read at start)."""
    from helpers import run_cli
    from yolo_studio.core.data.demo_dataset import generate
    from yolo_studio.core.project.dataset_import import list_datasets
    from yolo_studio.core.project.projects import open_project
    from yolo_studio.ui.main_window import MainWindow

    shapes = generate(tmp_path / "shapes", train=4, val=2, imgsz=64).parent
    w = MainWindow(project_dir=tmp_path / "project")
    w.model_tab.live_inspection = False
    w.show()
    try:
        datasets = w.lazy.show("Datasets")
        assert datasets.datasets.count() == 0
        done = run_cli("dataset", "import", shapes / "data.yaml", "--project", w.project.root, "--name", "outside")
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: datasets.datasets.count() == 1, timeout=10_000)
        assert datasets.datasets.item(0).text() == "outside"
        w.project.remember(model="models/other.yaml")  # what the window writes when a model is opened, or on quit
        on_disk = open_project(w.project.root)
        assert [e.name for e in list_datasets(on_disk)] == ["outside"] and on_disk.state["model"] == "models/other.yaml"
    finally:
        close_discarding(w)
        w.deleteLater()


def _toolbar_button(window, text):
    toolbar = window.findChild(QtWidgets.QToolBar)
    action = next(a for a in toolbar.actions() if a.text() == text)
    return toolbar.widgetForAction(action)


def test_the_toolbars_undo_acts_on_the_tab_in_view(window, resources, qtbot):
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    window.model_tab.update_row(0, args=[32, 3, 2])  # an edit of the model ...
    editor = window.modules_tab.editor
    window.tabs.setCurrentWidget(window.modules_tab)
    QtWidgets.QWidget.setFocus(editor)  # ScintillaEdit.setFocus(bool) is SCI_SETFOCUS
    before = editor.text()
    QtTest.QTest.keyClicks(editor, "x = 1")  # ... then typing in the block editor
    assert editor.text() != before
    undo = _toolbar_button(window, "Undo")
    assert undo.isEnabled()
    while editor.canUndo():
        QtTest.QTest.mouseClick(undo, QtCore.Qt.LeftButton)
    assert editor.text() == before and window.model_tab.doc.rows[0].args == [32, 3, 2]  # the model is untouched
    assert not undo.isEnabled()  # nothing left to undo in this tab, though the model has an edit
    window.tabs.setCurrentWidget(window.model_tab)
    assert undo.isEnabled()
    QtTest.QTest.mouseClick(undo, QtCore.Qt.LeftButton)
    assert window.model_tab.doc.rows[0].args == [64, 3, 2]
    QtTest.QTest.mouseClick(_toolbar_button(window, "Redo"), QtCore.Qt.LeftButton)
    assert window.model_tab.doc.rows[0].args == [32, 3, 2]
    window.lazy.show("Runs")
    assert not undo.isEnabled() and not window.undo_action.isEnabled()
