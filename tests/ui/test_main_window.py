"""The main window: files, dialogs, shortcuts, drag and drop, the unsaved-changes prompt."""

import pytest
from PySide6 import QtCore, QtGui, QtTest, QtWidgets



@pytest.fixture
def window(qtbot):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow()
    w.model_tab.live_inspection = False
    w.show()
    yield w
    if w.isVisible():  # closed here, not by qtbot: a test may leave unsaved edits behind
        w.model_tab.undo_stack.setClean()
        w.close()
    w.deleteLater()


def answer_next_dialog(button=None):
    """Answer the next modal dialog (``button``: a standard button or a button's text; else accept);
    returns the texts it showed."""
    seen = []

    def answer():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            QtCore.QTimer.singleShot(10, answer)
            return
        seen.append(box.text() if isinstance(box, QtWidgets.QMessageBox) else box.windowTitle())
        if isinstance(button, str):  # a button of the dialog's own, by its text
            next(b for b in box.buttons() if b.text() == button).click()
        elif button is not None:
            box.button(button).click()
        else:
            box.accept()

    QtCore.QTimer.singleShot(0, answer)
    return seen


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
    window._move_selected(-1)
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
