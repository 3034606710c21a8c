"""Edges that go round nodes instead of passing behind them.

NodeGraphQt draws every edge as one curve from the output port to the input port. On a YOLO model
a skip connection (a head Concat reading a layer ten rows up, in the same column) then runs behind
every node between them, and a reader cannot tell which node it leaves from. Here an edge whose
curve would cross a node takes a detour instead: out of the gap below its source, along the free
gutter beside the nodes in the way, and into the gap above its target. ``detour`` is the geometry
(plain numbers, no Qt); ``RoutedPipe`` and ``RoutingViewer`` make NodeGraphQt use it.
"""

from __future__ import annotations

from NodeGraphQt.qgraphics.node_base import NodeItem
from NodeGraphQt.qgraphics.pipe import PipeItem
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6 import QtCore, QtGui

GUTTER = 20.0  # distance from a node's side to the detour: the middle of the gap between lanes
GAP = 22.0  # distance from a port to the detour's first bend: the middle of the gap between rows
SPREAD = 5.0  # detours of different sources running along one gutter are this far apart
CORNER = 8.0


def _crosses(a: tuple, b: tuple, box: tuple) -> bool:
    """Whether the segment a-b passes through ``box`` (left, top, right, bottom): Liang-Barsky clipping."""
    (x1, y1), (x2, y2) = a, b
    dx, dy = x2 - x1, y2 - y1
    low, high = 0.0, 1.0
    for p, q in ((-dx, x1 - box[0]), (dx, box[2] - x1), (-dy, y1 - box[1]), (dy, box[3] - y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def detour(start: tuple, end: tuple, boxes: list, lane: int = 0) -> list | None:
    """Waypoints from ``start`` (an input port, on the top edge of its node) to ``end`` (the output port
    it reads, on the bottom edge of its node) that cross none of ``boxes`` (the other nodes, as
    (left, top, right, bottom)); ``None`` to keep NodeGraphQt's curve: when the direct line crosses no
    node, when the two nodes are side by side, or when no gutter is free.

    The detour leaves the source downwards and enters the target from above, so an edge to a node
    higher up (a backbone's P3 read by the head's first rows) climbs a gutter instead of crossing
    both columns. ``lane`` separates detours of different sources that share a gutter."""
    (x1, y1), (x2, y2) = start, end
    if abs(y1 - y2) < 2 * GAP:  # side by side: NodeGraphQt's curve is fine
        return None
    upward = y1 < y2  # the target is above its source
    if not upward and not any(_crosses(start, end, b) for b in boxes):
        return None
    near_target, near_source = y1 - GAP, y2 + GAP  # in the gaps above the target and below the source
    top, bottom = min(near_target, near_source), max(near_target, near_source)
    in_way = [b for b in boxes if b[1] < bottom and b[3] > top]
    offset = ((lane % 5) - 2) * SPREAD
    candidates = {b[0] - GUTTER + offset for b in in_way} | {b[2] + GUTTER + offset for b in in_way}
    candidates |= {x1 + offset, x2 + offset}  # straight down past the source, or into the target
    free = [x for x in candidates
            if not any(_crosses((x, top), (x, bottom), b) for b in in_way)
            and not any(_crosses((x1, near_target), (x, near_target), b)
                        or _crosses((x2, near_source), (x, near_source), b) for b in boxes)]
    if not free:
        return None
    x = min(free, key=lambda c: abs(c - x1) + abs(c - x2))
    return [start, (x1, near_target), (x, near_target), (x, near_source), (x2, near_source), end]


def rounded_path(points: list) -> QtGui.QPainterPath:
    """A path through ``points`` with its corners rounded."""
    path = QtGui.QPainterPath(QtCore.QPointF(*points[0]))
    for k in range(1, len(points) - 1):
        before, corner, after = (QtCore.QPointF(*p) for p in points[k - 1:k + 2])
        into, out = corner - before, after - corner
        r_in = min(CORNER, (into.x() ** 2 + into.y() ** 2) ** 0.5 / 2)
        r_out = min(CORNER, (out.x() ** 2 + out.y() ** 2) ** 0.5 / 2)
        path.lineTo(corner - _unit(into) * r_in)
        path.quadTo(corner, corner + _unit(out) * r_out)
    path.lineTo(QtCore.QPointF(*points[-1]))
    return path


def _unit(v: QtCore.QPointF) -> QtCore.QPointF:
    length = (v.x() ** 2 + v.y() ** 2) ** 0.5
    return v / length if length else v


def _centre(port) -> tuple:
    pos = port.scenePos()
    rect = port.boundingRect()
    return pos.x() + rect.width() / 2, pos.y() + rect.height() / 2


class RoutedPipe(PipeItem):
    """An edge between two ports that takes a detour round the nodes its curve would cross."""

    routed = False  # whether the last draw took a detour (tests and the walkthrough read it)

    def draw_path(self, start_port, end_port=None, cursor_pos=None):
        super().draw_path(start_port, end_port, cursor_pos)
        self.routed = False
        if cursor_pos is not None or end_port is None or not (self.input_port and self.output_port):
            return
        if not self.isVisible() or self.scene() is None:
            return
        start, end = _centre(self.input_port), _centre(self.output_port)
        ends = (self.input_port.node, self.output_port.node)
        area = QtCore.QRectF(QtCore.QPointF(*start), QtCore.QPointF(*end)).normalized()
        boxes = []
        for item in self.scene().items(area.adjusted(-400, -GAP, 400, GAP)):  # neighbours: the gutter must be free
            if isinstance(item, NodeItem) and item not in ends and item.isVisible():
                r = item.sceneBoundingRect()
                boxes.append((r.left(), r.top(), r.right(), r.bottom()))
        points = detour(start, end, boxes, lane=int(end[1] // 10))
        if points is None:
            return
        self.setPath(rounded_path(points))
        self.routed = True
        self._draw_direction_pointer()


class RoutingViewer(NodeViewer):
    """NodeGraphQt's viewer, drawing connections as ``RoutedPipe``s. Its own context menus (whose Undo is
    NodeGraphQt's private stack) are replaced: a right-click is reported as ``context_menu_at`` and the
    canvas offers the document's actions."""

    context_menu_at = QtCore.Signal(QtCore.QPointF, QtCore.QPoint)  # scene position, global position

    def contextMenuEvent(self, event):
        self.RMB_state = False
        self.context_menu_at.emit(self.mapToScene(event.pos()), event.globalPos())
        event.accept()

    def establish_connection(self, start_port, end_port):
        pipe = RoutedPipe()
        self.scene().addItem(pipe)
        pipe.set_connections(start_port, end_port)
        pipe.draw_path(pipe.input_port, pipe.output_port)
        if start_port.node.selected or end_port.node.selected:
            pipe.highlight()
        if not start_port.node.visible or not end_port.node.visible:
            pipe.hide()

    def reroute(self) -> None:
        """Draw every connection again: nodes moved, so other edges' detours may have to change."""
        for item in self.scene().items():
            if isinstance(item, RoutedPipe) and item.input_port and item.output_port:
                item.draw_path(item.input_port, item.output_port)
