"""A canvas node for one YAML row: index, module, repeats, args and output shape, painted in place."""

from __future__ import annotations

import html

from NodeGraphQt import BaseNode
from NodeGraphQt.qgraphics.node_base import NodeItem
from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.model.graph_model import NODE_HEIGHT, NODE_WIDTH  # one size for layout and drawing

BACKBONE_COLOUR = (38, 62, 92)
HEAD_COLOUR = (70, 50, 88)
OUTPUT_COLOUR = (120, 72, 24)
ERROR_BORDER = (230, 60, 60, 255)
TEXT = QtGui.QColor(230, 232, 236)
SUBTLE = QtGui.QColor(170, 178, 190)
TRANSFER_COLOURS = {"full": (70, 190, 110), "partial": (235, 175, 50), "none": (225, 70, 70),
                    "no weights": (130, 136, 148),  # from the checkpoint: all, some, none of its tensors
                    "added": (80, 160, 255), "changed": (235, 175, 50), "moved": (180, 120, 255),
                    "rewired": (120, 210, 220)}  # against a compared model
TRANSFER_STATES = ("full", "partial", "none", "no weights")
DETAIL_LOD = 0.7  # below this zoom the node shows only its index and module, in a font that grows as it shrinks


class LayerNodeItem(NodeItem):
    """NodeItem with a fixed size and three painted text lines instead of the single label."""

    lines = ("", "", "")
    problem = ""
    mark = None  # (transfer state, text) when a checkpoint's weights are shown: a stripe on the left edge

    def calc_size(self, add_w=0.0, add_h=0.0):
        return NODE_WIDTH, NODE_HEIGHT

    def align_label(self, h_offset=0.0, v_offset=0.0):
        self._text_item.setVisible(False)  # the title is painted with the other lines

    def align_icon(self, h_offset=0.0, v_offset=0.0):
        self._icon_item.setVisible(False)

    def set_proxy_mode(self, mode):
        """NodeGraphQt shows its own name label again when the zoom leaves its proxy mode."""
        super().set_proxy_mode(mode)
        self._text_item.setVisible(False)
        self._icon_item.setVisible(False)

    def paint(self, painter, option, widget):
        super().paint(painter, option, widget)
        if self.mark is not None:
            painter.save()
            painter.setPen(QtCore.Qt.NoPen)
            painter.setBrush(QtGui.QColor(*TRANSFER_COLOURS.get(self.mark[0], (120, 120, 120))))
            rect = self.boundingRect()
            painter.drawRoundedRect(QtCore.QRectF(rect.x() + 1, rect.y() + 1, 7, rect.height() - 2), 3, 3)
            painter.restore()
        lod = QtWidgets.QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < DETAIL_LOD:
            self._paint_overview(painter, lod)
            return
        painter.save()
        rect = self.boundingRect().adjusted(10, 12, -8, -8)
        title, args, info = self.lines
        font = QtGui.QFont(painter.font())
        font.setPointSizeF(9.0)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(TEXT)
        painter.drawText(QtCore.QRectF(rect.x(), rect.y(), rect.width(), 16), QtCore.Qt.AlignLeft, title)
        font.setBold(False)
        font.setPointSizeF(8.0)
        painter.setFont(font)
        painter.setPen(SUBTLE)
        painter.drawText(QtCore.QRectF(rect.x(), rect.y() + 17, rect.width(), 14), QtCore.Qt.AlignLeft, args)
        painter.setPen(TEXT)
        painter.drawText(QtCore.QRectF(rect.x(), rect.y() + 31, rect.width(), 14), QtCore.Qt.AlignLeft, info)
        if self.problem:
            pen = QtGui.QPen(QtGui.QColor(*ERROR_BORDER), 2.5)
            painter.setPen(pen)
            painter.setBrush(QtCore.Qt.NoBrush)
            painter.drawRoundedRect(self.boundingRect().adjusted(1, 1, -1, -1), 4, 4)
        painter.restore()

    def _paint_overview(self, painter, lod: float) -> None:
        """Zoomed out: the title alone, as large as the node allows (on two lines if that makes it
        larger: "3" over "RepNCSPELAN4"), so a whole model stays readable."""
        painter.save()
        rect = self.boundingRect().adjusted(6, 4, -6, -4)
        font = QtGui.QFont(painter.font())
        font.setBold(True)
        title = self.lines[0].replace("  ", " ")
        best, flags = 12, QtCore.Qt.AlignCenter
        size = max(12, min(int(11 / max(lod, 0.05)), int(rect.height() * 0.8)))  # ~11 px on screen
        while size > 12:  # the largest size at which the title fits on one line, or wrapped on two
            font.setPixelSize(size)
            metrics = QtGui.QFontMetricsF(font)
            if metrics.horizontalAdvance(title) <= rect.width():
                best = size
                break
            if " " in title and 2 * metrics.height() <= rect.height() and max(
                    metrics.horizontalAdvance(word) for word in title.split(" ", 1)) <= rect.width():
                best, flags = size, QtCore.Qt.AlignCenter | QtCore.Qt.TextWordWrap
                break
            size -= 2
        font.setPixelSize(best)
        metrics = QtGui.QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(TEXT)
        text = title if flags & QtCore.Qt.TextWordWrap else metrics.elidedText(title, QtCore.Qt.ElideRight, rect.width())
        painter.drawText(rect, flags, text)
        if self.problem:
            painter.setPen(QtGui.QPen(QtGui.QColor(*ERROR_BORDER), 3 / max(lod, 0.05)))
            painter.setBrush(QtCore.Qt.NoBrush)
            painter.drawRoundedRect(self.boundingRect().adjusted(1, 1, -1, -1), 4, 4)
        painter.restore()


class LayerNode(BaseNode):
    """The node type of every row; the row it shows is ``row_index``."""

    __identifier__ = "yolo_studio"
    NODE_NAME = "Layer"

    def __init__(self):
        super().__init__(qgraphics_item=LayerNodeItem)
        self.row_index = -1

    def show_row(self, index: int, lines: tuple, colour: tuple, problem: str, mark: tuple | None = None) -> None:
        self.row_index = index
        item = self.view
        item.lines = lines
        item.problem = problem
        item.mark = mark
        tip = (problem or f"{lines[0]}\n{lines[1]}\n{lines[2]}").split("\n")
        if mark:
            tip += ["", f"{'weights' if mark[0] in TRANSFER_STATES else 'compared'}: {mark[1]}"]
        # rich text, so that Qt wraps it: a long transfer detail was one line wider than the screen
        item.setToolTip("<qt>" + "<br>".join(html.escape(line) for line in tip) + "</qt>")
        if tuple(self.model.color[:3]) != tuple(colour):  # NodeGraphQt properties are slow: set on change
            self.set_color(*colour)
        item.update()

    def set_input_ports(self, names: list, append_port: str) -> int:
        """Make the input ports ``names``, in order: keep the common prefix, redo only the rest.

        Returns how many leading ports were kept (with their wires); the rest are new and unwired.
        """
        self.set_port_deletion_allowed(True)
        ports = self.input_ports()
        keep = 0
        while keep < min(len(ports), len(names)) and ports[keep].name() == names[keep]:
            keep += 1
        for port in ports[keep:]:
            port.clear_connections(push_undo=False, emit_signal=False)
            self.delete_input(port)
        for name in names[keep:]:
            if name == append_port:
                self.add_input(name, display_name=False, color=(90, 200, 120))
            else:
                self.add_input(name, display_name=False)
        self.view.draw_node()
        return keep
