"""UI tests run real windows offscreen; a test must not leave a thread running."""

import weakref

import pytest

GRACE_MS = 3000  # a job thread may still be finishing its last item when the test ends


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch):
    """Every QThread a test starts (task threads, jobs, run supervisors, any subclass) is recorded, as
    napari's test fixtures do; one still running a moment after the test fails it, named."""
    import shiboken6
    from PySide6 import QtCore

    started = weakref.WeakSet()
    original = QtCore.QThread.start

    def start(thread, *args, **kwargs):
        started.add(thread)
        return original(thread, *args, **kwargs)

    monkeypatch.setattr(QtCore.QThread, "start", start)
    yield
    running = []
    for thread in list(started):
        if shiboken6.isValid(thread) and thread.isRunning() and not thread.wait(GRACE_MS):
            running.append(thread.objectName() or type(thread).__name__)
            thread.quit()
            thread.wait(GRACE_MS)
    assert not running, f"a test left threads running (call shutdown()): {running}"


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
