"""The Datasets, Runs, Registry and Inference tabs and the export dialog, on real data and a real model."""

import shutil
from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from helpers import plant_defects, zip_folder
from helpers import answer_next_dialog
from yolo_studio.core.data.dataset_check import images_in
from yolo_studio.core.project.dataset_import import import_dataset, list_datasets
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.project.projects import create_project

JOB_TIMEOUT = 120_000


@pytest.fixture
def project(tmp_path):
    return create_project(tmp_path / "project")


def test_the_datasets_tab_reports_each_planted_defect_and_shows_samples(qtbot, project, tmp_path):
    from yolo_studio.ui.datasets.tab import DatasetsTab

    shapes = generate(tmp_path / "shapes", train=12, val=4, imgsz=64).parent
    planted = plant_defects(shapes)
    import_dataset(shapes / "data.yaml", project, "planted")
    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    with qtbot.waitSignal(tab.validated, timeout=JOB_TIMEOUT) as done:
        tab.start_validation()
    report = done.args[0]
    shown = {tab.findings.topLevelItem(i).text(2) for i in range(tab.findings.topLevelItemCount())}
    for kind, (file, line) in planted.items():
        assert (f"{file}:{line}" if line else str(file)) in shown, kind
    assert "errors" in tab.summary.text() and tab.splits.rowCount() == 2
    assert tab.splits.item(0, 1).text() == "13"  # 12 generated + the planted broken image
    assert len(tab.box_scatter.data) == len(report.box_sizes)
    item = next(tab.findings.topLevelItem(i) for i in range(tab.findings.topLevelItemCount())
                if tab.findings.topLevelItem(i).text(1) == "class")
    tab._on_findings_item_double_clicked(item, 0)  # opens the image in the sample browser
    assert tab.pages.currentIndex() == 2 and tab.samples.list.currentItem().text() == "train_0003.png"
    assert "0 objects" in tab.samples.caption.text()  # its only line has an unknown class: not drawn
    tab.samples.class_filter.setCurrentText("circle")
    listed = [tab.samples.list.item(i).text() for i in range(tab.samples.list.count())]
    assert listed and all(any(o.cls == 1 for o in tab.samples.index.objects(shapes / "images" / "train" / n))
                          for n in listed)
    tab.shutdown()


def test_validation_can_be_cancelled_and_a_zip_release_imports_once(qtbot, project, tmp_path):
    from yolo_studio.ui.datasets.tab import DatasetsTab

    shapes = generate(tmp_path / "shapes", train=400, val=4, imgsz=64).parent
    archive = zip_folder(shapes, tmp_path / "shapes-v1.zip")
    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    for _ in range(2):
        with qtbot.waitSignal(tab.imported, timeout=JOB_TIMEOUT):
            tab.import_source(archive)
    assert [e.name for e in list_datasets(project)] == ["shapes-v1"] and tab.datasets.count() == 1
    with qtbot.waitSignal(tab.validated, timeout=JOB_TIMEOUT) as done:
        job = tab.start_validation()
        job.cancel()
    assert done.args[0].cancelled and "cancelled" in tab.summary.text()
    seen = []

    def choose_delete():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            QtCore.QTimer.singleShot(10, choose_delete)
            return
        seen.append(box.informativeText())
        next(b for b in box.buttons() if b.text() == "Also delete its files").click()

    QtCore.QTimer.singleShot(0, choose_delete)
    tab.remove_dialog()
    assert "Deleting them cannot be undone" in seen[0]
    assert tab.datasets.count() == 0 and not (project.datasets_dir / "shapes-v1").exists()
    tab.shutdown()


def test_runs_tab_lists_compares_shows_details_and_deletes_only_when_confirmed(qtbot, trained_project):
    from yolo_studio.ui.runs.tab import RunsTab

    copy = trained_project.runs_dir / "copy-of-tiny"
    shutil.copytree(trained_project.runs_dir / "tiny", copy, dirs_exist_ok=True)
    tab = RunsTab(trained_project)
    qtbot.addWidget(tab)
    names = [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())]
    assert {"tiny", "copy-of-tiny"} <= set(names)
    row = names.index("tiny")
    assert tab.table.item(row, 1).text() == "completed" and tab.table.item(row, 4).text() == "2/2"
    tab.table.selectRow(row)
    assert "yolo detect train" in tab.config_view.toPlainText() and "Ultralytics" in tab.log_view.toPlainText()
    assert {tab.checkpoints.topLevelItem(i).text(0) for i in range(tab.checkpoints.topLevelItemCount())} == \
        {"best.pt", "last.pt"}
    tab.table.setSelectionMode(QtWidgets.QAbstractItemView.MultiSelection)
    tab.table.selectRow(names.index("copy-of-tiny"))
    assert len(tab.selected()) == 2 and len(tab.plot.listDataItems()) == 2  # overlaid curves
    assert tab.compare_button.isEnabled()  # two runs: their architectures can be compared
    assert "(the same architecture)" in tab.compare_architectures()
    sizes = tab.findChild(QtWidgets.QLabel, "sizes")
    qtbot.waitUntil(lambda: "->" in sizes.text(), timeout=60_000)
    assert "(+0); GFLOPs" in sizes.text(), sizes.text()
    for dialog in tab.findChildren(QtWidgets.QDialog):
        dialog.close()
    tab.table.clearSelection()
    tab.table.selectRow([tab.table.item(r, 0).text() for r in range(tab.table.rowCount())].index("copy-of-tiny"))
    answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    tab.delete_dialog()
    assert copy.exists()  # cancelled: nothing deleted
    answer_next_dialog(QtWidgets.QMessageBox.Yes)
    tab.delete_dialog()
    assert not copy.exists() and (trained_project.runs_dir / "tiny").exists()
    tab.shutdown()


def test_registry_inference_and_export_from_the_windows(qtbot, trained_project, tiny_dataset, tmp_path):
    from yolo_studio.ui.inference.tab import InferenceTab
    from yolo_studio.ui.registry.export_dialog import ExportDialog
    from yolo_studio.ui.registry.tab import RegistryTab

    registry_tab = RegistryTab(trained_project)
    qtbot.addWidget(registry_tab)
    entry = registry_tab.register(str(trained_project.runs_dir / "tiny"), "ui-model")
    registry_tab.set_tags(entry, ["demo", " from-the-window "])
    registry_tab.filter.setText("from-the-window")
    assert [e.ref for e in registry_tab.entries] == ["ui-model:v1"] and registry_tab.table.item(0, 9).text() == \
        "demo, from-the-window"
    registry_tab.table.selectRow(0)
    assert len(registry_tab.chart.listDataItems()) == 2  # mAP50 and mAP50-95 bars
    registry_tab.promote()  # v1 in use, then a v2 that is newer but not promoted
    registry_tab.register(str(trained_project.runs_dir / "tiny"), "ui-model")
    registry_tab.filter.setText("ui-model")
    assert [(e.ref, registry_tab.table.item(k, 1).text()) for k, e in enumerate(registry_tab.entries)] == \
        [("ui-model:v1", "production"), ("ui-model:v2", "")]

    tab = InferenceTab(trained_project)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    tab.refresh_models()
    assert tab.model.itemText(0).startswith("ui-model@production = ui-model:v1")  # the version in use first
    tab.select_model(entry.weights)
    assert tab.imgsz.value() == 64  # the size it was trained at
    devices = [tab.device.itemData(i) for i in range(tab.device.count())]
    assert devices[-1] == "cpu" and tab.device.currentData() == devices[0]  # the first GPU, when there is one
    tab.device.setCurrentIndex(devices.index("cpu"))
    tab.conf.setValue(0.001)
    images = images_in(tiny_dataset.parent / "images" / "val")[:3]
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in images])
    drop = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)
    with qtbot.waitSignal(tab.finished, timeout=JOB_TIMEOUT) as done:
        tab.dropEvent(drop)  # dropping runs the model
    assert len(done.args[0]) == 3 and tab.list.topLevelItemCount() == 3
    assert "ms" in tab.summary.text() and float(tab.list.topLevelItem(0).text(3)) > 0
    assert tab.save_to(tmp_path / "annotated") == 3 and len(list((tmp_path / "annotated").glob("*.jpg"))) == 3

    notes, broken = tmp_path / "notes.txt", tmp_path / "broken.jpg"
    notes.write_text("not an image")
    broken.write_bytes(b"\xff\xd8\xff" + b"no jpeg here" * 10)
    tab.list.setCurrentItem(tab.list.topLevelItem(2))  # a row other than the first, then run again
    tab.set_sources([*images, notes, broken])
    with qtbot.waitSignal(tab.finished, timeout=JOB_TIMEOUT) as done:
        tab.run()
    errors = {Path(r.source).name: r.error for r in done.args[0] if r.error}
    assert set(errors) == {"notes.txt", "broken.jpg"} and "not an image" in errors["broken.jpg"]
    assert tab.list.topLevelItemCount() == 5 and "2 files not read" in tab.summary.text()
    row = next(i for i in range(5) if tab.list.topLevelItem(i).text(0) == "broken.jpg")
    tab.list.setCurrentItem(tab.list.topLevelItem(row))  # the previous picture does not stay
    assert "broken.jpg: not an image" in tab.found.text() and tab.view.scene().items() == []
    tab.shutdown()

    dialog = ExportDialog(entry.weights, 64, images)
    qtbot.addWidget(dialog)
    assert not dialog.format.model().item(
        next(i for i in range(dialog.format.count()) if dialog.format.itemData(i) == "coreml")).isEnabled()
    devices = [dialog.device.itemData(i) for i in range(dialog.device.count())]
    assert devices[-1] == "cpu" and dialog.device.currentData() == devices[0]  # a GPU first when there is one
    dialog.device.setCurrentIndex(devices.index("cpu"))
    engine = dialog.format.model().item(dialog.format.findData("engine"))
    assert not engine.isEnabled() and "CUDA GPU" in engine.toolTip()  # TensorRT cannot be made on the CPU
    assert not dialog.half.isEnabled() and "CUDA GPU" in dialog.half.toolTip()
    with qtbot.waitSignal(dialog.exported, timeout=JOB_TIMEOUT) as exported:
        dialog.start()
    assert exported.args[0]["ok"] and exported.args[0]["file"].endswith(".onnx")
    assert "matches PyTorch on 3 images" in dialog.result.text()


def test_the_devices_panel_refreshes_itself(qtbot):
    from yolo_studio.ui.devices import DevicesDialog

    dialog = DevicesDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.refreshed, timeout=JOB_TIMEOUT):
        pass
    assert "CPU:" in dialog.text.text() and "torch" in dialog.text.text()
    with qtbot.waitSignal(dialog.refreshed, timeout=JOB_TIMEOUT):  # again, by its timer
        pass
    dialog.close()


def test_labels_of_several_heads_on_one_object_stay_readable(qtbot):
    from PySide6 import QtGui

    from yolo_studio.ui.datasets.samples import ImageView

    view = ImageView()
    qtbot.addWidget(view)
    image = QtGui.QImage(320, 240, QtGui.QImage.Format_RGB32)
    image.fill(QtGui.QColor("gray"))
    view.show_image(image)
    same_box = [10.0, 40.0, 120.0, 160.0]
    view.draw_predictions([{"cls": 0, "name": f"{head}:square", "conf": 0.9, "box": same_box, "head": head}
                           for head in ("cars", "people", "signs")])
    labels = [item.sceneBoundingRect() for item in view.scene().items() if isinstance(item, QtWidgets.QGraphicsRectItem)
              and item.zValue() == 1]
    assert len(labels) == 3
    assert not any(a.intersects(b) for i, a in enumerate(labels) for b in labels[i + 1:])  # stacked, not piled
    colours = {item.pen().color().name() for item in view.scene().items()
               if isinstance(item, QtWidgets.QGraphicsRectItem) and item.zValue() == 0}
    assert len(colours) == 3  # one colour per head


def test_a_finished_run_continues_from_the_runs_tab_in_the_train_tab(qtbot, trained_project, tmp_path):
    from yolo_studio.core.project.trust import TrustStore
    from yolo_studio.ui.main_window import MainWindow

    project = tmp_path / "project"  # a copy: the shared run 'tiny' stays as it is
    shutil.copytree(trained_project.root, project)
    TrustStore().remember(project, True)
    window = MainWindow(project_dir=project)
    qtbot.addWidget(window)
    try:
        runs = window.lazy.show("Runs")
        names = [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())]
        runs.table.selectRow(names.index("tiny"))
        assert runs.continue_button.isEnabled() and not runs.compare_button.isEnabled()
        train = window.lazy.get("Train")
        ended = []
        train.run_ended.connect(ended.append)
        run = window.project_tabs.continue_run(str(project / "runs" / "tiny"), 1)
        assert run is not None and run.path.name == "tiny-continued"
        assert train.model_path.text() == str(run.model) and train.form.overrides()["epochs"] == 1  # what it trains
        assert train.run_name.text() != "tiny-continued" and not train.weights_path.text()
        qtbot.waitUntil(lambda: bool(ended), timeout=JOB_TIMEOUT)
        assert ended == ["completed"]
        runs.refresh()
        names = [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())]
        assert "tiny-continued  (continues tiny)" in names
        from yolo_studio.training.run_store import curves, history

        parent, child = project / "runs" / "tiny", run.path
        key = next(k for k in curves(child) if k.startswith("metrics/mAP50-95"))
        xs, ys = history(child)[key]  # one training: the parent's epochs, then the new ones numbered after
        assert xs == curves(parent)[key][0] + [x + max(curves(parent)[key][0]) for x in curves(child)[key][0]]
        assert ys == curves(parent)[key][1] + curves(child)[key][1]
    finally:
        window.model_tab.undo_stack.setClean()
        window.close()
