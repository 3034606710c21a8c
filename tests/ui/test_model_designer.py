"""The Model Designer driven through its API and its canvas, offscreen, with real inspections."""

import pytest
import yaml

from helpers import shipped_model_yamls
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.graph_model import covering, edges, layered_layout, sidecar_path
from yolo_studio.core.model.renumber import INPUT, target


def _references(doc):
    """Every reference to an earlier row, the implicit -1 included (the image input excluded)."""
    return sum(1 for i, row in enumerate(doc.rows) for r in row.inputs()
               if r is not None and target(i, r) not in (None, INPUT))


def test_every_shipped_yaml_opens_with_a_node_per_row_and_an_edge_per_reference(designer):
    designer.live_inspection = False
    for path in shipped_model_yamls():
        doc = ModelDocument.load(path)
        designer.open_document(doc)
        assert len(designer.canvas.nodes) == len(doc.rows), path.name
        assert designer.canvas.edge_count() == _references(doc) == len(edges(doc.rows)), path.name
        assert designer.problems == [], path.name


def test_edit_sequence_undo_restores_the_original_bytes(designer, resources, qtbot):
    designer.live_inspection = False
    path = resources / "models" / "yolo11n-demo.yaml"
    original = path.read_text()
    designer.open_document(ModelDocument.load(path))

    designer.insert_block("nn.Identity", 3)  # from the palette, as a new layer 3
    assert designer.doc.rows[3].module == "nn.Identity" and designer.doc.rows[24].from_ == [17, 20, 23]
    canvas = designer.canvas  # connect layer 2's output to the Concat's "+" port, as a user drags it
    concat = next(i for i, r in enumerate(designer.doc.rows) if r.module == "Concat")
    with qtbot.waitSignal(canvas.inputs_changed):
        canvas.nodes[2].output(0).connect_to(canvas.nodes[concat].input(2))
    assert designer.doc.rows[concat].from_ == [-1, 7, 2]
    designer.update_row(0, args=[32, 3, 2])
    designer.move_row(5, 6)
    designer.delete_rows([3])
    edited = designer.doc.to_yaml()
    assert "- [-1, 1, Conv, [32, 3, 2]] # 0-P1/2" in edited
    assert yaml.safe_load(edited)["head"][1][0] == [-1, 6, 2]

    while designer.undo_stack.canUndo():
        designer.undo_stack.undo()
    assert designer.doc.to_yaml() == original
    while designer.undo_stack.canRedo():
        designer.undo_stack.redo()
    assert designer.doc.to_yaml() == edited
    assert len(designer.canvas.nodes) == len(designer.doc.rows)


def test_block_dropped_on_an_edge_is_wired_into_it(designer, resources):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.insert_block("nn.Identity", 12, edge=(6, 12, 1))  # onto the 6 -> Concat(12) skip edge
    rows = designer.doc.rows
    assert rows[12].module == "nn.Identity" and rows[12].from_ == 6
    assert rows[13].module == "Concat" and rows[13].from_ == [-2, -1]  # a new wire to the row above is -1
    designer.undo_stack.undo()
    assert designer.doc.rows[12].from_ == [-1, 6]


def test_live_inspection_shows_shapes_params_and_totals(designer, resources, qtbot):
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    with qtbot.waitSignal(designer.inspected, timeout=60_000):
        pass
    assert designer.report is not None and designer.report.params == 2_590_425
    assert designer.canvas.nodes[0].view.lines[2].startswith("16×320×320")
    totals = []
    designer.totals_changed.connect(totals.append)
    designer.scale.setCurrentText("s")
    with qtbot.waitSignal(designer.inspected, timeout=60_000):
        pass
    assert designer.report.scale == "s" and "params" in totals[-1]


def test_shapes_show_before_the_gflops_are_counted(designer, resources, qtbot):
    seen, totals = [], []
    designer.shapes_shown.connect(lambda: seen.append((designer.report.flops_counted,
                                                       designer.canvas.nodes[0].view.lines[2])))
    designer.inspected.connect(lambda: seen.append("inspected"))
    designer.totals_changed.connect(totals.append)
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    with qtbot.waitSignal(designer.inspected, timeout=60_000):
        pass
    assert seen[0][0] is False and seen[0][1].startswith("16×320×320")  # shapes on the node, GFLOPs pending
    assert seen[-2][0] is True and seen[-1] == "inspected"
    assert "counting GFLOPs" in totals[-2] and "6.4 GFLOPs" in totals[-1]


def test_build_errors_appear_on_their_node(designer, resources, qtbot):
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    with qtbot.waitSignal(designer.inspected, timeout=60_000):
        designer.update_row(10, args=[512])  # C2PSA needs as many channels out as in
    assert designer.build_error[1] == 10
    assert "C2PSA" in designer.canvas.nodes[10].view.problem
    assert any("inspection" in designer.problems_panel.item(i).text()
               for i in range(designer.problems_panel.count()))


def test_problem_click_selects_and_frames_the_layer(designer, data_dir):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(data_dir / "malformed" / "unknown_module.yaml"))
    panel = designer.problems_panel
    item = next(panel.item(i) for i in range(panel.count()) if "Convv" in panel.item(i).text())
    panel.itemClicked.emit(item)
    assert designer.canvas.selected_rows() == [1]
    assert "Layer 1" in designer.properties.title.text()


def test_properties_panel_edits_a_row(designer, resources):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.select_rows([3])
    props = designer.properties
    assert props.args.text() == "[256, 3, 2]" and "Conv(c1, c2" in props.signature.text()
    props.args.setText("[128, 3, 2]")
    props.apply.click()
    assert designer.doc.rows[3].args == [128, 3, 2]
    labels = [props.arg_form.itemAt(i, props.arg_form.ItemRole.LabelRole).widget().text()
              for i in range(props.arg_form.rowCount())]
    assert labels == ["c2", "k", "s", "p", "g", "d", "act"]  # named from Conv's signature, c1 left out
    props.arg_fields[3].setText("1")  # p, typed into its named field
    props.arg_fields[3].textEdited.emit("1")
    assert props.args.text() == "[128, 3, 2, 1]"
    props.apply.click()
    assert designer.doc.rows[3].args == [128, 3, 2, 1]
    props.args.setText("[128, 3")
    props.apply.click()
    assert "Not valid YAML" in props.error.text() and designer.doc.rows[3].args == [128, 3, 2, 1]


def test_save_writes_yaml_and_layout_sidecar(designer, resources, tmp_path):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.update_row(0, args=[32, 3, 2])
    assert designer.is_modified()
    node = designer.canvas.nodes[5]
    node.set_pos(900.0, 40.0)
    designer.canvas.positions_changed.emit()
    target = designer.save(tmp_path / "m.yaml")
    assert not designer.is_modified()
    assert yaml.safe_load(target.read_text())["backbone"][0][3] == [32, 3, 2]
    assert "layout" not in target.read_text()
    reopened = ModelDocument.load(target)
    designer.open_document(reopened)
    assert designer.canvas.nodes[5].pos() == [900.0, 40.0]
    assert sidecar_path(target).exists()


def _open_saved_unmoved(designer, resources, tmp_path):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    target = designer.save(tmp_path / "m.yaml")
    designer.open_document(ModelDocument.load(target))  # as after a restart
    return target


def _drop_on_edge(designer, source, row, port=0):
    from NodeGraphQt.qgraphics.pipe import PipeItem

    canvas = designer.canvas
    wanted = canvas.nodes[row].input(port).view
    pipe = next(p for p in canvas.graph.scene().items() if isinstance(p, PipeItem) and p.input_port is wanted)
    point = next(pipe.path().pointAtPercent(k / 20) for k in range(2, 19)
                 if canvas._edge_at(pipe.path().pointAtPercent(k / 20)) == (source, row, port))
    canvas.graph.viewer().centerOn(point)
    _drop(designer, "nn.Identity", point)


def test_a_saved_model_with_no_node_moved_keeps_no_positions_and_inserts_cover_nothing(designer, resources, tmp_path):
    target = _open_saved_unmoved(designer, resources, tmp_path)
    assert not sidecar_path(target).exists()  # nothing was placed by the user: the layout is drawn from the graph
    for _ in range(3):  # the walk's gesture: blocks dropped onto the edge 7 -> 8, one after the other
        _drop_on_edge(designer, 7, 8)
    canvas = designer.canvas
    positions = canvas.positions()
    assert covering(positions) == []
    assert [m for m in (r.module for r in designer.doc.rows[8:11])] == ["nn.Identity"] * 3
    chain = [positions[i][1] for i in range(0, designer.doc.head_start)]
    assert chain == sorted(chain)  # inserts appear in order, each below the one before


def test_a_layout_saved_by_an_older_studio_with_every_position_covers_nothing_after_an_insert(designer, resources,
                                                                                              tmp_path):
    import json

    target = _open_saved_unmoved(designer, resources, tmp_path)
    rows = designer.doc.rows
    layout = layered_layout(rows, designer.doc.head_start)
    old = {str(i): {"module": r.module, "pos": list(layout[i])} for i, r in enumerate(rows)}
    old["9"]["pos"] = [1500.0, 80.0]  # the one node that was really moved
    sidecar_path(target).write_text(json.dumps({"version": 1, "nodes": old}))
    designer.open_document(ModelDocument.load(target))
    assert designer.user_offsets == {9: (1500.0 - layout[9][0], 80.0 - layout[9][1])}
    _drop_on_edge(designer, 7, 8)
    assert covering(designer.canvas.positions()) == []
    assert designer.canvas.nodes[10].pos() == [1500.0, 80.0 + layout[9][1] - layout[8][1]]  # moved with its row


def test_a_node_dropped_onto_another_makes_it_slide_aside(designer, resources):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    canvas = designer.canvas
    canvas.nodes[3].set_pos(*canvas.nodes[5].pos())
    canvas.positions_changed.emit()
    positions = canvas.positions()
    assert covering(positions) == [] and positions[3] == tuple(layered_layout(
        designer.doc.rows, designer.doc.head_start)[5])  # where the user put it


def test_moved_offsets_follow_their_rows_when_the_yaml_changed_outside(designer, resources, tmp_path):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.canvas.nodes[9].set_pos(1500.0, 80.0)
    designer.canvas.positions_changed.emit()
    target = designer.save(tmp_path / "m.yaml")
    text = target.read_text().replace("  - [-1, 1, SPPF,", "  - [-1, 1, nn.Identity, []]\n  - [-1, 1, SPPF,", 1)
    target.write_text(text)  # a row added above SPPF in another editor
    doc = ModelDocument.load(target)
    designer.open_document(doc)
    assert doc.rows[10].module == "SPPF" and list(designer.user_offsets) == [10]


@pytest.mark.parametrize("name", ["yolo11.yaml", "yolov8-p2.yaml", "yolo11-seg.yaml", "rtdetr-l.yaml"])
def test_render_draws_the_canvas(name, tmp_path):
    from yolo_studio.app import render

    path = next(p for p in shipped_model_yamls() if p.name == name)
    out = tmp_path / f"{path.stem}.png"
    result = render(path, out, scale=None)
    doc = ModelDocument.load(path)
    assert result == {"nodes": len(doc.rows), "edges": _references(doc)}
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() > 400 and image.height() > 400


def test_yaml_pane_shows_the_document_and_highlights_the_selection(designer, resources):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.right_tabs.setCurrentWidget(designer.yaml_pane)
    designer.select_rows([12])
    pane = designer.yaml_pane
    assert pane.toPlainText() == designer.doc.to_yaml()
    selections = pane.extraSelections()  # keep the list alive: PySide frees the temporaries otherwise
    highlighted = selections[0].cursor.selectedText()
    assert "[[-1, 6], 1, Concat, [1]] # cat backbone P4" in highlighted
    designer.update_row(0, args=[32, 3, 2])
    assert "[-1, 1, Conv, [32, 3, 2]]" in pane.toPlainText()


def _drop(designer, module, scene_point):
    from gestures import drop_block

    drop_block(designer.canvas.graph.viewer(), module, scene_point)


def test_dragging_a_block_onto_an_edge_inserts_it_there(designer, resources, qtbot):
    from NodeGraphQt.qgraphics.pipe import PipeItem

    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    canvas = designer.canvas
    concat_in = canvas.nodes[12].input(1).view  # the 6 -> Concat(12) skip edge
    pipe = next(p for p in canvas.graph.scene().items() if isinstance(p, PipeItem) and p.input_port is concat_in)
    # a stretch of the edge that no other edge crosses (it runs down a gutter other edges use too)
    point = next(pipe.path().pointAtPercent(k / 20) for k in range(4, 17)
                 if canvas._edge_at(pipe.path().pointAtPercent(k / 20)) == (6, 12, 1))
    canvas.graph.viewer().centerOn(point)
    _drop(designer, "nn.Identity", point)
    rows = designer.doc.rows
    assert rows[12].module == "nn.Identity" and rows[12].from_ == 6
    assert rows[13].from_ == [-2, -1]


def test_dragging_a_block_onto_empty_canvas_inserts_it_after_the_row_above(designer, resources):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    node = designer.canvas.nodes[4].view.sceneBoundingRect()
    point = node.bottomLeft() + __import__("PySide6.QtCore", fromlist=["QPointF"]).QPointF(-200, 20)
    designer.canvas.graph.viewer().centerOn(point)
    _drop(designer, "SPPF", point)
    rows = designer.doc.rows
    assert rows[5].module == "SPPF" and rows[5].from_ == -1 and rows[6].from_ == -1
    assert rows[5].args == [64, 5]


def test_moved_nodes_keep_their_place_through_inserts_and_undo(designer, resources):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.canvas.nodes[9].set_pos(1500.0, 80.0)  # the user drags SPPF aside
    designer.canvas.positions_changed.emit()
    designer.insert_block("nn.Identity", 2)
    assert designer.doc.rows[10].module == "SPPF" and designer.canvas.nodes[10].pos()[0] == 1500.0  # one row lower, with its row
    assert designer.canvas.nodes[10].pos()[1] == 80.0 + 110.0  # the offset from the layout is kept
    designer.undo_stack.undo()
    assert designer.canvas.nodes[9].pos() == [1500.0, 80.0]


def test_render_svg_and_cli_json(tmp_path, resources):
    import json
    import subprocess
    import sys

    out = tmp_path / "m.svg"
    code = "import sys; from yolo_studio.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", code, "render", str(resources / "models" / "yolo11n-demo.yaml"),
                             "-o", str(out), "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"nodes": 24, "edges": 29}
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()


def test_custom_blocks_are_in_the_palette_and_inspected_live(qtbot, resources):
    from yolo_studio.ui.model.designer import ModelDesignerTab

    tab = ModelDesignerTab(modules_dir=resources / "modules")
    qtbot.addWidget(tab)
    try:
        tree = tab.palette.tree
        groups = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
        custom = groups["custom (2)"]
        assert sorted(custom.child(i).text(0) for i in range(custom.childCount())) == ["DownsampleConv", "SEAttention"]
        tab.open_document(ModelDocument.load(resources / "models" / "yolo11n-se.yaml"))
        assert tab.problems == []
        with qtbot.waitSignal(tab.inspected, timeout=60_000):
            pass
        assert tab.report.params == 2_315_201
        assert tab.canvas.nodes[5].view.lines[1] == "[128, 16]"  # SEAttention got c1 = 128 injected
    finally:
        tab.shutdown()


def test_a_moved_node_keeps_its_place_when_a_drop_on_its_edge_rewires_it_and_after_undo(designer, resources):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.canvas.nodes[12].set_pos(1400.0, 900.0)  # the user drags Concat 12 aside
    designer.canvas.positions_changed.emit()
    designer.insert_block("nn.Identity", 12, (6, 12, 1))  # dropped on the 6 -> 12 edge: row 12 is rewired
    lower = [1400.0, 900.0 + 110.0]  # one row lower, with its row: its offset from the layout is kept
    assert designer.doc.rows[13].module == "Concat" and designer.canvas.nodes[13].pos() == lower
    designer.undo_stack.undo()
    assert designer.doc.rows[12].module == "Concat" and designer.canvas.nodes[12].pos() == [1400.0, 900.0]
    assert designer.canvas.nodes[13].pos() != lower
    designer.undo_stack.redo()
    assert designer.canvas.nodes[13].pos() == lower


def _type_in_pane(designer, text):
    designer.right_tabs.setCurrentWidget(designer.yaml_pane)
    designer.yaml_pane.setPlainText(text)  # as typed: textChanged starts the pane's pause timer
    designer.yaml_pane.flush()


def test_broken_yaml_is_marked_where_its_bracket_opens_listed_and_cleared_once_fixed(designer, resources):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.right_tabs.setCurrentWidget(designer.yaml_pane)
    good = designer.doc.to_yaml()
    lines = good.splitlines()
    row = next(k for k, line in enumerate(lines) if "[-1, 1, Conv, [128, 3, 2]]" in line)
    broken = good.replace("[-1, 1, Conv, [128, 3, 2]]", "[-1, 1, Conv, [128, 3, 2]", 1)
    _type_in_pane(designer, broken)
    assert designer.yaml_pane.error_lines() == [row + 1]  # the line whose '[' is not closed
    texts = [designer.problems_panel.item(i).text() for i in range(designer.problems_panel.count())]
    assert any(t.startswith(f"YAML pane, line {row + 1}") for t in texts), texts
    _type_in_pane(designer, good.replace("[-1, 1, Conv, [128, 3, 2]]", "[-1, 1, Conv, [96, 3, 2]]", 1))
    assert designer.yaml_pane.error_lines() == [] and designer.doc.rows[1].args == [96, 3, 2]
    assert not any("YAML pane" in designer.problems_panel.item(i).text()
                   for i in range(designer.problems_panel.count()))


def test_an_undo_while_the_pane_holds_unapplied_yaml_is_not_silently_overwritten(designer, resources):
    from helpers import answer_next_dialog

    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.right_tabs.setCurrentWidget(designer.yaml_pane)
    designer._show_yaml()
    _type_in_pane(designer, designer.doc.to_yaml().replace("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv, [32, 3, 2]]"))
    assert designer.doc.rows[0].args == [32, 3, 2]
    fixed = designer.doc.to_yaml()
    typed = fixed.replace("[-1, 1, Conv, [128, 3, 2]]", "[-1, 1, Conv, [128, 3, 2]")
    _type_in_pane(designer, typed)  # does not parse: kept in the pane
    assert designer.yaml_pane.error_lines()
    designer.undo_stack.undo()  # Ctrl+Z on the canvas: the model goes back to 64
    assert designer.doc.rows[0].args == [64, 3, 2]
    seen = answer_next_dialog("Keep the model, drop my YAML")
    _type_in_pane(designer, fixed)  # fixing the typed text would bring 32 back: the user is asked
    assert "Applying your text replaces that change" in seen[0]
    assert designer.doc.rows[0].args == [64, 3, 2] and designer.undo_stack.canRedo()
    assert designer.yaml_pane.toPlainText() == designer.doc.to_yaml() and designer.yaml_pane.error_lines() == []


def test_nodes_say_measuring_until_their_shapes_arrive(designer, resources, qtbot):
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    with qtbot.waitSignal(designer.inspected, timeout=60_000):
        pass
    designer.update_row(6, args=[384, True])
    assert designer.canvas.nodes[6].view.lines[2] == "measuring…"  # not its "from", between the edit and the shapes
    assert designer.canvas.nodes[6].view.lines[0] == "6  C3k2"  # the repeats the scale gives, as inspected
    with qtbot.waitSignal(designer.shapes_shown, timeout=60_000):
        pass
    assert "×" in designer.canvas.nodes[6].view.lines[2]


def test_a_checkpoint_opens_as_its_architecture_and_nodes_show_which_layers_keep_its_weights(
        qtbot, trained_project, resources, tmp_path):
    import shutil

    from yolo_studio.core.project.projects import create_project
    from yolo_studio.core.project.trust import TrustStore
    from yolo_studio.ui.main_window import MainWindow

    project = create_project(tmp_path / "p")  # a project with the blocks the checkpoint's model uses
    for block in (resources / "modules").glob("*.py"):
        shutil.copy(block, project.modules_dir / block.name)
    TrustStore().remember(project.root, True)
    window = MainWindow(project_dir=project.root)
    qtbot.addWidget(window)
    tab = window.model_tab
    try:
        with qtbot.waitSignal(tab.inspected, timeout=120_000):
            assert window.open_path(trained_project.runs_dir / "tiny" / "weights" / "best.pt")
        assert tab.path is None and [r.module for r in tab.doc.rows][:2] == ["Conv", "DownsampleConv"]
        marks = tab.transfer_marks()
        assert len(marks) == len(tab.doc.rows) and {state for state, _ in marks.values()} <= {"full", "no weights"}
        with qtbot.waitSignal(tab.inspected, timeout=120_000):
            tab.insert_block("CBAM", 6)
        node = tab.canvas.nodes[6]
        assert node.view.mark[0] == "none" and "new layer: starts from scratch" in node.view.toolTip()
        assert tab.canvas.nodes[7].view.mark[0] == "full"  # the layer after it keeps its weights
        assert "plain Ultralytics would transfer" in window.statusBar().currentMessage() or tab.transfer is not None
        tab.show_weights(None)
        assert tab.canvas.nodes[6].view.mark is None
    finally:
        tab.undo_stack.setClean()
        window.close()


def test_comparing_with_another_architecture_marks_what_differs_by_structure(designer, resources, tmp_path):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    designer.compare_with(resources / "models" / "yolo11n-demo.yaml")
    assert designer.diff_marks() == {} and "(the same)" in designer.compare_list.item(0).text()
    designer.insert_block("CBAM", 10)  # the open model now has one more layer than the compared one
    designer.update_row(2, args=[96, False, 0.25])
    marks = designer.diff_marks()
    assert marks[10][0] == "added" and marks[2][0] == "changed" and marks[11][0] == "rewired"  # reads the new one
    assert all(i not in marks for i in range(12, len(designer.doc.rows)))  # not every later row
    assert designer.canvas.nodes[10].view.mark[0] == "added"
    texts = [designer.compare_list.item(i).text() for i in range(designer.compare_list.count())]
    assert any("+  10 CBAM" in t for t in texts) and any("changed: args" in t for t in texts), texts
    item = next(designer.compare_list.item(i) for i in range(designer.compare_list.count())
                if "CBAM" in designer.compare_list.item(i).text())
    designer.compare_list.itemClicked.emit(item)
    assert designer.selected == [10]
    designer.compare_with(None)
    assert designer.canvas.nodes[10].view.mark is None
    designer.compare_with(resources / "models" / "yolo11n-demo.yaml")
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    assert designer.comparison is None and designer.overlay_caption() == ""  # it was about the other model


def test_a_comparison_shows_params_and_gflops_of_both_sides(designer, resources, qtbot):
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    qtbot.waitUntil(lambda: designer.report is not None and designer.report.flops_counted, timeout=60_000)
    designer.insert_block("CBAM", 10)
    designer.compare_with(resources / "models" / "yolo11n-demo.yaml")
    sizes = lambda: designer.compare_list.item(1).text()  # noqa: E731
    qtbot.waitUntil(lambda: "measuring" not in sizes() and "counting" not in sizes(), timeout=60_000)
    assert sizes().strip().startswith("params 2,590,425 -> ") and "GFLOPs" in sizes(), sizes()
    assert f"{designer.report.params:,}" in sizes()
