"""Folding sections of the canvas layout (graph_model.collapse)."""

from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.graph_model import ROW_HEIGHT, collapse, layered_layout


def test_a_folded_backbone_keeps_what_the_head_reads_under_its_box(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    laid = layered_layout(doc.rows, doc.head_start)
    positions, hidden, boxes = collapse(doc.rows, doc.head_start, laid, {"backbone"})
    shown = [i for i in range(doc.head_start) if i not in hidden]
    assert shown == [4, 6, 10]  # P3, P4 and the last backbone layer: the rows the head reads
    box = boxes["backbone"]
    assert (box.first, box.last, box.hidden) == (0, 10, 8) and (box.x, box.y) == laid[0]
    assert [positions[i][1] for i in shown] == [ROW_HEIGHT, 2 * ROW_HEIGHT, 3 * ROW_HEIGHT]  # stacked under it
    assert all(positions[i] == laid[i] for i in range(doc.head_start, len(doc.rows)))  # the head is untouched


def test_a_folded_head_keeps_its_outputs_and_nothing_folded_changes_nothing(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    laid = layered_layout(doc.rows, doc.head_start)
    _, hidden, boxes = collapse(doc.rows, doc.head_start, laid, {"head"})
    assert [i for i in range(doc.head_start, len(doc.rows)) if i not in hidden] == [len(doc.rows) - 1]  # Detect
    assert set(boxes) == {"head"}
    assert collapse(doc.rows, doc.head_start, laid, set()) == (laid, set(), {})
