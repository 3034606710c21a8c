"""The Model Designer's wiring: connecting, taking a wire off its port, moving it to another port, the wire's
right-click menu and refused connections, driven with the canvas's own mouse and context-menu events."""

from helpers import choose_in_next_popup
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.graph_model import edges


def test_disconnecting_a_port_leaves_an_unconnected_input_that_is_flagged(designer, resources, qtbot):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    canvas = designer.canvas
    with qtbot.waitSignal(canvas.inputs_changed):
        canvas.nodes[12].input(1).disconnect_from(canvas.nodes[6].output(0))
    assert designer.doc.rows[12].from_ == [-1]  # a Concat loses the input whose wire was taken off
    with qtbot.waitSignal(canvas.inputs_changed):
        canvas.nodes[5].input(0).disconnect_from(canvas.nodes[4].output(0))
    assert designer.doc.rows[5].from_ is None  # a Conv's one input stays, unconnected
    problem = next(p for p in designer.problems if p.layer == 5)
    assert "not connected" in problem.message
    assert designer.canvas.nodes[5].view.problem


def _mouse(viewer, kind, scene_point, button=None):
    from PySide6 import QtCore, QtGui, QtWidgets

    pos = QtCore.QPointF(viewer.mapFromScene(scene_point))
    pressed = QtCore.Qt.LeftButton if kind != QtCore.QEvent.MouseButtonRelease else QtCore.Qt.NoButton
    event = QtGui.QMouseEvent(kind, pos, QtCore.QPointF(viewer.viewport().mapToGlobal(pos.toPoint())),
                              button or QtCore.Qt.LeftButton, pressed, QtCore.Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(viewer.viewport(), event)


def _wire_near_its_input(designer, row, port):
    """A point on the wire into ``row``'s input ``port``, a little away from the port: grabbing the wire there
    takes its input end (pressing the port itself takes the wire by its other end)."""
    from NodeGraphQt.qgraphics.pipe import PipeItem
    from PySide6 import QtCore

    port_item = designer.canvas.nodes[row].input(port).view
    pipe = next(p for p in designer.canvas.graph.scene().items() if isinstance(p, PipeItem)
                and p.input_port is port_item)
    centre = port_item.sceneBoundingRect().center()
    points = [pipe.path().pointAtPercent(k / 400) for k in range(401)]
    return min((q for q in points if 14 <= QtCore.QLineF(q, centre).length()),
               key=lambda q: QtCore.QLineF(q, centre).length())


def _drag_wire_end(designer, qtbot, row, port, end_point, start=None):
    """Press on an input port's wire end (or at ``start``), move, release at ``end_point``: as a user drags
    with the mouse."""
    from PySide6 import QtCore

    viewer = designer.canvas.graph.viewer()
    start = start or designer.canvas.nodes[row].input(port).view.sceneBoundingRect().center()
    viewer.centerOn(start)
    _mouse(viewer, QtCore.QEvent.MouseButtonPress, start)
    for k in range(1, 9):
        _mouse(viewer, QtCore.QEvent.MouseMove, start + (end_point - start) * (k / 8))
    _mouse(viewer, QtCore.QEvent.MouseButtonRelease, end_point)
    for _ in range(3):
        qtbot.wait(1)


def test_dragging_a_wire_off_its_port_onto_empty_canvas_removes_that_input_in_one_undo_step(designer, resources,
                                                                                             qtbot):
    from PySide6 import QtCore

    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    before = designer.doc.to_yaml()
    port = designer.canvas.nodes[12].input(1).view.sceneBoundingRect().center()
    _drag_wire_end(designer, qtbot, 12, 1, port + QtCore.QPointF(-400, 30))  # it snapped back before
    assert designer.doc.rows[12].from_ == [-1]
    assert designer.canvas.edge_count() == len(edges(designer.doc.rows))
    designer.undo_stack.undo()
    assert designer.doc.to_yaml() == before and designer.canvas.edge_count() == len(edges(designer.doc.rows))


def test_dragging_a_wire_onto_another_port_moves_it(designer, resources, qtbot):
    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    before = designer.doc.to_yaml()
    assert designer.doc.rows[12].from_ == [-1, 6] and designer.doc.rows[15].from_ == [-1, 4]
    target = designer.canvas.nodes[15].input(1).view.sceneBoundingRect().center()
    grab = _wire_near_its_input(designer, 12, 1)
    _drag_wire_end(designer, qtbot, 12, 1, target, start=grab)  # 6 -> 12.in1 dropped on 15.in1 (it kept both)
    assert designer.doc.rows[12].from_ == [-1] and designer.doc.rows[15].from_ == [-1, 6]
    assert designer.canvas.edge_count() == len(edges(designer.doc.rows))
    designer.undo_stack.undo()  # one gesture, one step
    assert designer.doc.to_yaml() == before
    source = designer.canvas.nodes[4].output(0).view.sceneBoundingRect().center()
    _drag_wire_end(designer, qtbot, 12, 1, source)  # the port's wire taken by its input end onto 4's output
    assert designer.doc.rows[12].from_ == [-1, 4]
    assert designer.canvas.edge_count() == len(edges(designer.doc.rows))


def test_a_right_click_on_a_wire_offers_the_documents_actions_and_disconnect_works(designer, resources, qtbot):
    from NodeGraphQt.qgraphics.pipe import PipeItem
    from PySide6 import QtGui, QtWidgets

    designer.live_inspection = False
    designer.show()
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    canvas = designer.canvas
    viewer = canvas.graph.viewer()
    wanted = canvas.nodes[12].input(1).view
    pipe = next(p for p in canvas.graph.scene().items() if isinstance(p, PipeItem) and p.input_port is wanted)
    point = next(pipe.path().pointAtPercent(k / 20) for k in range(2, 19)
                 if canvas._edge_at(pipe.path().pointAtPercent(k / 20)) == (6, 12, 1))
    viewer.centerOn(point)
    seen = choose_in_next_popup(lambda actions: next(a for a in actions if a.text().startswith("Disconnect")))
    pos = viewer.mapFromScene(point)
    event = QtGui.QContextMenuEvent(QtGui.QContextMenuEvent.Mouse, pos, viewer.viewport().mapToGlobal(pos))
    QtWidgets.QApplication.sendEvent(viewer.viewport(), event)
    assert seen and not any("Undo connect" in t for t in seen), seen  # NodeGraphQt's own menu is gone
    assert seen[0] == "Disconnect layer 6 → layer 12"
    assert designer.doc.rows[12].from_ == [-1] and designer.undo_stack.undoText() == "Rewire layer 12"


def test_a_forward_connection_is_refused(designer, resources, qtbot):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    before = designer.doc.to_yaml()
    with qtbot.waitSignal(designer.status_message) as message:
        designer.set_inputs(3, [5])
    assert "only read layers above" in message.args[0]
    assert designer.doc.to_yaml() == before and not designer.undo_stack.canUndo()


def test_a_refused_drag_leaves_no_wire_behind(designer, resources, qtbot):
    designer.live_inspection = False
    designer.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    canvas = designer.canvas
    before = canvas.edge_count()
    with qtbot.waitSignal(designer.status_message):
        canvas.nodes[8].output(0).connect_to(canvas.nodes[12].input(2))  # 8 -> 12 is fine ...
        canvas.nodes[20].output(0).connect_to(canvas.nodes[13].input(0))  # ... 20 -> 13 reads forward
    assert designer.doc.rows[12].from_ == [-1, 6, 8]
    assert designer.doc.rows[13].from_ == -1
    assert canvas.nodes[13].input(0).connected_ports()[0].node() is canvas.nodes[12]
    assert canvas.edge_count() == before + 1 == len(edges(designer.doc.rows))
