"""UI tests run real windows offscreen; a test must not leave a worker thread running."""

import pytest


@pytest.fixture(autouse=True)
def no_thread_left_running():
    yield
    from yolo_studio.workers.task import LIVE_THREADS

    running = [t for t in list(LIVE_THREADS) if t.thread.isRunning()]
    for t in running:
        t.stop()
    assert not running, "a test left a worker thread running (call shutdown())"


@pytest.fixture
def designer(qtbot):
    from yolo_studio.ui.model.designer import ModelDesignerTab

    tab = ModelDesignerTab()
    qtbot.addWidget(tab)
    tab.resize(1400, 900)
    yield tab
    tab.shutdown()


@pytest.fixture(autouse=True)
def no_dialog_left_waiting(qapp):
    """A modal dialog nobody answers would hang the suite (in a test or in a fixture's teardown): after
    30 s it is closed and the test fails, naming it."""
    import time

    from PySide6 import QtCore, QtWidgets

    first_seen, stuck = {}, []

    def watch():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            return
        since = first_seen.setdefault(id(box), time.monotonic())
        if time.monotonic() - since > 30:
            stuck.append(box.text() if isinstance(box, QtWidgets.QMessageBox) else box.windowTitle())
            box.reject()

    timer = QtCore.QTimer(interval=1000, timeout=watch)
    timer.start()
    yield
    timer.stop()
    assert not stuck, f"a modal dialog waited for an answer nobody gave: {stuck}"
