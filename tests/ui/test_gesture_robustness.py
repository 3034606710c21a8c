"""Random real gestures on the Model Designer, seeded: after every one the canvas must show the document
exactly. The long run (10,000 gestures) is benchmarks/gesture_soak.py; this is its short form."""

import pytest

from gestures import GestureDriver, scene_mismatches
from helpers import close_discarding, shipped_model_yamls

GESTURES = 300


@pytest.fixture
def window(qtbot, tmp_path):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow(project_dir=tmp_path / "project")
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    close_discarding(w)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_gestures_never_leave_the_canvas_differing_from_the_document(window, resources, seed, tmp_path):
    window.model_tab.live_inspection = seed == 2  # one run with shapes arriving from the worker meanwhile
    templates = [p for p in shipped_model_yamls() if p.stem in ("yolo11", "yolov8-p2", "yolov9c", "rtdetr-l",
                                                                 "yolo11-cls", "yolov10n")]
    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    driver = GestureDriver(window, seed, templates, save_dir=tmp_path)
    for n in range(GESTURES // 2):
        gesture = driver.step()
        problems = scene_mismatches(window.model_tab)
        assert not problems, f"after gesture {n} ({gesture}); the last ones: {driver.log[-8:]}\n" + "\n".join(problems)
