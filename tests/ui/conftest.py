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
