"""Settings > Clusters and the Train tab's "Run on", with a real local Ray head (``ray_head``)."""

from PySide6 import QtCore, QtWidgets

from helpers import TINY_RUN
from yolo_studio.training import cluster
from yolo_studio.training.events import read_events

RUN_TIMEOUT = 300_000


def test_a_cluster_is_saved_tested_and_a_run_from_the_train_tab_trains_there(qtbot, ray_head, tmp_path,
                                                                            tiny_dataset, resources):
    from yolo_studio.ui.clusters import ClustersDialog
    from yolo_studio.ui.train.designer import TrainDesignerTab

    dialog = ClustersDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "lab")
    qtbot.keyClicks(dialog.address, "127.0.0.1:8265")
    qtbot.mouseClick(dialog.save_button, QtCore.Qt.LeftButton)
    assert "Not saved" in dialog.result.text() and "http://HEAD:8265" in dialog.result.text()
    dialog.address.setText(ray_head)
    dialog._add_mapping(str(tmp_path / "elsewhere"), "")
    qtbot.mouseClick(dialog.save_button, QtCore.Qt.LeftButton)
    assert "mapping 1 needs both folders" in dialog.result.text() and not cluster.clusters()
    dialog.mappings.setItem(0, 1, QtWidgets.QTableWidgetItem("/mnt/lab"))
    qtbot.mouseClick(dialog.save_button, QtCore.Qt.LeftButton)
    assert cluster.clusters()["lab"].mappings == [[str(tmp_path / "elsewhere"), "/mnt/lab"]]
    with qtbot.waitSignal(dialog.tested, timeout=180_000) as tested:
        qtbot.mouseClick(dialog.test_button, QtCore.Qt.LeftButton)
    found = tested.args[0]
    assert "error" not in found and found["software"]["ultralytics"] and dialog.nodes.rowCount() == len(found["nodes"])
    assert "Connected" in dialog.result.text() and sorted(
        dialog.nodes.item(row, 1).text() for row in range(dialog.nodes.rowCount())) == ["0", "2"]  # CPUs: head, worker
    dialog.accept()

    tab = TrainDesignerTab(tmp_path / "project")
    qtbot.addWidget(tab)
    tab.resize(1400, 860)
    tab.show()
    assert [tab.run_on.itemText(i) for i in range(tab.run_on.count())] == ["This computer", "Cluster: lab"]
    assert not tab.gpus.isEnabled()
    tab.run_on.setCurrentIndex(1)
    assert tab.gpus.isEnabled()
    tab.model_path.setText(str(resources / "models" / "yolo11n-demo.yaml"))
    tab.data_path.setText(str(tiny_dataset))
    tab.form.set_overrides({**TINY_RUN, "imgsz": 32})
    ended = []
    tab.run_ended.connect(ended.append)
    qtbot.mouseClick(tab.start_button, QtCore.Qt.LeftButton)  # preflight (with the cluster's checks), then submit
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT)
    checks = [tab.checks.item(i).text() for i in range(tab.checks.count())]
    assert any(text.startswith("[cluster] " + ray_head) for text in checks), checks
    assert any("goes with the job" in text for text in checks) and not any("[device]" in t for t in checks)
    assert ended == ["completed"], tab.monitor.log_view.toPlainText()[-2000:]
    events = read_events(tab.run.events)
    assert events[0]["type"] == "cluster_job" and events[0]["cluster"] == "lab"
    assert "Run completed" in tab.monitor.summary.text() and "Ultralytics" in tab.monitor.log_view.toPlainText()
    tab.shutdown()


def test_enter_saves_and_closing_asks_before_dropping_a_typed_cluster(qtbot):
    """Found by hand: Enter in the address field added an empty mapping row (the dialog's default button),
    and Close silently dropped a cluster typed in but not saved."""
    from helpers import answer_next_dialog
    from yolo_studio.ui.clusters import ClustersDialog

    dialog = ClustersDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "lab")
    qtbot.keyClicks(dialog.address, "http://127.0.0.1:8265")
    qtbot.keyClick(dialog.address, QtCore.Qt.Key_Return)
    assert dialog.mappings.rowCount() == 0 and cluster.clusters()["lab"].address == "http://127.0.0.1:8265"
    dialog.address.setText("http://127.0.0.1:8266")
    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    dialog.reject()
    assert seen and "Save the cluster 'lab'" in seen[0] and dialog.isVisible()
    answer_next_dialog(QtWidgets.QMessageBox.Save)
    dialog.reject()
    assert not dialog.isVisible() and cluster.clusters()["lab"].address == "http://127.0.0.1:8266"


def test_picking_another_cluster_or_new_asks_before_dropping_typed_edits(qtbot):
    """Found in the review: picking another cluster in the list replaced a form with typed edits."""
    from helpers import answer_next_dialog
    from yolo_studio.ui.clusters import ClustersDialog

    cluster.save_cluster(cluster.Cluster("farm", "http://127.0.0.1:8265"))
    cluster.save_cluster(cluster.Cluster("lab", "http://127.0.0.1:8266"))
    dialog = ClustersDialog()
    qtbot.addWidget(dialog)
    dialog.show()

    def pick(name):
        item = dialog.names.findItems(name, QtCore.Qt.MatchExactly)[0]
        qtbot.mouseClick(dialog.names.viewport(), QtCore.Qt.LeftButton,
                         pos=dialog.names.visualItemRect(item).center())

    assert dialog.name.text() == "farm"
    dialog.address.selectAll()
    qtbot.keyClicks(dialog.address, "http://127.0.0.1:9000")
    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    pick("lab")
    assert seen and "Save the cluster 'farm' before showing another" in seen[0]
    qtbot.waitUntil(lambda: [i.text() for i in dialog.names.selectedItems()] == ["farm"])  # the list marks it too
    assert dialog.address.text() == "http://127.0.0.1:9000" and dialog.names.currentItem().text() == "farm"
    answer_next_dialog(QtWidgets.QMessageBox.Discard)
    pick("lab")
    assert dialog.address.text() == "http://127.0.0.1:8266"
    assert cluster.clusters()["farm"].address == "http://127.0.0.1:8265"  # dropped, as asked

    dialog.address.setText("http://127.0.0.1:9001")
    answer_next_dialog(QtWidgets.QMessageBox.Save)
    dialog.new_cluster()
    assert cluster.clusters()["lab"].address == "http://127.0.0.1:9001" and dialog.name.text() == ""
    qtbot.keyClicks(dialog.name, "gpu")
    qtbot.keyClicks(dialog.address, "http://127.0.0.1:9002")
    answer_next_dialog(QtWidgets.QMessageBox.Save)
    pick("farm")
    assert sorted(cluster.clusters()) == ["farm", "gpu", "lab"]
    assert [dialog.names.item(i).text() for i in range(dialog.names.count())] == ["farm", "gpu", "lab"]
    assert dialog.name.text() == "farm" and dialog.names.currentItem().text() == "farm"
    dialog.accept()
    assert not dialog.isVisible()
