"""Fixing one label where an evaluation shows it wrong (core.data.label_edit)."""

import pytest

from yolo_studio.core.data import label_edit


def _label(tmp_path, text):
    path = tmp_path / "data" / "labels" / "val" / "a.txt"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_a_label_is_found_by_what_it_is_not_by_its_place_in_the_kept_order(tmp_path):
    """Ultralytics drops duplicate lines and sorts the rest: the kept order is not the file's."""
    label = _label(tmp_path, "1 0.5 0.5 0.2 0.2\n0 0.25 0.25 0.1 0.1\n1 0.5 0.5 0.2 0.2\n")
    assert label_edit.find_line(label, 0, (20, 20, 30, 30), (100, 100)) == 1
    assert label_edit.find_line(label, 1, (40, 40, 60, 60), (100, 100)) == 0
    with pytest.raises(ValueError, match="changed since the evaluation"):
        label_edit.find_line(label, 0, (40, 40, 60, 60), (100, 100))
    before = label_edit.delete(label, label_edit.find_line(label, 0, (20, 20, 30, 30), (100, 100)))
    assert label.read_text() == "1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n"
    assert (tmp_path / "data" / "labels-backup" / "val" / "a.txt").read_text() == before
    label_edit.restore(label, before)
    assert label.read_text() == before


def test_polygons_are_found_by_their_box_and_never_get_a_box_line(tmp_path):
    label = _label(tmp_path, "0 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n")
    assert label_edit.find_line(label, 0, (10, 10, 30, 40), (100, 100), outline=True) == 0
    with pytest.raises(ValueError, match="holds polygons or keypoints"):
        label_edit.add_box(label, 0, (50, 50, 60, 60), (100, 100))
    with pytest.raises(ValueError, match="is a polygon or has keypoints"):
        label_edit.set_box(label, 0, (50, 50, 60, 60), (100, 100))
    label_edit.set_class(label, 0, 2)
    assert label.read_text().startswith("2 0.1 0.1 0.3")
