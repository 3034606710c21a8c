"""Renumbering ``from`` references: the pure functions."""

from yolo_studio.core.model.model_yaml import Row
from yolo_studio.core.model.renumber import (INPUT, RefIssue, apply_mapping, delete_mapping, insert_mapping,
                                       move_mapping, remap_from, target)


def rows(*froms):
    return [Row(f, 1, "nn.Identity", []) for f in froms]


def test_target_resolves_relative_absolute_and_input():
    assert target(0, -1) == INPUT
    assert target(5, -1) == 4 and target(5, -3) == 2 and target(5, 2) == 2
    assert target(3, None) is None


def test_insert_keeps_every_target_and_spelling():
    rs = rows(-1, -1, [-1, 0], 1, [-1, 2, -4])
    new, issues = apply_mapping(rs, insert_mapping(len(rs), 2), {2: Row(-1, 1, "Conv", [8])})
    assert issues == []
    assert [r.from_ for r in new] == [-1, -1, -1, [-2, 0], 1, [-1, 3, -5]]


def test_delete_reports_broken_references_and_never_redirects():
    rs = rows(-1, -1, -1, [-1, -2, 0])
    new, issues = apply_mapping(rs, delete_mapping(len(rs), {2}))
    assert [r.from_ for r in new] == [-1, -1, [None, -1, 0]]
    assert issues == [RefIssue(layer=2, input=0, old_target=2, reason="deleted")]
    assert "deleted" in issues[0].describe()


def test_deleting_the_first_row_reports_the_input_reader():
    rs = rows(-1, -1, -1)
    new, issues = apply_mapping(rs, delete_mapping(3, {0}))
    assert [r.from_ for r in new] == [None, -1]
    assert [i.reason for i in issues] == ["deleted"]


def test_move_follows_rows_and_reports_forward_references():
    rs = rows(-1, -1, -1, -1)  # a chain 0 <- 1 <- 2 <- 3
    new, issues = apply_mapping(rs, move_mapping(4, 1, 3))  # order now 0, 2, 3, 1
    assert [r.from_ for r in new] == [-1, 3, -1, -3]
    assert issues == [RefIssue(layer=1, input=0, old_target=1, reason="forward")]


def test_input_reference_only_valid_on_row_zero():
    assert remap_from(-1, 0, 1, {0: 1}) == (None, [(0, INPUT, "input")])
    assert remap_from(-1, 0, 0, {0: 0}) == (-1, [])


def test_deleting_a_layer_from_a_chain_keeps_the_chain():
    from yolo_studio.core.model.document import ModelDocument

    doc = ModelDocument.from_text(
        "nc: 3\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [32, 3, 2]]\n"
        "  - [-1, 1, Conv, [64, 3, 2]]\n  - [[-1, 1], 1, Concat, [1]]\n  - [-1, 1, Conv, [64, 1, 1]]\n"
        "head:\n  - [-1, 1, nn.Identity, []]\n", "m.yaml")
    edit = doc.delete_rows([2], bridge=True)  # the row after reads what the deleted row read, in its spelling
    assert [r.from_ for r in doc.rows] == [-1, -1, [-1, 1], -1, -1] and not edit.issues
    doc.restore(edit.before)
    edit = doc.delete_rows([1, 2], bridge=True)  # through a run of deleted rows; absolute 1 -> 0
    assert [r.from_ for r in doc.rows] == [-1, [-1, 0], -1, -1] and not edit.issues
    doc.restore(edit.before)
    edit = doc.delete_rows([3], bridge=True)  # a Concat has no single input: its reader is unconnected
    assert doc.rows[3].from_ is None and [i.reason for i in edit.issues] == ["deleted"]
    doc.restore(edit.before)
    doc.delete_rows([2])  # without bridge: as before, unconnected and reported
    assert doc.rows[2].from_ == [None, 1]
