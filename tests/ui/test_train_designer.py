"""The Train tab with real tiny trainings: signals, plots, stop, resume, kill, re-attach."""

import time

import pytest

from helpers import TINY_RUN
from yolo_studio.core.project.projects import create_project
from yolo_studio.training import launch
from yolo_studio.training.events import read_events, run_status
from yolo_studio.training.run_folder import prepare_run

RUN_TIMEOUT = 300_000


@pytest.fixture
def tab(qtbot, tmp_path, tiny_dataset, resources):
    from yolo_studio.ui.train.designer import TrainDesignerTab

    t = TrainDesignerTab(tmp_path / "project")
    qtbot.addWidget(t)
    t.resize(1400, 860)
    t.show()
    t.model_path.setText(str(resources / "models" / "yolo11n-demo.yaml"))
    t.data_path.setText(str(tiny_dataset))
    t.form.set_overrides(dict(TINY_RUN))
    yield t
    if t.running():
        t.supervisor.kill()
        t.supervisor.wait()
    t.shutdown()


def curve_points(tab, key):
    if key not in tab.monitor.curves:  # the monitor makes a curve when the run first reports its key
        return 0
    x, _y = tab.monitor.curves[key].getOriginalDataset()  # getData() is clipped to the current view
    return 0 if x is None else len(x)


def test_user_and_developer_modes_write_the_same_overrides(tab):
    assert set(tab.form.widgets) == {"epochs", "imgsz", "batch", "device", "patience", "amp", "workers", "name"}
    tab.form.widgets["epochs"].set_value(7)
    tab.mode.setCurrentText("Developer")
    assert "lr0" in tab.form.widgets and tab.form.widgets["epochs"].value() == 7
    tab.form.widgets["lr0"].set_value(0.02)
    tab.mode.setCurrentText("User")
    assert tab.form.overrides()["lr0"] == 0.02 and tab.form.overrides()["epochs"] == 7
    assert "lr0=0.02" in tab.command_view.toPlainText() and "epochs=7" in tab.command_view.toPlainText()
    tab.form.widgets["batch"].editor.setText("eight")
    assert "problem: 'batch=eight'" in tab.resolved_view.toPlainText()


def test_preflight_errors_block_the_start(tab, qtbot):
    tab.data_path.setText(str(tab.project_dir / "missing.yaml"))
    with qtbot.waitSignal(tab.preflight_done, timeout=60_000) as done:
        tab.start()
    assert not done.args[0].ok and not tab.running()
    assert any("the dataset file does not exist" in tab.checks.item(i).text() for i in range(tab.checks.count()))


def test_the_checks_say_they_are_stale_once_the_model_field_changes(tab, qtbot, resources):
    tab.data_path.setText(str(tab.project_dir / "missing.yaml"))
    with qtbot.waitSignal(tab.preflight_done, timeout=60_000):
        tab.run_preflight()
    assert any("does not exist" in tab.checks.item(i).text() for i in range(tab.checks.count()))
    qtbot.keyClicks(tab.model_path, "x")  # the user edits the Model field: the old checks were about another model
    texts = [tab.checks.item(i).text() for i in range(tab.checks.count())]
    assert len(texts) == 1 and "changed since these checks" in texts[0] and not tab.fix_buttons()


def test_a_run_streams_into_the_plots_then_stop_and_resume(tab, qtbot):
    tab.form.set_overrides({**TINY_RUN, "epochs": 3, "batch": 2})
    ended = []
    tab.run_ended.connect(ended.append)
    tab.start()
    qtbot.waitUntil(lambda: tab.running(), timeout=60_000)
    qtbot.waitUntil(lambda: any(e["type"] == "batch" for e in tab.monitor.events), timeout=RUN_TIMEOUT)
    assert tab.monitor.progress.value() > 0  # (its label may already show the epoch's end: not checked here)
    assert len(tab.monitor.memory_curve.getOriginalDataset()[0]) > 0  # the CPU run's process memory, per batch
    import psutil

    assert psutil.Process(tab.supervisor.pid).nice() >= psutil.Process().nice() + 5  # the studio stays quick
    tab.stop()  # graceful: finishes the batch, validates, saves
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT)
    assert ended == ["stopped"] and tab.resume_button.isEnabled()
    assert curve_points(tab, "train/box_loss") == 1 and "stopped" in tab.monitor.summary.text()
    tab.resume()
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=RUN_TIMEOUT)
    assert ended[-1] == "completed"
    trace = [(e["type"], e.get("epoch"), e.get("status")) for e in read_events(tab.run.events) if e["type"] != "batch"]
    for key in ("train/box_loss", "val/cls_loss", "metrics/mAP50(B)", "metrics/recall(B)", "lr/pg0"):
        assert curve_points(tab, key) == 3, (key, trace)
    assert "Run completed" in tab.monitor.summary.text() and "Ultralytics" in tab.monitor.log_view.toPlainText()
    assert not tab.resume_button.isEnabled()


def test_a_killed_training_process_is_reported_and_the_studio_keeps_working(tab, qtbot):
    tab.form.set_overrides({**TINY_RUN, "epochs": 50, "batch": 2})
    ended = []
    tab.run_ended.connect(ended.append)
    tab.start()
    qtbot.waitUntil(lambda: any(e["type"] == "batch" for e in tab.monitor.events), timeout=RUN_TIMEOUT)
    tab.supervisor.process.kill()  # as if the OS killed it (out of memory, segfault)
    qtbot.waitUntil(lambda: bool(ended), timeout=60_000)
    assert ended == ["crashed"] and "Run failed" in tab.monitor.summary.text()
    assert tab.start_button.isEnabled()
    tab.mode.setCurrentText("Developer")  # the UI still responds
    assert "lr0" in tab.form.widgets


def test_reattach_to_a_run_started_headless(qtbot, tmp_path, tiny_dataset, resources):
    from yolo_studio.ui.main_window import MainWindow

    project = create_project(tmp_path / "project").root
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, project / "runs", "headless",
                      {**TINY_RUN, "epochs": 3, "batch": 2})
    process = launch.start(run)
    deadline = time.monotonic() + 120
    while run_status(read_events(run.events)) != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    window = MainWindow(modules_dir=tmp_path / "modules", project_dir=project)
    try:
        tab = window.train_tab
        assert tab.running() and tab.run.path == run.path  # re-attached on open
        ended = []
        tab.run_ended.connect(ended.append)
        qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT)
        assert ended == ["completed"] and curve_points(tab, "train/box_loss") == 3
    finally:
        process.wait(timeout=60)
        window.model_tab.undo_stack.setClean()
        window.close()
        window.deleteLater()


def test_batch_progress_shows_epoch_batch_and_memory(qtbot):
    from yolo_studio.ui.train.monitor import MonitorPanel

    monitor = MonitorPanel()
    qtbot.addWidget(monitor)
    monitor.add_events([{"type": "batch", "epoch": 2, "epochs": 3, "batch": 5, "batches": 10, "memory_gb": 1.25,
                         "losses": {}}])
    assert monitor.progress_label.text() == "epoch 2/3 · batch 5/10 · 1.25 GB"
    assert monitor.progress.value() == 15 and monitor.progress.maximum() == 30
    x, y = monitor.memory_curve.getOriginalDataset()
    assert list(x) == [1.5] and list(y) == [1.25]


def test_the_command_preview_names_the_models_task(tab):
    from helpers import shipped_model_yamls

    paths = {p.stem: p for p in shipped_model_yamls()}
    for stem, task in (("yolo11-cls", "classify"), ("yolo11-seg", "segment"), ("yolo11-pose", "pose"),
                       ("yolo11-obb", "obb"), ("yolo11", "detect")):
        tab.model_path.setText(str(paths[stem]))
        assert tab.command_view.toPlainText().startswith(f"yolo {task} train"), stem


def test_the_monitor_plots_the_keys_a_classify_run_reports(qtbot):
    """Curves come from the run's own metric keys: a classify run has accuracy, no mAP."""
    from yolo_studio.ui.train.monitor import MonitorPanel

    monitor = MonitorPanel()
    qtbot.addWidget(monitor)
    monitor.resize(1200, 700)
    monitor.show()
    events = [{"type": "epoch_end", "epoch": e, "epochs": 3, "epoch_time": 1.0, "eta": 3 - e, "fitness": 0.0,
               "metrics": {"train/loss": 0.0, "val/loss": 0.0, "metrics/accuracy_top1": 0.0,
                           "metrics/accuracy_top5": 0.0, "lr/pg0": 0.0}} for e in (1, 2)]
    monitor.add_events(events)
    assert set(monitor.groups) == {"loss", "accuracy", "learning rate"}
    assert len(monitor.curves["metrics/accuracy_top1"].getOriginalDataset()[0]) == 2
    plot = monitor.groups["accuracy"][0]
    qtbot.waitUntil(lambda: plot.getViewBox().viewRange()[1][0] >= 0)  # all zeros: the axis does not go negative
    assert "top1" in plot.titleLabel.text and "top5" in plot.titleLabel.text  # the legend is the title
    monitor.add_events([{"type": "run_end", "status": "stopped", "epochs_done": 2, "epochs": 3}])
    assert "ETA" not in monitor.progress_label.text() and "stopped" in monitor.progress_label.text()
    assert "accuracy_top1 0.000" in monitor.summary.text()
    monitor.reset()  # the next run, of another task: none of this run's plots stay behind
    monitor.add_events([{**events[0], "metrics": {"train/box_loss": 1.0, "metrics/mAP50(B)": 0.1}}])
    assert set(monitor.groups) == {"box_loss", "mAP (B)"} and len(monitor.plots.ci.items) == 3


def test_a_checkpoint_as_the_model_and_weights_for_a_yaml_go_through_preflight(tab, qtbot, trained_project,
                                                                               resources):
    best = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    tab.model_path.setText(str(best))  # fine-tune: its custom blocks are found in its run folder
    assert "yolo detect train model=" in tab.command_view.toPlainText()
    with qtbot.waitSignal(tab.preflight_done, timeout=120_000) as done:
        tab.run_preflight()
    texts = [tab.checks.item(i).text() for i in range(tab.checks.count())]
    assert done.args[0].ok, texts
    assert any("best.pt: detect, 3 classes, trained at imgsz 64" in t and "Python pickle" in t for t in texts)

    tab.model_path.setText(str(resources / "models" / "yolo11n-se.yaml"))
    tab.modules_dir = resources / "modules"
    tab.weights_path.setText(str(best))  # a YAML starting from these weights
    assert "artifacts/transferred.pt" in tab.command_view.toPlainText()
    with qtbot.waitSignal(tab.preflight_done, timeout=120_000) as done:
        tab.run_preflight()
    texts = [tab.checks.item(i).text() for i in range(tab.checks.count())]
    assert any("The studio transfers 467/467 tensors" in t for t in texts), texts


def test_the_weights_picker_lists_runs_registry_and_the_folders_from_settings(qtbot, trained_project, tmp_path):
    import shutil

    from yolo_studio.core.project.projects import load_settings, save_settings
    from yolo_studio.ui.train.designer import TrainDesignerTab

    folder = tmp_path / "official"
    folder.mkdir()
    shutil.copy(trained_project.runs_dir / "tiny" / "weights" / "best.pt", folder / "yolo11n-shapes.pt")
    (folder / "broken.pt").write_bytes(b"not weights")
    before = load_settings().get("weights_folders")
    save_settings(weights_folders=[str(folder)])
    try:
        tab = TrainDesignerTab(trained_project.root, project=trained_project)
        qtbot.addWidget(tab)
        sections = dict(tab.weights_choices())
        assert [w.label() for w in sections["Runs of this project"]][:1] == ["tiny/best.pt  (detect, 3 classes, 5 MB)"]
        labels = sorted(w.label() for w in sections["Weights folders (Settings)"])
        assert labels[1] == "yolo11n-shapes.pt  (detect, 3 classes, 5 MB)"
        assert labels[0].startswith("broken.pt") and "cannot be read: not a PyTorch checkpoint" in labels[0]
        tab._fill_weights_menu()
        action = next(a for a in tab.weights_menu.actions() if a.text().startswith("yolo11n-shapes.pt"))
        action.trigger()
        assert tab.model_path.text() == str(folder / "yolo11n-shapes.pt")
        assert not next(a for a in tab.weights_menu.actions() if a.text().startswith("broken.pt")).isEnabled()
        assert not tab.weights_row.isEnabled()  # a checkpoint model starts from its own weights
        assert any(a.text().startswith("tiny/last.pt") for a in tab.weights_menu.actions())
        tab.model_path.setText(str(trained_project.root / "models" / "m.yaml"))
        assert tab.weights_row.isEnabled()
        tab._fill_weights_menu(tab.start_menu, tab.weights_path)
        next(a for a in tab.start_menu.actions() if a.text().startswith("tiny/best.pt")).trigger()
        assert tab.weights_path.text().endswith("best.pt") and tab.model_path.text().endswith("m.yaml")
        tab.shutdown()
    finally:
        save_settings(weights_folders=before or [])


def test_a_classification_folder_dataset_is_remembered_across_a_relaunch(qtbot, tmp_path):
    """The form restored only files: a class-folder dataset came back empty and the next quit wrote data: ''."""
    from PIL import Image

    from yolo_studio.core.project.projects import create_project, open_project
    from yolo_studio.ui.train.designer import TrainDesignerTab

    project = create_project(tmp_path / "project")
    folder = project.datasets_dir / "flowers"
    for split in ("train", "val"):
        for name in ("rose", "tulip"):
            (folder / split / name).mkdir(parents=True)
            Image.new("RGB", (32, 32)).save(folder / split / name / "a.jpg")
    first = TrainDesignerTab(project.root, project=project)
    qtbot.addWidget(first)
    first.data_path.setText(str(folder))
    first.remember_form()  # as on quit
    first.shutdown()
    again = open_project(project.root)
    second = TrainDesignerTab(again.root, project=again)  # the studio opened again
    qtbot.addWidget(second)
    assert second.data_path.text() == str(folder.resolve())
    second.remember_form()
    assert open_project(project.root).state["train"]["data"] == "datasets/flowers"
    second.shutdown()


def test_the_terminal_command_of_a_model_with_custom_blocks_is_one_that_runs(qtbot, tmp_path, tiny_dataset, resources):
    """Plain `yolo detect train` fails on custom blocks with KeyError: the preview says so and shows the
    yolo-studio train line, which is run here as pasted (it was a plain yolo line before)."""
    import shlex

    from helpers import TINY_RUN, run_cli
    from yolo_studio.ui.train.designer import TrainDesignerTab

    tab = TrainDesignerTab(tmp_path / "project", resources / "modules")
    qtbot.addWidget(tab)
    tab.model_path.setText(str(resources / "models" / "yolo11n-se.yaml"))
    tab.data_path.setText(str(tiny_dataset))
    tab.form.set_overrides({**TINY_RUN, "epochs": 1})
    tab._update_preview()
    text = tab.command_view.toPlainText()
    tab.shutdown()
    assert "uses custom blocks (DownsampleConv, SEAttention)" in text and "cannot build" in text and "KeyError" in text
    assert "yolo-studio bundle" in text and "python bundle/train.py" in text
    line = next(line for line in text.splitlines() if line.startswith("yolo-studio train "))
    done = run_cli(*shlex.split(line)[1:])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_model_named_as_ultralytics_names_it_is_remembered_as_typed(qtbot, tmp_path):
    """Found walking under Xvfb: 'yolo11n-cls.yaml' was remembered as a path beside the studio's working folder,
    which does not exist, so the relaunched form had no model."""
    from yolo_studio.core.project.projects import create_project, open_project
    from yolo_studio.ui.train.designer import TrainDesignerTab

    project = create_project(tmp_path / "project")
    first = TrainDesignerTab(project.root, project=project)
    qtbot.addWidget(first)
    qtbot.keyClicks(first.model_path, "yolo11n-cls.yaml")
    first.remember_form()
    first.shutdown()
    again = open_project(project.root)
    assert again.state["train"]["model"] == "yolo11n-cls.yaml"
    second = TrainDesignerTab(again.root, project=again)
    qtbot.addWidget(second)
    assert second.model_path.text() == "yolo11n-cls.yaml"
    second.shutdown()
