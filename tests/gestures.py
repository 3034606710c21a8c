"""A seeded driver of random real gestures on the Model Designer, and the check that the canvas shows
the document exactly (import as ``from gestures import ...``; the long run is benchmarks/gesture_soak.py).

Gestures go in as a user's do: drops and mouse drags are Qt events on the canvas viewport, keys are
key events, connections go through NodeGraphQt's own port calls with their signals (what its viewer
calls when a wire is released). After each gesture ``scene_mismatches`` compares what is drawn with
the document: one node per row, titles, arguments and shapes, edges equal to ``from``, no stray
pipes or captions.
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6 import QtCore, QtGui, QtTest, QtWidgets

from helpers import choose_in_next_popup
from yolo_studio.core.model.graph_model import collapse, covering, edges, node_lines
from yolo_studio.ui.model.canvas import BLOCK_MIME, FoldedBox, SectionCaption
from yolo_studio.ui.model.node_item import LayerNode, LayerNodeItem

PALETTE = ("Conv", "C3k2", "SPPF", "nn.Identity", "Concat", "nn.Upsample", "C2f", "Bottleneck", "DWConv", "C2PSA")
GESTURES = ("drop_palette", "drop_edge", "connect", "disconnect", "drag", "delete", "undo", "redo", "scale",
            "template", "switch_tab", "edit_args", "fold", "save_reopen", "wire_off", "wire_move", "context",
            "toolbar")
WEIGHTS = (8, 8, 6, 5, 10, 7, 8, 6, 3, 1, 2, 4, 2, 2, 4, 4, 4, 4)


def scene_mismatches(tab) -> list:
    """Every way the canvas differs from the document (empty when it shows it exactly)."""
    from NodeGraphQt.qgraphics.pipe import LivePipeItem

    from yolo_studio.ui.model.routing import RoutedPipe

    rows, canvas = tab.doc.rows, tab.canvas
    scene = canvas.graph.scene()
    found = []
    graph_nodes = [n for n in canvas.graph.all_nodes() if isinstance(n, LayerNode)]
    items = [i for i in scene.items() if isinstance(i, LayerNodeItem)]
    if not (len(graph_nodes) == len(canvas.nodes) == len(items) == len(rows)):
        found.append(f"{len(rows)} rows but {len(canvas.nodes)} nodes, {len(graph_nodes)} in the graph, "
                     f"{len(items)} node items on the scene")
    layers, wanted_lines = tab.built_layers(), tab.node_lines()
    for i, (node, row) in enumerate(zip(canvas.nodes, rows)):
        if node.row_index != i:
            found.append(f"node {i} says it shows row {node.row_index}")
        want = wanted_lines[i]
        if layers.get(i) is not None and want != node_lines(i, row, layers[i]):
            found.append(f"row {i}'s text {want} is not its own inspection's")
        if not want[0].startswith(f"{i}  {row.module}"):
            found.append(f"row {i}'s text {want} names another row")
        if tuple(node.view.lines) != want:
            found.append(f"node {i} shows {tuple(node.view.lines)} but row {i} is {want}")
    drawn = {}
    for node in canvas.nodes:
        for port_index, port in enumerate(node.input_ports()):
            for other in port.connected_ports():
                drawn[(node.row_index, port_index)] = other.node().row_index
    wanted = {(e.target, e.port): e.source for e in edges(rows)}
    if drawn != wanted:
        extra = {k: v for k, v in drawn.items() if wanted.get(k) != v}
        missing = {k: v for k, v in wanted.items() if drawn.get(k) != v}
        found.append(f"edges differ from `from`: drawn but not in the document {extra}, missing {missing}")
    pipes = [i for i in scene.items() if type(i) is RoutedPipe]
    stray = [p for p in pipes if not (p.input_port and p.output_port and p.input_port.scene() is scene
                                      and p.output_port.scene() is scene)]
    if stray or len(pipes) != len(wanted):
        found.append(f"{len(pipes)} pipes on the scene for {len(wanted)} edges ({len(stray)} stray)")
    if scene.mouseGrabberItem() is not None:  # the next synthetic move (a scroll, a reopen) would drag it
        found.append(f"{type(scene.mouseGrabberItem()).__name__} still holds the mouse after the gesture")
    live = [i for i in scene.items() if isinstance(i, LivePipeItem) and i.isVisible()]
    if live:
        found.append("a wire being dragged is still drawn")
    captions = [i for i in scene.items() if isinstance(i, QtWidgets.QGraphicsSimpleTextItem)
                and i.parentItem() is None]
    wanted_captions = [i for i in canvas._labels if isinstance(i, SectionCaption)]
    if len(captions) != len(wanted_captions):
        found.append(f"{len(captions)} captions on the scene, {len(wanted_captions)} wanted")
    positions = {i: (0.0, 0.0) for i in range(len(rows))}
    _, hidden, boxes = collapse(rows, tab.doc.head_start, positions, tab.folded)
    shown_hidden = {n.row_index for n in canvas.nodes if not n.view.isVisible()}
    if shown_hidden != hidden:
        found.append(f"hidden nodes {sorted(shown_hidden)}, but the folded sections hide {sorted(hidden)}")
    visible = {n.row_index: tuple(n.pos()) for n in canvas.nodes if n.view.isVisible()}
    covered = covering(visible)
    if covered:
        found.append(f"nodes cover each other: {covered[:6]}")
    drawn_boxes = sorted(i.box.section for i in scene.items() if isinstance(i, FoldedBox))
    if drawn_boxes != sorted(boxes):
        found.append(f"folded boxes drawn {drawn_boxes}, wanted {sorted(boxes)}")
    return found


def drop_block(viewer, module: str, scene_point) -> None:
    """A real drop of a palette block at ``scene_point``: drag-enter, drag-move and drop events on the
    canvas viewport, carrying what the palette's drag carries."""
    mime = QtCore.QMimeData()
    mime.setData(BLOCK_MIME, QtCore.QByteArray(module.encode()))
    mime.setText(module)
    pos = QtCore.QPointF(viewer.mapFromScene(scene_point))
    for kind in (QtCore.QEvent.DragEnter, QtCore.QEvent.DragMove):
        event = QtGui.QDragMoveEvent(pos.toPoint(), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                     QtCore.Qt.NoModifier, kind)
        QtWidgets.QApplication.sendEvent(viewer.viewport(), event)
    drop = QtGui.QDropEvent(pos, QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(viewer.viewport(), drop)


class GestureDriver:
    """Performs random gestures on ``window``'s Model Designer; ``seed`` makes a run repeatable."""

    def __init__(self, window, seed: int, templates: list, save_dir: str | Path | None = None):
        self.window, self.tab = window, window.model_tab
        self.random = random.Random(seed)
        self.templates = templates
        self.save_dir = Path(save_dir) if save_dir else None  # where "save_reopen" saves (skipped without)
        self.log: list = []

    # -------------------------------------------------------------- plumbing

    @property
    def viewer(self):
        return self.tab.canvas.graph.viewer()

    def settle(self) -> None:
        """Let the deferred parts of a gesture run (the canvas reads NodeGraphQt on the next turn)."""
        for _ in range(3):
            QtWidgets.QApplication.processEvents()

    def _to_view(self, scene_point) -> QtCore.QPoint:
        self.viewer.centerOn(scene_point)
        return self.viewer.mapFromScene(scene_point)

    def _drag_from(self, start, end) -> None:
        """Press at scene point ``start``, move in steps, release at scene point ``end``."""
        a = self._to_view(start)
        b = self.viewer.mapFromScene(end)
        self._mouse(QtCore.QEvent.MouseButtonPress, a, QtCore.Qt.LeftButton)
        for k in range(1, 7):
            self._mouse(QtCore.QEvent.MouseMove, a + (b - a) * k / 6, QtCore.Qt.LeftButton)
        self._mouse(QtCore.QEvent.MouseButtonRelease, b, QtCore.Qt.NoButton)

    def _wire(self):
        """A random visible wire: (pipe, a point on it near its input end) or None."""
        from yolo_studio.ui.model.routing import RoutedPipe

        pipes = [p for p in self.tab.canvas.graph.scene().items()
                 if type(p) is RoutedPipe and p.input_port and p.output_port and p.isVisible()]
        if not pipes:
            return None
        pipe = self.random.choice(pipes)
        centre = pipe.input_port.sceneBoundingRect().center()
        points = [pipe.path().pointAtPercent(k / 200) for k in range(201)]
        near = [q for q in points if 14 <= QtCore.QLineF(q, centre).length() <= 60]
        return pipe, (self.random.choice(near) if near else points[len(points) // 2])

    def _mouse(self, kind, pos: QtCore.QPoint, buttons) -> None:
        button = QtCore.Qt.LeftButton if kind != QtCore.QEvent.MouseMove else QtCore.Qt.NoButton
        event = QtGui.QMouseEvent(kind, QtCore.QPointF(pos), QtCore.QPointF(self.viewer.viewport().mapToGlobal(pos)),
                                  button, buttons, QtCore.Qt.NoModifier)
        QtWidgets.QApplication.sendEvent(self.viewer.viewport(), event)

    def _drop(self, module: str, scene_point) -> None:
        self.viewer.centerOn(scene_point)
        drop_block(self.viewer, module, scene_point)

    def _focus_canvas(self) -> None:
        self.window.activateWindow()
        self.viewer.setFocus()

    # -------------------------------------------------------------- gestures

    def step(self) -> str:
        name = self.random.choices(GESTURES, WEIGHTS)[0]
        if name != "switch_tab" and self.window.tabs.currentWidget() is not self.tab:
            self.window.tabs.setCurrentWidget(self.tab)
        detail = getattr(self, f"_g_{name}")() if self.tab.doc.rows or name == "template" else "empty"
        self.settle()
        text = f"{name} {detail}"
        self.log.append(text)
        return text

    def _node(self):
        shown = [n for n in self.tab.canvas.nodes if n.view.isVisible()]
        return self.random.choice(shown or self.tab.canvas.nodes)

    def _g_drop_palette(self) -> str:
        node = self._node()
        rect = node.view.sceneBoundingRect()
        point = rect.bottomLeft() + QtCore.QPointF(self.random.uniform(-300, 300), self.random.uniform(5, 60))
        module = self.random.choice(PALETTE)
        self._drop(module, point)
        return f"{module} near {node.row_index}"

    def _g_drop_edge(self) -> str:
        from yolo_studio.ui.model.routing import RoutedPipe

        pipes = [p for p in self.tab.canvas.graph.scene().items()
                 if type(p) is RoutedPipe and p.input_port and p.isVisible()]
        if not pipes:
            return "no edge"
        pipe = self.random.choice(pipes)
        module = self.random.choice(PALETTE)
        self._drop(module, pipe.path().pointAtPercent(self.random.uniform(0.3, 0.7)))
        return module

    def _g_connect(self) -> str:
        nodes = self.tab.canvas.nodes
        if len(nodes) < 2:
            return "too few"
        target = self.random.randrange(1, len(nodes))
        source = self.random.randrange(0, len(nodes))  # sometimes below: the document must refuse it
        ports = nodes[target].input_ports()
        if not ports:
            return "no port"
        port = self.random.choice(ports)
        nodes[source].output(0).connect_to(port)  # with its signals, as the viewer does on release
        return f"{source} -> {target}.{port.name()}"

    def _g_disconnect(self) -> str:
        wired = [(n, p) for n in self.tab.canvas.nodes for p in n.input_ports() if p.connected_ports()]
        if not wired:
            return "nothing wired"
        node, port = self.random.choice(wired)
        port.disconnect_from(port.connected_ports()[0])
        return f"{node.row_index}.{port.name()}"

    def _g_fold(self) -> str:
        """A click on a section caption, or on a folded section's box: folds or unfolds it."""
        targets = [i for i in self.tab.canvas._labels if isinstance(i, (SectionCaption, FoldedBox))]
        if not targets:
            return "no caption"
        item = self.random.choice(targets)
        point = self._to_view(item.sceneBoundingRect().center())
        self._mouse(QtCore.QEvent.MouseButtonPress, point, QtCore.Qt.LeftButton)
        self._mouse(QtCore.QEvent.MouseButtonRelease, point, QtCore.Qt.NoButton)
        return f"{type(item).__name__} {sorted(self.tab.folded)}"

    def _g_drag(self) -> str:
        node = self._node()
        rect = node.view.sceneBoundingRect()
        start = self._to_view(QtCore.QPointF(rect.center().x(), rect.top() + 12))
        end = start + QtCore.QPoint(self.random.randint(-120, 120), self.random.randint(-80, 80))
        self._mouse(QtCore.QEvent.MouseButtonPress, start, QtCore.Qt.LeftButton)
        for k in range(1, 5):
            self._mouse(QtCore.QEvent.MouseMove, start + (end - start) * k / 4, QtCore.Qt.LeftButton)
        self._mouse(QtCore.QEvent.MouseButtonRelease, end, QtCore.Qt.NoButton)
        return f"{node.row_index}"

    def _g_delete(self) -> str:
        rows = self.random.sample(range(len(self.tab.doc.rows)), k=min(len(self.tab.doc.rows),
                                                                      self.random.choice((1, 1, 2))))
        self.tab.select_rows(rows)
        self._focus_canvas()
        QtTest.QTest.keyClick(self.viewer, QtCore.Qt.Key_Delete)
        return str(sorted(rows))

    def _g_undo(self) -> str:
        QtTest.QTest.keySequence(self.window, QtGui.QKeySequence("Ctrl+Z"))
        return ""

    def _g_redo(self) -> str:
        QtTest.QTest.keySequence(self.window, QtGui.QKeySequence(self.random.choice(("Ctrl+Shift+Z", "Ctrl+Y"))))
        return ""

    def _g_scale(self) -> str:
        count = self.tab.scale.count()
        if count:
            self.tab.scale.setCurrentIndex(self.random.randrange(count))
        return self.tab.scale.currentText()

    def _g_template(self) -> str:
        path = self.random.choice(self.templates)
        if self.tab.is_modified():  # the open model has edits: the user discards them
            def answer():
                box = QtWidgets.QApplication.activeModalWidget()
                if box is None:
                    QtCore.QTimer.singleShot(5, answer)
                else:
                    box.button(QtWidgets.QMessageBox.Discard).click()
            QtCore.QTimer.singleShot(0, answer)
        self.window.new_from_template(Path(path))
        return Path(path).name

    def _g_switch_tab(self) -> str:
        self.window.tabs.setCurrentIndex(self.random.choice((0, 1)))
        return self.window.tabs.tabText(self.window.tabs.currentIndex())

    def _g_save_reopen(self) -> str:
        """Save the model (and its layout) and open it again, as after a restart."""
        if self.save_dir is None:
            return "no folder"
        path = self.save_dir / f"soak-{len(self.log)}.yaml"
        self.tab.save(path)
        self.window.open_path(path)
        return path.name

    def _g_wire_off(self) -> str:
        """Grab a wire near its input end and drop it on empty canvas: that input is taken off."""
        found = self._wire()
        if found is None:
            return "no wire"
        _pipe, grab = found
        self._drag_from(grab, grab + QtCore.QPointF(self.random.choice((-1, 1)) * self.random.uniform(150, 400),
                                                    self.random.uniform(-40, 40)))
        return ""

    def _g_wire_move(self) -> str:
        """Grab a wire near its input end and drop it on another node's input port."""
        found = self._wire()
        ports = [p for n in self.tab.canvas.nodes if n.view.isVisible() for p in n.input_ports()]
        if found is None or not ports:
            return "no wire"
        _pipe, grab = found
        port = self.random.choice(ports)
        self._drag_from(grab, port.view.sceneBoundingRect().center())
        return f"onto {port.node().row_index}.{port.name()}"

    def _g_context(self) -> str:
        """Right-click a wire, a node or the canvas, and pick one of the menu's enabled actions."""
        found = self._wire()
        node = self._node()
        where = self.random.choice(("wire", "node", "canvas"))
        if where == "wire" and found is not None:
            point = found[0].path().pointAtPercent(0.5)
        elif where == "node":
            point = node.view.sceneBoundingRect().center()
        else:
            point = node.view.sceneBoundingRect().topLeft() + QtCore.QPointF(-500, 0)
        picked = []

        def pick(actions):
            action = self.random.choice(actions) if actions else None
            picked.extend([action.text()] if action else [])
            return action

        choose_in_next_popup(pick)
        pos = self._to_view(point)
        event = QtGui.QContextMenuEvent(QtGui.QContextMenuEvent.Mouse, pos, self.viewer.viewport().mapToGlobal(pos))
        QtWidgets.QApplication.sendEvent(self.viewer.viewport(), event)
        return f"{where}: {picked}"

    def _g_toolbar(self) -> str:
        """A click on a toolbar button (Undo, Redo, Frame all), on the Model or the Modules tab."""
        self.window.tabs.setCurrentIndex(self.random.choice((0, 1)))
        toolbar = self.window.findChild(QtWidgets.QToolBar)
        actions = [a for a in toolbar.actions() if a.text().replace("&", "") in ("Undo", "Redo", "Frame all") and a.isEnabled()]
        if not actions:
            return "nothing enabled"
        action = self.random.choice(actions)
        QtTest.QTest.mouseClick(toolbar.widgetForAction(action), QtCore.Qt.LeftButton)
        return f"{action.text()} on {self.window.tabs.tabText(self.window.tabs.currentIndex())}"

    def _g_edit_args(self) -> str:
        index = self.random.randrange(len(self.tab.doc.rows))
        self.tab.select_rows([index])
        fields = self.tab.properties.arg_fields
        if not fields:
            return f"{index} has no arguments"
        field = self.random.choice(fields)
        field.setFocus()
        field.selectAll()
        QtTest.QTest.keyClicks(field, str(self.random.choice((8, 16, 32, 64, 3, 1))))
        QtTest.QTest.keyClick(field, QtCore.Qt.Key_Return)
        return f"{index}"
