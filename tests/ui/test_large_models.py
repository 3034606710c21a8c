"""Large models on the canvas: edges that go round nodes, the overview map, folded sections."""

import pytest
from PySide6 import QtCore, QtGui, QtTest, QtWidgets

from helpers import shipped_model_yamls
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.graph_model import sidecar_path
from yolo_studio.ui.model.canvas import FoldedBox, SectionCaption
from yolo_studio.ui.model.routing import RoutedPipe, detour


def _yaml(name):
    return next(p for p in shipped_model_yamls() if p.name == name)


def _open(designer, name):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(_yaml(name)))
    QtWidgets.QApplication.processEvents()
    return designer.canvas


def _crossed_nodes(canvas, pipe) -> list:
    """The nodes (other than its own two) that a drawn edge passes behind."""
    ends = {pipe.input_port.node, pipe.output_port.node}
    stroker = QtGui.QPainterPathStroker()
    stroker.setWidth(1.0)
    path = stroker.createStroke(pipe.path())  # the line itself (a path alone counts as its filled area)
    return [n.row_index for n in canvas.nodes if n.view not in ends and n.view.isVisible()
            and path.intersects(n.view.sceneBoundingRect().adjusted(4, 4, -4, -4))]


def _click_scene_item(canvas, item) -> None:
    viewer = canvas.graph.viewer()
    viewer.centerOn(item.sceneBoundingRect().center())
    point = viewer.mapFromScene(item.sceneBoundingRect().center())
    QtTest.QTest.mouseClick(viewer.viewport(), QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, point)
    for _ in range(3):
        QtWidgets.QApplication.processEvents()


def test_detour_goes_round_a_node_in_the_way_and_leaves_a_clear_line_alone():
    in_way = [(0.0, 100.0, 230.0, 166.0)]  # a node between the source (above) and the target (below)
    assert detour((115.0, 330.0), (115.0, -10.0), []) is None  # nothing in the way: NodeGraphQt's curve
    points = detour((115.0, 330.0), (115.0, -10.0), in_way)
    assert points[0] == (115.0, 330.0) and points[-1] == (115.0, -10.0)
    (run_x, _), (same_x, _) = points[2:4]
    assert run_x == same_x and (run_x <= -10.0 or run_x >= 240.0)  # down the gutter beside the node


@pytest.mark.parametrize("name", ["yolov9e.yaml", "yolo11.yaml", "rtdetr-resnet101.yaml"])
def test_no_edge_passes_behind_a_node(designer, name):
    canvas = _open(designer, name)
    pipes = [i for i in canvas.graph.scene().items() if isinstance(i, RoutedPipe) and i.isVisible()]
    assert pipes
    row = {n.view: n.row_index for n in canvas.nodes}
    behind = {(row[p.output_port.node], row[p.input_port.node]): _crossed_nodes(canvas, p) for p in pipes}
    behind = {edge: nodes for edge, nodes in behind.items() if nodes}
    assert not behind, f"edges drawn behind nodes: {behind}"
    if name == "yolov9e.yaml":
        assert sum(p.routed for p in pipes) >= 10  # its long skips take detours


def _tall_model(tmp_path, rows=160):
    """A model taller than Frame all can fit: a chain of convolutions."""
    body = "".join(f"  - [-1, 1, Conv, [16, 3, 1]]\n" for _ in range(rows))
    path = tmp_path / "tall.yaml"
    path.write_text(f"nc: 3\nbackbone:\n{body}head:\n  - [-1, 1, Classify, [nc]]\n")
    return path


def test_frame_all_shows_every_layer_of_yolov9e(designer):
    canvas = _open(designer, "yolov9e.yaml")
    canvas.frame_all()
    QtWidgets.QApplication.processEvents()
    viewer = canvas.graph.viewer()
    seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    assert [n.row_index for n in canvas.nodes if not seen.contains(n.view.sceneBoundingRect())] == []  # 26-29 were not


def test_overview_map_shows_a_model_that_does_not_fit_and_moves_the_canvas(designer, tmp_path):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(_tall_model(tmp_path)))
    QtWidgets.QApplication.processEvents()
    canvas = designer.canvas
    canvas.frame_all()
    canvas.overview.render_scene()
    QtWidgets.QApplication.processEvents()
    assert canvas.overview.isVisible()  # 160 layers do not fit at the smallest Frame-all zoom
    before = canvas.overview.visible_scene_rect()
    bottom = QtCore.QPoint(canvas.overview.width() // 2, canvas.overview.height() - 3)
    QtTest.QTest.mouseClick(canvas.overview, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, bottom)
    after = canvas.overview.visible_scene_rect()
    assert after.center().y() > before.center().y() + 200  # the view went down to the model's end
    canvas.overview.set_enabled_by_user(False)
    assert not canvas.overview.isVisible()

    canvas = _open(designer, "yolo11.yaml")
    canvas.frame_all()
    canvas.overview.set_enabled_by_user(True)
    canvas.overview.render_scene()
    assert not canvas.overview.isVisible()  # the whole model is in view: no map


def test_clicking_a_caption_folds_the_section_and_its_box_unfolds_it(designer):
    canvas = _open(designer, "yolov9e.yaml")
    caption = next(i for i in canvas._labels if isinstance(i, SectionCaption) and "BACKBONE" in i.text())
    _click_scene_item(canvas, caption)
    assert designer.folded == {"backbone"}
    shown = sorted(n.row_index for n in canvas.nodes if n.view.isVisible() and n.row_index < designer.doc.head_start)
    assert shown == [22, 25, 29]  # what the head reads; the rest is in the box
    box = next(i for i in canvas._labels if isinstance(i, FoldedBox))
    assert (box.box.first, box.box.last, box.box.hidden) == (0, 29, 27)
    assert len(canvas.nodes) == len(designer.doc.rows)  # folding is a view: every row keeps its node
    _click_scene_item(canvas, box)
    assert designer.folded == set() and all(n.view.isVisible() for n in canvas.nodes)


def test_a_layer_picked_inside_a_folded_section_unfolds_it(designer):
    canvas = _open(designer, "yolov9e.yaml")
    designer.toggle_section("head")
    assert not canvas.nodes[31].view.isVisible() and canvas.nodes[42].view.isVisible()  # Detect stays
    designer.select_rows([31])  # e.g. a problem in the list, or a line in the YAML pane
    assert designer.folded == set() and canvas.nodes[31].view.isVisible()
    assert canvas.selected_rows() == [31]


def test_saving_while_folded_keeps_where_nodes_are_when_unfolded(designer, tmp_path):
    canvas = _open(designer, "yolo11.yaml")
    unfolded = canvas.positions()
    designer.toggle_section("backbone")
    assert canvas.positions() != unfolded
    designer.save(tmp_path / "m.yaml")
    designer.toggle_section("backbone")
    designer.open_document(ModelDocument.load(tmp_path / "m.yaml"))
    assert not sidecar_path(tmp_path / "m.yaml").exists()  # folding moves no node: nothing to remember
    assert canvas.positions() == unfolded


def test_zoomed_out_titles_stay_large_and_the_name_label_stays_hidden(designer):
    canvas = _open(designer, "yolov9e.yaml")
    viewer = canvas.graph.viewer()
    canvas.frame_all()
    viewer.set_zoom(0.0)  # back in: NodeGraphQt re-shows its own label on leaving its proxy mode
    QtWidgets.QApplication.processEvents()
    assert not any(n.view._text_item.isVisible() for n in canvas.nodes)
    image = QtGui.QImage(viewer.viewport().size(), QtGui.QImage.Format_ARGB32)
    painter = QtGui.QPainter(image)
    viewer.render(painter)
    painter.end()
    assert not image.isNull()


def test_the_view_menu_turns_the_overview_map_off_and_on(qtbot, tmp_path):
    from yolo_studio.core.project.projects import create_project
    from yolo_studio.ui.main_window import MainWindow

    window = MainWindow(project_dir=create_project(tmp_path / "p").root)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.model_tab.live_inspection = False
    window.model_tab.open_document(ModelDocument.load(_tall_model(tmp_path)))
    canvas = window.model_tab.canvas
    canvas.frame_all()
    canvas.overview.render_scene()
    assert canvas.overview.isVisible()
    action = next(a for a in window.findChildren(QtGui.QAction) if a.text() == "&Overview map")
    action.trigger()  # as a click in the menu does
    assert not action.isChecked() and not canvas.overview.isVisible()
    action.trigger()
    assert canvas.overview.isVisible()
    window.model_tab.undo_stack.setClean()


def test_the_overview_map_follows_an_edit(designer, qtbot):
    canvas = _open(designer, "yolov9e.yaml")
    canvas.frame_all()
    canvas.overview.render_scene()
    before = canvas.overview._picture.toImage()
    designer.delete_rows([3])
    assert canvas.overview._render_timer.isActive()  # the canvas asked for a new picture
    qtbot.waitUntil(lambda: not canvas.overview._render_timer.isActive(), timeout=2000)
    assert canvas.overview._picture.toImage() != before
