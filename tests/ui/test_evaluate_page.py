"""The Evaluate page with real input: a click on a confusion-matrix cell lists exactly those errors, the keyboard
goes through them, the confidence slider changes the figures at once, suspected label errors are exported."""

from pathlib import Path

import pytest
from PIL import Image
from PySide6 import QtCore
from PySide6.QtTest import QTest

from yolo_studio.compat.evaluation import Kept
from yolo_studio.core.evaluation.store import SUSPECTS_HEADER, Evaluation
from yolo_studio.core.project.projects import create_project
from yolo_studio.ui.runs.evaluate_page import EvaluatePage

NAMES = {0: "square", 1: "circle"}


@pytest.fixture
def page(qtbot, tmp_path):
    project = create_project(tmp_path / "project")
    images = []
    for i in range(4):
        path = tmp_path / f"img{i}.png"
        Image.new("RGB", (100, 100), (40, 40, 40)).save(path)
        images.append(str(path))
    truth = [(0, 0, 10, 10, 40, 40), (0, 1, 60, 60, 90, 90), (1, 0, 10, 10, 40, 40), (2, 1, 50, 50, 70, 70),
             (3, 0, 20, 20, 50, 50)]
    predictions = [(0, 0, 0.9, 11, 11, 40, 40), (0, 0, 0.6, 60, 60, 90, 90), (1, 1, 0.8, 70, 5, 95, 30),
                   (2, 1, 0.15, 50, 50, 70, 70), (3, 0, 0.95, 20, 20, 50, 50), (3, 1, 0.7, 60, 60, 90, 90)]
    kept = Kept("detect", images, [(100, 100)] * 4, truth, predictions)
    run = project.runs_dir / "r1"
    Evaluation.from_kept(kept, NAMES, {"metrics/mAP50-95(B)": 0.4, "metrics/mAP50(B)": 0.5},
                         {"model": str(run / "weights" / "best.pt"), "data": "data.yaml"}).save(run / "evaluations" / "e")
    widget = EvaluatePage(project)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    widget.set_run(run)
    qtbot.waitUntil(lambda: widget.matcher is not None)
    qtbot.waitUntil(lambda: "referee" in widget.summary.text())  # COCO's figures, computed in the background
    yield widget
    widget.shutdown()


def _click_cell(page, row, column):
    rect = page.matrix.visualItemRect(page.matrix.item(row, column))
    QTest.mouseClick(page.matrix.viewport(), QtCore.Qt.LeftButton, pos=rect.center())


def test_a_matrix_cell_lists_its_errors_and_the_keyboard_walks_them(page, qtbot):
    assert page.matrix.item(0, 1).text() == "1"  # a circle taken for a square
    _click_cell(page, 0, 1)
    assert page.errors.count() == 1 and "img0.png 0.60" in page.errors.item(0).text()
    assert "IoU 1.00 with a circle" in page.caption.text()
    _click_cell(page, 2, 0)  # missed squares: img1's (its circle prediction is elsewhere)
    assert [page.errors.item(i).text() for i in range(page.errors.count())] == ["img1.png"]
    _click_cell(page, 1, 2)  # circles where there is nothing: img1's and img3's
    assert page.errors.count() == 2
    page.errors.setFocus()
    QTest.keyClick(page.errors, QtCore.Qt.Key_Down)
    assert page.errors.currentRow() == 1 and "img3.png" in page.caption.text()


def test_the_confidence_slider_changes_the_figures_at_once(page):
    def circle_tp():
        row = next(r for r in range(page.classes.rowCount()) if page.classes.item(r, 0).text() == "circle")
        return page.classes.item(row, 3).text()  # precision

    before = (circle_tp(), page.matrix.item(2, 1).text())
    page.conf.setValue(10)  # below the faint circle's 0.15: found
    assert page.matrix.item(2, 1).text() == "0" and before[1] == "1"
    assert circle_tp() != before[0]
    assert page.conf_label.text() == "0.10"


def test_suspected_label_errors_are_listed_and_exported(page, tmp_path):
    page.lists.setCurrentIndex(1)
    texts = [page.suspects.item(i).text() for i in range(page.suspects.count())]
    assert any(t.startswith("missing label: circle in img3.png") for t in texts)
    page.suspects.setCurrentRow(0)
    assert "yellow: the suspected box" in page.caption.text()
    written = page.export_suspects(str(tmp_path / "suspects.csv"))
    lines = Path(written).read_text().splitlines()
    assert lines[0] == SUSPECTS_HEADER and len(lines) == 1 + len(texts)


def test_a_run_without_an_evaluation_says_what_evaluate_does(qtbot, tmp_path):
    project = create_project(tmp_path / "p")
    widget = EvaluatePage(project)
    qtbot.addWidget(widget)
    widget.set_run(project.runs_dir / "nothing")
    assert "No evaluation yet" in widget.summary.text() and not widget.evaluate_button.isEnabled()
    widget.shutdown()


def test_two_models_side_by_side_show_the_images_that_got_better_and_worse(page, qtbot):
    from yolo_studio.ui.runs.compare_dialog import CompareDialog

    first = page.evaluation
    kept = Kept("detect", first.images, [(100, 100)] * 4, [tuple(r) for r in first.truth.tolist()],
                [(0, 0, 0.9, 11, 11, 40, 40), (0, 1, 0.8, 60, 60, 90, 90),  # img0: both found
                 (1, 0, 0.9, 10, 10, 40, 40), (2, 1, 0.9, 50, 50, 70, 70),  # img1, img2: found
                 (3, 0, 0.95, 20, 20, 50, 50), (3, 1, 0.7, 60, 60, 90, 90), (3, 0, 0.9, 70, 70, 95, 95)])  # img3: worse
    second = Evaluation.from_kept(kept, NAMES, {}, {})
    promoted = []
    dialog = CompareDialog(first, second, labels=("r1", "r2"), promote=promoted.append)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.better.count() == 3 and dialog.worse.count() == 1
    dialog.worse.setCurrentRow(0)
    assert dialog.captions[0].text() == "r1: 1 error" and dialog.captions[1].text() == "r2: 2 errors"
    recall = dialog.classes.item(0, 2).text()  # squares' recall: 2 of 3, then all 3
    assert recall.startswith("0.667 -> 1.000")
    from PySide6 import QtWidgets

    button = next(b for b in dialog.findChildren(QtWidgets.QPushButton) if b.text().startswith("Register r2"))
    QTest.mouseClick(button, QtCore.Qt.LeftButton)
    assert promoted == [1]  # the better one registered and promoted (the Runs tab does it: registry tests)


def _project_images(tmp_path, page):
    """The page's evaluation moved onto images inside a dataset's images/val, with YOLO label files."""
    data = tmp_path / "data"
    (data / "images" / "val").mkdir(parents=True)
    (data / "labels" / "val").mkdir(parents=True)
    ev = page.evaluation
    for k, path in enumerate(ev.images):
        target = data / "images" / "val" / Path(path).name
        Path(path).rename(target)
        ev.images[k] = str(target)
        rows = ev.truth[ev.truth[:, 0] == k]
        (data / "labels" / "val" / f"{target.stem}.txt").write_text("".join(
            f"{int(c)} {(x1 + x2) / 200:.6f} {(y1 + y2) / 200:.6f} {(x2 - x1) / 100:.6f} {(y2 - y1) / 100:.6f}\n"
            for _i, c, x1, y1, x2, y2 in rows))
    ev.save(ev.folder)
    page.load(ev.folder)
    return data


def test_a_label_is_fixed_where_it_is_seen_with_undo_and_a_backup(page, qtbot, tmp_path):
    data = _project_images(tmp_path, page)
    label = data / "labels" / "val" / "img0.txt"
    original = label.read_text()
    _click_cell(page, 0, 1)  # img0: its circle predicted as a square
    circle = next(t for t, item in page.label_items.items() if page.matcher.truth_cls[t] == 1)
    page.label_items[circle].setSelected(True)
    page.setFocus()
    qtbot.keyClick(page, QtCore.Qt.Key_Delete)
    assert label.read_text().splitlines() == original.splitlines()[:1]  # the circle's line is gone
    assert (data / "labels-backup" / "val" / "img0.txt").read_text() == original
    assert 0 in page.evaluation.changed and "changed since the evaluation" in page.caption.text()
    assert page.errors.currentItem() is None or "img0.png" in page.errors.currentItem().text()
    assert page.matrix.item(0, 2).text() == "1"  # that square prediction now has no label under it
    page.undo_label_edit()
    assert label.read_text() == original and page.matrix.item(0, 1).text() == "1"
    page.draw(0)
    square = next(t for t, item in page.label_items.items() if page.matcher.truth_cls[t] == 0)
    page.label_items[square].setSelected(True)
    page.reclass_selected_label(1)
    assert label.read_text().splitlines()[0].startswith("1 ")
    page.draw(*page.shown)
    item = next(item for t, item in page.label_items.items() if page.matcher.truth_cls[t] == 1 and t == square)
    item.setPos(10, 0)  # dragged 10 px to the right, then released
    QTest.mouseRelease(page.view.viewport(), QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: label.read_text().splitlines()[0].split()[1] == "0.350000")


def test_shift_drag_resizes_a_label_from_its_nearest_corner(page, qtbot, tmp_path):
    data = _project_images(tmp_path, page)
    label = data / "labels" / "val" / "img3.txt"
    page.draw(3)
    (t, item), = [(t, i) for t, i in page.label_items.items()]
    item.setSelected(True)
    view = page.view
    corner = view.mapFromScene(QtCore.QPointF(50, 50))  # the box is 20..50: its bottom-right corner
    target = view.mapFromScene(QtCore.QPointF(70, 60))
    QTest.mousePress(view.viewport(), QtCore.Qt.LeftButton, QtCore.Qt.ShiftModifier, corner)
    QTest.mouseMove(view.viewport(), target)
    QTest.mouseRelease(view.viewport(), QtCore.Qt.LeftButton, QtCore.Qt.ShiftModifier, target)
    qtbot.wait(200)
    qtbot.waitUntil(lambda: label.read_text().split()[1:] != ["0.350000", "0.350000", "0.300000", "0.300000"])
    x, y, w, h = (float(v) for v in label.read_text().split()[1:])
    assert abs(x - 0.45) < 0.02 and abs(y - 0.40) < 0.02 and abs(w - 0.50) < 0.03 and abs(h - 0.40) < 0.03


def test_export_asks_where_and_an_empty_cell_leaves_the_picture_safe(page, monkeypatch, tmp_path):
    from PySide6 import QtWidgets

    target = tmp_path / "picked.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV (*.csv)"))
    page.lists.setCurrentIndex(1)
    QTest.mouseClick(page.export_button, QtCore.Qt.LeftButton)
    assert target.read_text().splitlines()[0] == SUSPECTS_HEADER
    empty = next((r, c) for r in range(page.matrix.rowCount()) for c in range(page.matrix.columnCount())
                 if page.matrix.item(r, c).text() == "0")
    _click_cell(page, *empty)
    assert page.errors.count() == 0 and page.label_items == {}
    QTest.mouseClick(page.view.viewport(), QtCore.Qt.LeftButton)  # a click on the emptied picture: nothing


def test_undo_belongs_to_the_evaluation_it_was_made_in(page, tmp_path):
    _project_images(tmp_path, page)
    page.draw(3)
    (item,) = page.label_items.values()
    item.setSelected(True)
    page.delete_selected_label()
    assert page.undo_stack
    page.load(page.evaluation.folder)  # another evaluation, or this one again from disk
    assert page.undo_stack == [] and not page.undo_label.isEnabled()


def test_any_two_evaluations_of_the_same_images_compare_from_the_page(page, qtbot, monkeypatch):
    """A registry or hydra version evaluated by yolo-studio val lands in the project's evaluations/: it compares too."""
    from PySide6 import QtWidgets

    shown = page.evaluation
    other = Evaluation.from_kept(Kept("detect", shown.images, [(100, 100)] * 4, [tuple(r) for r in shown.truth.tolist()],
                                      []), NAMES, {}, {})
    other.save(Path(page.project.root) / "evaluations" / "registry-v2")
    assert [f.name for f in page.all_evaluations()] == ["registry-v2", "e"]
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem",
                        lambda parent, title, text, items, *rest: (items[0], True))
    dialog = page.compare_with()
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "r1/e -> project/registry-v2"
    assert dialog.better.count() + dialog.worse.count() + dialog.result.same == 4
    assert all(row[2]["recall"] == 0.0 for row in dialog.result.per_class)  # the other one finds nothing
