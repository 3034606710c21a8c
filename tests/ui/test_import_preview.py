"""The import preview with real input: pick an export, see what it holds, rename and drop classes with the
mouse and keys, change the split, import; Cancel during an import leaves nothing."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from PySide6 import QtCore

from yolo_studio.core.project.dataset_import import list_datasets
from yolo_studio.core.project.projects import create_project

CORPUS = Path(__file__).parents[1] / "data" / "exports"
JOB_TIMEOUT = 60_000


@pytest.fixture
def project(tmp_path):
    return create_project(tmp_path / "project")


def _open_preview(qtbot, tab, source):
    tab.import_source(source)
    qtbot.waitUntil(lambda: getattr(tab, "preview", None) is not None and tab.preview.isVisible(),
                    timeout=JOB_TIMEOUT)
    return tab.preview


def _coco(folder: Path, n: int) -> Path:
    (folder / "images").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(folder / "images" / "0.jpg")
    for i in range(1, n):
        shutil.copyfile(folder / "images" / "0.jpg", folder / "images" / f"{i}.jpg")
    content = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 32, "height": 32} for i in range(n)],
               "annotations": [{"id": i, "image_id": i, "category_id": 1 + i % 3, "bbox": [2, 2, 10, 10],
                                "iscrowd": 0} for i in range(n)],
               "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]}
    (folder / "annotations.json").write_text(json.dumps(content))
    return folder / "annotations.json"


def test_preview_rename_merge_drop_split_and_import_with_real_input(qtbot, project, tmp_path):
    from yolo_studio.ui.datasets.tab import DatasetsTab

    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    tab.show()
    dialog = _open_preview(qtbot, tab, _coco(tmp_path / "export", 30))
    assert "COCO JSON" in dialog.heading.text() and "30 images found" in dialog.heading.text()
    table = dialog.classes
    assert [table.item(r, 1).text() for r in range(table.rowCount())] == ["a", "b", "c"]
    cell = table.visualItemRect(table.item(1, 1)).center()  # rename b to a: merged, by double-click and typing
    qtbot.mouseDClick(table.viewport(), QtCore.Qt.LeftButton, pos=cell)
    editor = table.viewport().focusWidget() or table.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "a")
    qtbot.keyClick(editor, QtCore.Qt.Key_Return)
    keep_c = table.visualItemRect(table.item(2, 0)).center()  # untick c: dropped
    qtbot.mouseClick(table.viewport(), QtCore.Qt.LeftButton, pos=QtCore.QPoint(keep_c.x() - 8, keep_c.y()))
    qtbot.waitUntil(lambda: dialog.plan.drop == {"c"})
    assert dialog.plan.classes() == ["a"] and table.item(1, 3).text() == "0" and table.item(2, 3).text() == ""
    dialog.ratios["val"].setValue(0.5)
    dialog.ratios["train"].setValue(0.5)
    assert "train 15, val 15" in dialog.split_counts.text()
    with qtbot.waitSignal(tab.imported, timeout=JOB_TIMEOUT) as done:
        qtbot.mouseClick(dialog.import_button, QtCore.Qt.LeftButton)
    data = done.args[0].entry.data
    assert "names:\n  0: a\n" in data.read_text() and "1:" not in data.read_text()
    assert tab.datasets.currentItem().text() == "export" and not dialog.isVisible()
    lines = [f.read_text() for f in data.parent.glob("labels/*/*.txt")]
    assert len(lines) == 30 and sum(1 for t in lines if t.startswith("0 ")) == 20  # a and b; c dropped
    tab.shutdown()


def test_cancel_during_an_import_leaves_nothing(qtbot, project, tmp_path):
    from yolo_studio.ui.datasets.tab import DatasetsTab

    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    dialog = _open_preview(qtbot, tab, _coco(tmp_path / "big", 4000))
    job = dialog.start_import()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0 or job.isFinished(), timeout=JOB_TIMEOUT)
    qtbot.mouseClick(dialog.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=JOB_TIMEOUT)
    assert dialog.result is None and list_datasets(project) == []
    assert not any(project.datasets_dir.iterdir()) if project.datasets_dir.exists() else True
    tab.shutdown()


def test_a_file_that_is_no_export_gets_a_message_not_a_preview(qtbot, project, tmp_path, monkeypatch):
    from PySide6 import QtWidgets

    from yolo_studio.ui.datasets.tab import DatasetsTab

    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda _parent, title, text: shown.append(text))
    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    config = tmp_path / "config.xml"
    config.write_text("<View><Image name='image' value='$image'/></View>")
    tab.import_source(config)
    qtbot.waitUntil(lambda: bool(shown), timeout=JOB_TIMEOUT)
    assert "Label Studio labeling configuration" in shown[0] and getattr(tab, "preview", None) is None


CASES = [c for c in sorted(CORPUS.iterdir()) if (c / "expected.yaml").is_file()]


def test_every_real_export_goes_through_the_window(qtbot, project, monkeypatch):
    """Each corpus case picked in the tab: refused with a message, or previewed with its counts and imported."""
    import yaml
    from PySide6 import QtWidgets

    from yolo_studio.ui.datasets.tab import DatasetsTab

    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    warnings = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    imported = []
    for case in CASES:
        want = yaml.safe_load((case / "expected.yaml").read_text())
        pick = case / "export" / str(want.get("pick") or ".")
        if want["format"] == "refuse":
            tab.import_source(pick)
            qtbot.waitUntil(lambda: len(warnings) == 1, timeout=JOB_TIMEOUT)
            assert pick.name in warnings.pop()
            continue
        tab.preview = None
        dialog = _open_preview(qtbot, tab, pick)
        assert f"{want['images']} images found" in dialog.heading.text(), case.name
        shown = {dialog.classes.item(r, 1).text(): int(dialog.classes.item(r, 2).text())
                 for r in range(dialog.classes.rowCount())}
        assert {k: v for k, v in shown.items() if v} == {k: v for k, v in want["objects"].items() if v}, case.name
        dialog.name.setText(case.name)
        with qtbot.waitSignal(tab.imported, timeout=JOB_TIMEOUT):
            qtbot.mouseClick(dialog.import_button, QtCore.Qt.LeftButton)
        imported.append(case.name)
    assert sorted(e.name for e in list_datasets(project)) == sorted(imported) and len(imported) >= 12
    tab.shutdown()


def test_an_export_imported_before_is_said_and_a_second_import_gets_a_free_name(qtbot, project, tmp_path):
    from yolo_studio.ui.datasets.tab import DatasetsTab

    source = _coco(tmp_path / "export", 12)
    tab = DatasetsTab(project)
    qtbot.addWidget(tab)
    dialog = _open_preview(qtbot, tab, source)
    with qtbot.waitSignal(tab.imported, timeout=JOB_TIMEOUT):
        qtbot.mouseClick(dialog.import_button, QtCore.Qt.LeftButton)
    tab.preview = None
    dialog = _open_preview(qtbot, tab, source)
    assert "Imported before</b> as 'export'" in dialog.heading.text() and dialog.name.text() == "export-2"
    dialog.classes.item(0, 1).setText("  ")  # an emptied name takes back the export's
    assert dialog.classes.item(0, 1).text() == "a" and dialog.plan.classes() == ["a", "b", "c"]
    for row in range(3):
        dialog.classes.item(row, 0).setCheckState(QtCore.Qt.Unchecked)
    assert not dialog.import_button.isEnabled() and "every class is unticked" in dialog.why_not.text()
    dialog.classes.item(1, 0).setCheckState(QtCore.Qt.Checked)
    with qtbot.waitSignal(tab.imported, timeout=JOB_TIMEOUT) as done:
        qtbot.mouseClick(dialog.import_button, QtCore.Qt.LeftButton)
    assert done.args[0].entry.name == "export-2" and "names:\n  0: b\n" in done.args[0].entry.data.read_text()
    assert sorted(e.name for e in list_datasets(project)) == ["export", "export-2"]
    tab.shutdown()
