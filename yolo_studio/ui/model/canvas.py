"""The canvas: a NodeGraphQt view of the document, and user gestures turned into requests.

The canvas never edits the document. It draws the rows it is given (``show_model``); when the
user connects or disconnects ports, drops a block, or moves nodes, it reads the graph's new state
once NodeGraphQt has finished (next event-loop turn) and emits a request with plain data. The
Model Designer turns requests into undoable document edits, and the document redraws the canvas.
"""

from __future__ import annotations

from NodeGraphQt import NodeGraph
from NodeGraphQt.constants import LayoutDirectionEnum
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.model.graph_model import NODE_WIDTH, edges, input_count
from yolo_studio.ui.model.node_item import BACKBONE_COLOUR, HEAD_COLOUR, NODE_HEIGHT, OUTPUT_COLOUR, LayerNode
from yolo_studio.ui.model.overview import OverviewMap
from yolo_studio.ui.model.routing import RoutingViewer

BLOCK_MIME = "application/x-yolo-studio-block"
APPEND_PORT = "+"
MIN_FRAME_ZOOM = 0.12  # Frame all goes this far out (yolov9e fits a 900 px window); below DETAIL_LOD nodes
# paint their titles large


class ModelCanvas(QtCore.QObject):
    rows_selected = QtCore.Signal(list)  # row indices
    inputs_changed = QtCore.Signal(object)  # a dict {row: new input sources in port order (None = unconnected)}: one gesture
    context_requested = QtCore.Signal(str, object, QtCore.QPoint)  # "edge" (s, t, port) | "node" row | "canvas"
    block_dropped = QtCore.Signal(str, int, object)  # module, insert index, edge (source, target, port) or None
    positions_changed = QtCore.Signal()
    section_toggled = QtCore.Signal(str)  # "backbone" or "head": its caption or folded box was clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        private_stack = QtGui.QUndoStack(self)  # NodeGraphQt's own; users undo on the document's stack
        private_stack.setUndoLimit(1)
        self.graph = NodeGraph(undo_stack=private_stack, viewer=RoutingViewer(undo_stack=private_stack))
        self.graph.set_layout_direction(LayoutDirectionEnum.VERTICAL.value)
        # NodeGraphQt's cycle check is a search without a visited set: exponential on YOLO's skip
        # connections. The document guarantees no cycles (a row only reads rows above it).
        self.graph.set_acyclic(False)
        # The viewer binds Ctrl+Z / Ctrl+Y to NodeGraphQt's private stack: with the canvas focused
        # they would undo view-only changes behind the document's back. Undo belongs to the document.
        viewer = self.graph.viewer()
        for name in ("_undo_action", "_redo_action"):
            action = getattr(viewer, name, None)
            if action is not None:
                action.setShortcuts([])
                action.setEnabled(False)
        # Its context menus offer that private Undo too ("Undo connect node(s)" on a wire raised
        # AttributeError): they are emptied, and a right-click asks the tab for the document's actions.
        for menu in (getattr(viewer, "_ctx_graph_menu", None), getattr(viewer, "_ctx_node_menu", None)):
            if menu is not None:
                menu.clear()
        viewer.context_menu_at.connect(self._on_viewer_context_menu_at)
        self.graph.register_node(LayerNode)
        self.graph.set_background_color(30, 32, 36)
        self.graph.set_grid_color(40, 43, 48)
        self.widget = self.graph.widget
        self.nodes: list = []
        self._shown: list = []  # per node: (ports, lines, colour, problem, pos) as drawn
        self._edges: dict = {}  # (target row, port) -> source row, as drawn
        self._labels: list = []
        self._placed: list = []  # node positions when the edges were last routed
        self._syncing = False
        self._dirty_rows: set = set()
        self._flush_timer = QtCore.QTimer(self, singleShot=True, interval=0, timeout=self._flush_connections)
        self.graph.port_connected.connect(self._on_graph_port_changed)
        self.graph.port_disconnected.connect(self._on_graph_port_changed)
        self.graph.node_selection_changed.connect(self._on_graph_selection_changed)
        self.graph.data_dropped.connect(self._on_graph_data_dropped)
        self.graph.viewer().moved_nodes.connect(self._on_nodes_moved)
        self._repair_timer = QtCore.QTimer(self, singleShot=True, interval=0, timeout=self._repair_after_release)
        self.graph.viewer().viewport().installEventFilter(self)
        self.overview = OverviewMap(self.graph.viewer(), self.extent)

    def _on_nodes_moved(self, *_):
        self.graph.viewer().reroute()  # edges of other nodes may now have to go round the moved ones
        self.positions_changed.emit()

    def eventFilter(self, watched, event):
        if event.type() == QtCore.QEvent.MouseButtonRelease:
            self._repair_timer.start()  # once NodeGraphQt has handled the release
        return False

    def _repair_after_release(self) -> None:
        """Undo what NodeGraphQt leaves behind when a wire is released where it started: it has deleted
        the wire's pipe and shows a live pipe that nothing ends (its release handler returns early when
        the end port is the start port), and it emits no signal. The drawn edges return to the document's."""
        grabber = self.graph.scene().mouseGrabberItem()
        if grabber is not None:  # the button is up: a node still holding the mouse (its release was lost while the
            grabber.ungrabMouse()  # drag redrew the canvas) would follow the next synthetic move, e.g. a scroll
        if self._flush_timer.isActive():  # a gesture changed ports: the document decides first (a wire dragged
            self._flush_timer.stop()      # off its port was drawn again here before it was reported)
            self._flush_connections()
        if any(tuple(node.pos()) != shown[4] for node, shown in zip(self.nodes, self._shown)):
            self._on_nodes_moved()  # NodeGraphQt moved nodes without saying so: the document places them
        viewer = self.graph.viewer()
        live = getattr(viewer, "_LIVE_PIPE", None)
        if live is not None and live.isVisible():
            viewer.end_live_connection()
            viewer._detached_port = None
        self._syncing = True
        try:
            for (target, port), source in list(self._edges.items()):
                if target >= len(self.nodes) or source >= len(self.nodes):
                    continue
                in_port, out_port = self.nodes[target].input(port), self.nodes[source].output(0)
                if not any(pipe.output_port is out_port.view for pipe in in_port.view.connected_pipes):
                    in_port.disconnect_from(out_port, push_undo=False, emit_signal=False)
                    out_port.connect_to(in_port, push_undo=False, emit_signal=False)  # draws its pipe again
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ drawing

    def show_model(self, rows: list, head_start: int, positions: dict, lines: list, problems: dict,
                   multi_input: set, outputs: set, selected: list = (), hidden: set = frozenset(),
                   boxes: dict | None = None, marks: dict | None = None) -> None:
        """Show ``rows``: ``lines[i]`` is node i's text, ``problems[i]`` its message; the rows in
        ``hidden`` are folded into the ``boxes`` of their sections (``graph_model.collapse``).

        Updates in place: node i keeps showing row i; only nodes whose text, colour, position or
        ports changed are touched, and only edges that changed are rewired, so an edit on a
        500-row model redraws in milliseconds.
        """
        self._syncing = True
        try:
            wanted = []
            for i, row in enumerate(rows):
                colour = OUTPUT_COLOUR if i in outputs else (HEAD_COLOUR if i >= head_start else BACKBONE_COLOUR)
                ports = (input_count(row), i in multi_input)
                wanted.append((ports, lines[i], colour, problems.get(i, ""), tuple(positions[i]), i not in hidden,
                               (marks or {}).get(i)))
            while len(self.nodes) > len(rows):
                self._remove_node(len(self.nodes) - 1)
            for i, state in enumerate(wanted):
                if i >= len(self.nodes):
                    self._add_node(i, state)
                elif self._shown[i] != state or tuple(self.nodes[i].pos()) != state[4]:  # a drag moved it
                    self._update_node(i, state)
            self._rewire({(e.target, e.port): e.source for e in edges(rows)})
            placed = [state[4:6] for state in wanted]
            if placed != self._placed:  # a node moved or was folded: edges may now pass behind others
                self._placed = placed
                self.graph.viewer().reroute()
            self._label_sections(positions, head_start, len(rows), boxes or {})
            self.overview.schedule_render()
            chosen = set(selected)
            for node in self.nodes:
                if node.selected() != (node.row_index in chosen):
                    node.set_selected(node.row_index in chosen)
        finally:
            self._syncing = False

    @staticmethod
    def _port_names(ports: tuple) -> list:
        count, multi = ports
        return [f"in{k}" for k in range(count)] + ([APPEND_PORT] if multi else [])

    def _add_node(self, i: int, state: tuple) -> None:
        """Append a node for row ``i`` (== len(nodes))."""
        ports, lines, colour, problem, pos, visible, mark = state
        node = LayerNode()
        for name in self._port_names(ports):
            if name == APPEND_PORT:
                node.add_input(name, display_name=False, color=(90, 200, 120))
            else:
                node.add_input(name, display_name=False)
        node.add_output("out", multi_output=True, display_name=False)
        node.set_name(f"layer-{id(node)}")  # unique already: NodeGraphQt's name search stays short
        node.show_row(i, lines, colour, problem, mark)
        self.graph.add_node(node, pos=list(pos), selected=False, push_undo=False)
        node.view.setVisible(visible)
        self.nodes.append(node)
        self._shown.append(state)

    def _update_node(self, i: int, state: tuple) -> None:
        ports, lines, colour, problem, pos, visible, mark = state
        node = self.nodes[i]
        if self._shown[i][0] != ports:  # e.g. a Concat now shown where a Conv was
            keep = node.set_input_ports(self._port_names(ports), APPEND_PORT)
            self._edges = {k: v for k, v in self._edges.items() if k[0] != i or k[1] < keep}
        node.show_row(i, lines, colour, problem, mark)
        if tuple(node.pos()) != pos:
            node.set_property("pos", [float(pos[0]), float(pos[1])], push_undo=False)
        if node.view.isVisible() != visible:
            node.view.setVisible(visible)
            if not visible:
                node.set_selected(False)
        node.view.update()
        self._shown[i] = state

    def _remove_node(self, i: int) -> None:
        """Remove the last node."""
        node = self.nodes.pop()
        self._shown.pop()
        self._edges = {k: v for k, v in self._edges.items() if k[0] != i and v != i}
        self.graph.remove_node(node, push_undo=False)

    def _rewire(self, wanted: dict) -> None:
        """Make the drawn edges ``{(target, port): source}`` equal ``wanted``, touching only differences."""
        for key, source in list(self._edges.items()):
            if wanted.get(key) != source:
                target, port = key
                if target < len(self.nodes) and source < len(self.nodes):
                    self.nodes[target].input(port).disconnect_from(self.nodes[source].output(0), push_undo=False,
                                                                   emit_signal=False)
                del self._edges[key]
        for key, source in wanted.items():
            if self._edges.get(key) != source:
                target, port = key
                self.nodes[source].output(0).connect_to(self.nodes[target].input(port), push_undo=False,
                                                        emit_signal=False)
                self._edges[key] = source

    def _label_sections(self, positions: dict, head_start: int, count: int, boxes: dict) -> None:
        """'Backbone' and 'Head' captions above their columns (click one to fold its section), and a
        box standing for each folded section."""
        scene = self.graph.scene()
        for label in self._labels:
            scene.removeItem(label)
        self._labels = []
        for name, first in (("backbone", 0), ("head", head_start)):
            if first >= count:
                continue
            colour = QtGui.QColor(120, 150, 190) if first == 0 else QtGui.QColor(170, 140, 200)
            box = boxes.get(name)
            label = SectionCaption(f"{'▸' if box else '▾'} {name.upper()}", colour,
                                   lambda name=name: self.section_toggled.emit(name))
            x, y = (box.x, box.y) if box else positions[first]
            label.setPos(x, y - 46)
            scene.addItem(label)
            self._labels.append(label)
            if box is not None:
                item = FoldedBox(box, colour, lambda name=name: self.section_toggled.emit(name))
                scene.addItem(item)
                self._labels.append(item)

    def positions(self) -> dict:
        return {n.row_index: tuple(n.pos()) for n in self.nodes}

    def select_rows(self, rows: list, frame: bool = True) -> None:
        self._syncing = True
        try:
            self.graph.clear_selection()
            picked = [self.nodes[i] for i in rows if 0 <= i < len(self.nodes)]
            for node in picked:
                node.set_selected(True)
        finally:
            self._syncing = False
        if frame and picked and not self._in_view(picked):  # a node already in view stays where it is
            self.graph.center_on(picked)

    def _in_view(self, nodes: list) -> bool:
        viewer = self.graph.viewer()
        seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
        return all(seen.contains(node.view.sceneBoundingRect()) for node in nodes)

    def selected_rows(self) -> list:
        return sorted(n.row_index for n in self.graph.selected_nodes() if isinstance(n, LayerNode))

    def extent(self) -> QtCore.QRectF:
        """The scene rect the model covers: every node, and room for the section captions."""
        rect = QtCore.QRectF()
        for node in self.nodes:
            if node.view.isVisible():
                rect = rect.united(node.view.sceneBoundingRect())
        for item in self._labels:
            if isinstance(item, FoldedBox):
                rect = rect.united(item.sceneBoundingRect())
        return rect.adjusted(-40, -70, 40, 40) if not rect.isEmpty() else rect

    def frame_all(self) -> None:
        """Fit every node in view, between 25 % and 100 % zoom (zoomed out, nodes show their titles large);
        a model taller than that shows its top.

        NodeGraphQt's viewer keeps its zoom as a scene range it fits into the view, so that is
        what is set here (plain QGraphicsView transforms are undone by its next resize).
        """
        if not self.nodes:
            return
        rect = self.extent()
        viewer = self.graph.viewer()
        vw, vh = max(viewer.viewport().width(), 1), max(viewer.viewport().height(), 1)
        fit = min(vw / rect.width(), vh / rect.height())
        scale = min(max(fit, MIN_FRAME_ZOOM), 1.0)
        width, height = vw / scale, vh / scale
        top = rect.top() if fit < MIN_FRAME_ZOOM else rect.center().y() - height / 2
        viewer._scene_range = QtCore.QRectF(rect.center().x() - width / 2, top, width, height)
        viewer._update_scene()

    def edge_count(self) -> int:
        return sum(len(p.connected_ports()) for n in self.nodes for p in n.input_ports())

    # ------------------------------------------------------------------ gestures

    def _on_graph_port_changed(self, input_port, output_port):
        if self._syncing:
            return
        node = input_port.node()
        if input_port.type_() != "in":  # NodeGraphQt may report the pair either way round
            node = output_port.node()
        if isinstance(node, LayerNode):
            self._dirty_rows.add(node.row_index)
            self._flush_timer.start()

    def _flush_connections(self):
        """After NodeGraphQt applied a gesture: report each touched row's inputs as they now are."""
        rows, self._dirty_rows = sorted(self._dirty_rows), set()
        changes = {}
        for i in rows:
            if i >= len(self.nodes):
                continue
            node = self.nodes[i]
            sources = []
            for port in node.input_ports():
                connected = port.connected_ports()
                source = connected[0].node().row_index if connected else None
                if port.name() == APPEND_PORT:
                    if source is not None:
                        sources.append(source)
                else:
                    sources.append(source)
            changes[i] = sources
        for i in changes:
            self._forget_inputs(i)
        if changes:  # a wire moved from one port to another is one gesture: one edit, one undo step
            self.inputs_changed.emit(changes)

    def _forget_inputs(self, i: int) -> None:
        """Drop what the gesture drew on row ``i``'s inputs: the document's redraw decides them."""
        self._syncing = True
        try:
            for port in self.nodes[i].input_ports():
                port.clear_connections(push_undo=False, emit_signal=False)
        finally:
            self._syncing = False
        self._edges = {k: v for k, v in self._edges.items() if k[0] != i}

    def _on_viewer_context_menu_at(self, scene_pos, global_pos) -> None:
        edge = self._edge_at(scene_pos)
        if edge is not None:
            self.context_requested.emit("edge", edge, global_pos)
            return
        for node in self.nodes:
            if node.view.isVisible() and node.view.sceneBoundingRect().contains(scene_pos):
                self.context_requested.emit("node", node.row_index, global_pos)
                return
        self.context_requested.emit("canvas", None, global_pos)

    def _on_graph_selection_changed(self, selected, deselected):
        if not self._syncing:
            self.rows_selected.emit(self.selected_rows())

    def _on_graph_data_dropped(self, mimedata, pos):
        if not mimedata.hasFormat(BLOCK_MIME):
            return
        module = bytes(mimedata.data(BLOCK_MIME)).decode()
        self.graph.viewer().setFocus(QtCore.Qt.MouseFocusReason)  # keys now act on the canvas, not the palette
        scene = QtCore.QPointF(pos)  # NodeGraphQt's viewer already maps drops to scene coordinates
        edge = self._edge_at(scene)
        if edge is not None:
            self.block_dropped.emit(module, edge[1], edge)
            return
        self.block_dropped.emit(module, self._row_after(scene), None)

    def _row_after(self, scene_pos) -> int:
        """Where a block dropped at ``scene_pos`` goes: after the nearest node above it in its column."""
        above = [n for n in self.nodes if n.view.isVisible() and n.view.sceneBoundingRect().top() <= scene_pos.y()]
        if not above:
            return 0
        nearest_dx = min(abs(n.view.sceneBoundingRect().center().x() - scene_pos.x()) for n in above)
        column = [n for n in above if abs(n.view.sceneBoundingRect().center().x() - scene_pos.x()) <= nearest_dx + 1]
        return max(column, key=lambda n: n.view.sceneBoundingRect().top()).row_index + 1

    def _edge_at(self, scene_pos):
        """(source, target, port) of the edge under ``scene_pos``: the nearest one where several pass
        close by (detours share gutters)."""
        from NodeGraphQt.qgraphics.pipe import PipeItem

        area = QtCore.QRectF(scene_pos.x() - 6, scene_pos.y() - 6, 12, 12)
        pipes = [item for item in self.graph.scene().items(area)
                 if isinstance(item, PipeItem) and item.input_port and item.output_port and item.isVisible()]
        if not pipes:
            return None

        def distance(pipe) -> float:
            path = pipe.path()
            return min(QtCore.QLineF(scene_pos, path.pointAtPercent(k / 200)).length() for k in range(201))

        item = min(pipes, key=distance)
        t_node = self.graph.get_node_by_id(item.input_port.node.id)
        s_node = self.graph.get_node_by_id(item.output_port.node.id)
        port = [p.view for p in t_node.input_ports()].index(item.input_port)
        return s_node.row_index, t_node.row_index, port

class SectionCaption(QtWidgets.QGraphicsSimpleTextItem):
    """A section's caption; clicking it folds or unfolds the section."""

    def __init__(self, text: str, colour: QtGui.QColor, on_click):
        super().__init__(text)
        font = self.font()
        font.setPointSize(14)
        font.setBold(True)
        self.setFont(font)
        self.setBrush(colour)
        self.on_click = on_click
        self.setCursor(QtCore.Qt.PointingHandCursor)
        self.setToolTip("Click to fold or unfold this section")

    def mousePressEvent(self, event):
        event.accept()

    def mouseReleaseEvent(self, event):
        if self.contains(event.pos()):
            QtCore.QTimer.singleShot(0, self.on_click)  # after NodeGraphQt has finished with the click


class FoldedBox(QtWidgets.QGraphicsItem):
    """A folded section: its layers' span and how many are hidden; click to unfold."""

    def __init__(self, box, colour: QtGui.QColor, on_click):
        super().__init__()
        self.box, self.colour, self.on_click = box, colour, on_click
        self.setPos(box.x, box.y)
        self.setCursor(QtCore.Qt.PointingHandCursor)
        self.setToolTip(f"{box.caption()}. Click to unfold.")

    def boundingRect(self):
        return QtCore.QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)

    def paint(self, painter, option, widget=None):
        rect = self.boundingRect().adjusted(1, 1, -1, -1)
        painter.setBrush(QtGui.QColor(self.colour.red() // 4, self.colour.green() // 4, self.colour.blue() // 4))
        painter.setPen(QtGui.QPen(self.colour, 2, QtCore.Qt.DashLine))
        painter.drawRoundedRect(rect, 6, 6)
        lod = QtWidgets.QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        font = QtGui.QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(max(11, min(int(11 / max(lod, 0.05)), 20)))  # two lines fit at 20 px
        painter.setFont(font)
        painter.setPen(QtGui.QColor(230, 232, 236))
        text = f"layers {self.box.first}–{self.box.last}\n{self.box.hidden} folded (click)"
        painter.drawText(rect.adjusted(6, 4, -6, -4), QtCore.Qt.AlignCenter, text)

    def mousePressEvent(self, event):
        event.accept()

    def mouseReleaseEvent(self, event):
        if self.boundingRect().contains(event.pos()):
            QtCore.QTimer.singleShot(0, self.on_click)
