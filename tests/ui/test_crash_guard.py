"""An unexpected exception in a slot is logged and shown, and the studio keeps running."""

import pytest
from PySide6 import QtCore, QtWidgets

from helpers import answer_next_dialog


@pytest.mark.qt_no_exception_capture  # the studio's own hook must receive it, as in the app
def test_an_exception_in_a_slot_is_logged_shown_and_survived(qtbot, tmp_path):
    from yolo_studio.ui import crash_guard
    from yolo_studio.ui.main_window import MainWindow

    window = MainWindow(project_dir=tmp_path / "p")
    window.show()
    guard = crash_guard.install(window)
    shown = []
    guard.shown.connect(shown.append)
    seen = answer_next_dialog()

    def broken_slot():
        raise RuntimeError("a bug in the studio")

    QtCore.QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert shown == ["RuntimeError: a bug in the studio"] and seen == ["RuntimeError: a bug in the studio"]
    log = crash_guard.log_file().read_text()
    assert "unexpected exception" in log and "raise RuntimeError" in log
    assert window.isVisible()  # still running
    window.tabs.setCurrentIndex(1)
    assert window.tabs.currentIndex() == 1
    window.model_tab.undo_stack.setClean()
    window.close()
    window.deleteLater()
    qtbot.wait(10)


def test_the_error_dialog_copies_its_details():
    from yolo_studio.ui.crash_guard import ErrorDialog

    dialog = ErrorDialog("ValueError: x", "Traceback ...\nValueError: x")
    copy = next(b for b in dialog.buttons() if b.text() == "Copy details")
    copy.click()
    assert QtWidgets.QApplication.clipboard().text() == "Traceback ...\nValueError: x"
    dialog.deleteLater()
