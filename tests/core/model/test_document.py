"""Document edits: boundary handling, undo/redo restoring exact bytes, atomic save."""

import pytest

from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.model_yaml import Row


@pytest.fixture
def doc(resources):
    return ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")


def test_edits_undo_to_the_original_bytes(doc):
    original = doc.to_yaml()
    edits = [
        doc.insert_row(4, [-1, 1, "Conv", [256, 1, 1]]),
        doc.update_row(0, args=[32, 3, 2]),
        doc.move_row(5, 7),
        doc.delete_rows([2]),
        doc.set_head_start(doc.head_start - 1),
        doc.set_header("nc", 7),
        doc.remove_header("scales"),
    ]
    changed = doc.to_yaml()
    assert changed != original
    for edit in reversed(edits):
        doc.restore(edit.before)
    assert doc.to_yaml() == original
    for edit in edits:
        doc.restore(edit.after)
    assert doc.to_yaml() == changed


def test_insert_renumbers_absolute_references(doc):
    detect = len(doc.rows) - 1
    assert doc.rows[detect].from_ == [16, 19, 22]
    edit = doc.insert_row(2, Row(-1, 1, "nn.Identity", []))
    assert edit.issues == ()
    assert doc.rows[detect + 1].from_ == [17, 20, 23]
    assert doc.rows[13].from_ == [-1, 7]  # was [-1, 6] at row 12
    assert doc.head_start == 12


def test_insert_at_boundary_goes_to_head_unless_asked(doc):
    hs = doc.head_start
    doc.insert_row(hs, [-1, 1, "nn.Identity", []])
    assert doc.head_start == hs
    doc.insert_row(hs, [-1, 1, "nn.Identity", []], section="backbone")
    assert doc.head_start == hs + 1


def test_delete_reports_which_layer_and_input(doc):
    edit = doc.delete_rows([6])
    assert [(i.layer, i.input, i.old_target) for i in edit.issues] == [(6, 0, 6), (11, 1, 6)]
    assert doc.rows[11].from_ == [-1, None]


def test_move_across_boundary_updates_sections(doc):
    hs = doc.head_start
    doc.move_row(hs - 1, hs + 1)
    assert doc.head_start == hs - 1
    doc.move_row(hs + 1, 0)
    assert doc.head_start == hs


def test_update_row_rejects_unknown_fields(doc):
    with pytest.raises(TypeError):
        doc.update_row(0, colour="red")


def test_to_dict_is_a_fresh_copy(doc):
    d = doc.to_dict(scale="n")
    d["backbone"][0][3].append(99)
    assert doc.rows[0].args == [64, 3, 2]
    assert d["scale"] == "n"


def test_save_is_atomic_and_leaves_no_temp_files(doc, tmp_path):
    target = tmp_path / "out" / "m.yaml"
    doc.save(target)
    assert target.read_text() == doc.to_yaml()
    assert [p.name for p in target.parent.iterdir()] == ["m.yaml"]
    assert doc.path == target


def test_save_failure_keeps_the_old_file(doc, tmp_path, monkeypatch):
    target = tmp_path / "m.yaml"
    target.write_text("old contents\n")
    doc.set_header("nc", 9)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("yolo_studio.core.atomic.os.replace", broken_replace)
    with pytest.raises(OSError):
        doc.save(target)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.yaml"]


def test_task_of_a_model_follows_its_output_module():
    from helpers import shipped_model_yamls
    from yolo_studio.core.model.document import task_of

    tasks = {p.stem: task_of(ModelDocument.load(p)) for p in shipped_model_yamls()}
    assert tasks["yolo11-cls"] == "classify" and tasks["yolov8-seg"] == "segment" and tasks["rtdetr-l"] == "detect"
    assert tasks["yolo11-pose"] == "pose" and tasks["yolov8-obb"] == "obb" and tasks["yolo11"] == "detect"


def test_a_text_edit_replaces_the_document_exactly_and_undoes_to_the_old_bytes(resources):
    from yolo_studio.core.errors import ModelYamlError

    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    original = doc.to_yaml()
    typed = original.replace("[-1, 1, Conv, [64, 3, 2]] # 0-P1/2", "[-1, 1, Conv, [32, 3, 2]] # 0-P1/2, halved") \
        .replace("nc: 3", "# a comment of mine\nnc: 3")
    assert typed != original
    edit = doc.replace_text(typed)
    assert doc.to_yaml() == typed and doc.rows[0].args == [32, 3, 2]
    doc.restore(edit.before)
    assert doc.to_yaml() == original
    doc.restore(edit.after)
    assert doc.to_yaml() == typed
    with pytest.raises(ModelYamlError) as caught:
        doc.replace_text(typed.replace("[32, 3, 2]]", "[32, 3, 2]", 1))
    assert caught.value.line is not None and doc.to_yaml() == typed  # nothing changed


def test_setting_nc_keeps_the_comment_on_its_line(resources):
    """Preflight's "Set nc" dropped the line's comment."""
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    doc.set_header("nc", 5)
    assert "nc: 5 # number of classes in the demo dataset\n" in doc.to_yaml()
    doc.set_header("nc", "'#'")  # a value with a '#' of its own is still written, and reads back
    import yaml
    assert yaml.safe_load(doc.to_yaml())["nc"] == "'#'"
