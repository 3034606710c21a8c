"""The Heads tab (extract, versions side by side, promote, roll back, clean up), training a head from
the window, and the Inference tab running a hydra model."""

import pytest
from PySide6 import QtWidgets

from helpers import answer_next_dialog
from yolo_studio.core.data.dataset_check import images_in
from yolo_studio.core.project.dataset_import import import_dataset
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.hydra.model import add_head
from yolo_studio.hydra.store import HydraStore

JOB_TIMEOUT = 180_000


def test_heads_tab_extracts_and_manages_versions(qtbot, tmp_path, trained_project, tiny_dataset):
    from yolo_studio.ui.hydra.tab import HeadsTab
    from yolo_studio.ui.inference.tab import InferenceTab

    weights = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    tab = HeadsTab(trained_project)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.extracted, timeout=JOB_TIMEOUT):
        tab.extract(str(weights), "ui-hydra", "shapes")
    store = HydraStore(trained_project.root / "hydra" / "ui-hydra")
    assert tab.selection() == ("ui-hydra", "shapes") and tab.table.rowCount() == 1
    first = store.history("shapes")[0]
    assert "mAP50" in first.metrics and first.classes == ["square", "circle", "triangle"]  # from the run
    for metrics in ({"precision": 0.95, "recall": 0.95}, {"precision": 0.1, "recall": 0.1}):
        add_head(store, "shapes", weights, metrics, ["square", "circle", "triangle"])
    tab.refresh()
    assert tab.table.rowCount() == 3 and tab.table.item(1, 1).text() == "●"  # v2 beat v1 (F1 0.95)
    tab.table.selectRow(2)
    tab.promote_selected()
    assert store.heads()["shapes"]["active"] == 3 and tab.table.item(2, 1).text() == "●"
    tab.rollback()
    assert store.heads()["shapes"]["active"] == 2
    tab.keep.setValue(1)
    answer_next_dialog(QtWidgets.QMessageBox.Yes)
    tab.cleanup()
    assert [v.version for v in store.history("shapes")] == [2, 3]  # v3 is the newest, v2 the active one

    inference = InferenceTab(trained_project)
    qtbot.addWidget(inference)
    inference.refresh_models()
    index = next(i for i in range(inference.model.count()) if "ui-hydra (hydra" in inference.model.itemText(i))
    inference.model.setCurrentIndex(index)
    inference.conf.setValue(0.001)
    video = tmp_path / "clip.mp4"  # a hydra model reads images: the video is listed with the reason
    video.write_bytes(b"not read")
    inference.set_sources([*images_in(tiny_dataset.parent / "images" / "val")[:2], video])
    with qtbot.waitSignal(inference.finished, timeout=JOB_TIMEOUT) as done:
        inference.run()
    results = done.args[0]
    assert len(results) == 3 and all(o["name"].startswith("shapes:") for r in results for o in r.objects)
    assert inference.list.topLevelItemCount() == 3 and "detects in images" in results[2].error
    assert "not read" in inference.summary.text()
    row = inference.list.topLevelItem(0)  # the network column adds the stages; its tooltip lists each
    timing = results[0].timing
    assert float(row.text(3)) == pytest.approx(timing["backbone"] + timing["head:shapes"], abs=0.11)
    assert timing["inference"] == pytest.approx(timing["backbone"] + timing["head:shapes"], abs=0.01)
    assert row.toolTip(3).splitlines() == [f"backbone: {timing['backbone']:.1f} ms",
                                           f"head:shapes: {timing['head:shapes']:.1f} ms"]
    inference.shutdown()


def test_the_extract_dialog_shows_what_each_split_costs_and_extracts_there(qtbot, trained_project):
    from yolo_studio.ui.hydra.extract_dialog import ExtractDialog
    from yolo_studio.ui.hydra.tab import HeadsTab

    weights = str(trained_project.runs_dir / "tiny" / "weights" / "best.pt")
    dialog = ExtractDialog([("tiny (run)", weights)])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.split.count() > 1, timeout=JOB_TIMEOUT)
    texts = [dialog.split.itemText(i) for i in range(dialog.split.count())]
    default = dialog.split.currentText()
    assert "default" in default and "of the model's FLOPs" in dialog.cost.text()
    assert texts[0].startswith("1: after ") and len(texts) == len(dialog.options)
    shares = [dialog.options[dialog.split.itemData(i)]["head_share"] for i in range(dialog.split.count())]
    assert shares == sorted(shares, reverse=True)  # a later split leaves less to each head
    before = dialog.cost.text()
    dialog.split.setCurrentIndex(dialog.split.count() - 1)  # only Detect in each head
    assert dialog.cost.text() != before  # the cost follows the choice
    dialog.name.setText("deeper")
    chosen = dialog.values()
    assert chosen[0] == weights and chosen[1:3] == ("deeper", "base") and chosen[3] == dialog.chosen_split()
    dialog.accept()

    tab = HeadsTab(trained_project)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.extracted, timeout=JOB_TIMEOUT) as done:
        tab.extract(*chosen)
    assert done.args[0]["split"] == chosen[3]
    assert HydraStore(trained_project.root / "hydra" / "deeper").load()["split"] == chosen[3]


def test_a_head_trained_from_the_window_is_stored_as_a_version(qtbot, tmp_path, trained_project, resources):
    from yolo_studio.hydra.model import extract
    from yolo_studio.ui.main_window import MainWindow

    extract(trained_project.root / "hydra", "window", trained_project.runs_dir / "tiny" / "weights" / "best.pt",
            "shapes", imgsz=64)
    data = generate(tmp_path / "parts", train=16, val=8, imgsz=64, seed=11)
    import_dataset(data, trained_project, "parts")
    window = MainWindow(project_dir=trained_project.root)
    try:
        train = window.train_tab
        train.form.set_overrides({"epochs": 1, "imgsz": 64, "batch": 4, "device": "cpu", "workers": 0,
                                  "plots": False})
        ended = []
        train.run_ended.connect(ended.append)
        store = HydraStore(trained_project.root / "hydra" / "window")
        run = window.project_tabs.train_head(store, "parts", str(data))
        assert run is not None and run.spec()["overrides"]["freeze"] == store.load()["split"]
        qtbot.waitUntil(lambda: bool(ended), timeout=JOB_TIMEOUT)
        assert ended == ["completed"]
        version = store.history("parts")[0]
        assert version.version == 1 and store.heads()["parts"]["active"] == 1 and version.source_run == str(run.path)
    finally:
        window.model_tab.undo_stack.setClean()
        window.close()
        window.deleteLater()
