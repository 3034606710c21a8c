"""The Train tab's Tune page with a real two-trial tuning on this computer."""

from PySide6 import QtCore

from helpers import TINY_RUN
from yolo_studio.training.events import read_events, run_status

RUN_TIMEOUT = 300_000


def test_a_tuning_from_the_tune_page_lists_its_trials_and_applies_the_best(qtbot, tmp_path, tiny_dataset, resources):
    from yolo_studio.ui.train.designer import TrainDesignerTab

    tab = TrainDesignerTab(tmp_path / "project")
    qtbot.addWidget(tab)
    tab.resize(1400, 860)
    tab.show()
    tab.model_path.setText(str(resources / "models" / "yolo11n-demo.yaml"))
    tab.data_path.setText(str(tiny_dataset))
    tab.form.set_overrides({**TINY_RUN, "imgsz": 32})
    page = tab.tune_page
    tab.pages.setCurrentWidget(page)
    assert page.space.rowCount() > 20 and page.space.item(0, 0).text() == "lr0"  # Ultralytics' default space
    page.set_checked({"lr0", "momentum"})
    page.space.item(0, 1).setText("fast")
    qtbot.mouseClick(page.start_button, QtCore.Qt.LeftButton)
    assert "lr0: its range must be two numbers" in page.message.text() and tab.run is None
    page.space.item(0, 1).setText("0.001")
    page.iterations.setValue(2)
    page.epochs.setValue(1)
    ended = []
    tab.run_ended.connect(ended.append)
    qtbot.mouseClick(page.start_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT)
    assert ended == ["completed"] and tab.run.path.name.startswith("tune")
    assert run_status(read_events(tab.run.events)) == "completed"
    summary = tab.monitor.summary.text()  # said "Run completed after None of None epochs" (found by hand)
    assert "Tuning completed</b> after 2 of 2 trials; best: trial " in summary and "None" not in summary
    assert tab.monitor.progress_label.text() == "done"
    assert "Trials train with optimizer=AdamW" in page.message.text()  # and in the log, which the Monitor shows
    assert "Trials train with optimizer=AdamW" in tab.monitor.log_view.toPlainText()
    assert page.trials.rowCount() == 2 and page.trials.horizontalHeaderItem(3).text() == "lr0"
    assert len(page.best_curve.getData()[0]) == 2
    page.trials.selectRow(1)
    assert "trial 2: " in page.trial_plot.getPlotItem().titleLabel.text
    assert page.apply_button.isEnabled()
    qtbot.mouseClick(page.apply_button, QtCore.Qt.LeftButton)
    best = {k: v for k, v in tab.form.overrides().items() if k in ("lr0", "momentum")}
    assert set(best) == {"lr0", "momentum"} and 0.001 <= best["lr0"] <= 0.01
    tab.shutdown()
