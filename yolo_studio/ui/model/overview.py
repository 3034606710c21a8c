"""The overview map: the whole model, small, in a corner of the canvas, with the part in view framed.

Shown while part of the model is out of view (a yolov9e or an rtdetr-resnet101 never fits at a
readable zoom). Clicking or dragging in the map moves the canvas there. The map is a picture of
the scene, drawn again a moment after the canvas redraws or the scene changes (not on every frame
of a drag), so it costs nothing while the user works on the canvas.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

WIDTH = 190  # px; the height follows the model's proportions, up to MAX_HEIGHT
MAX_HEIGHT = 280
MARGIN = 12


class OverviewMap(QtWidgets.QWidget):
    """A map of ``viewer``'s scene over the viewer's bottom-right corner; ``items_rect()`` bounds the model."""

    def __init__(self, viewer, items_rect, parent=None):
        super().__init__(parent or viewer)
        self.viewer = viewer
        self.items_rect = items_rect  # () -> QRectF of what to map (the nodes and their captions)
        self.enabled_by_user = True
        self.setAutoFillBackground(True)  # opaque: painting it never makes the canvas below repaint
        self.setAttribute(QtCore.Qt.WA_OpaquePaintEvent)
        self.setCursor(QtCore.Qt.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the canvas there (View > Overview map hides it)")
        self._picture = QtGui.QPixmap()
        self._source = QtCore.QRectF()  # the scene rect the picture shows
        self._shown_view = QtCore.QRectF()  # the viewer's visible scene rect, as last framed
        self._render_timer = QtCore.QTimer(self, singleShot=True, interval=150, timeout=self.render_scene)
        viewer.scene().changed.connect(lambda *_: self.schedule_render())
        viewer.installEventFilter(self)
        viewer.viewport().installEventFilter(self)
        self.hide()

    # ------------------------------------------------------------------ what it shows

    def schedule_render(self) -> None:
        """Draw the picture again a moment from now (the canvas calls this after every redraw: Qt does
        not report every item's repaint as a scene change)."""
        self._render_timer.start()

    def visible_scene_rect(self) -> QtCore.QRectF:
        return self.viewer.mapToScene(self.viewer.viewport().rect()).boundingRect()

    def render_scene(self) -> None:
        """Draw the picture of the model again and decide whether the map is needed."""
        source = self.items_rect()
        if source.isEmpty():
            self.hide()
            return
        height = min(MAX_HEIGHT, max(60, int(WIDTH * source.height() / max(source.width(), 1.0))))
        width = min(WIDTH, max(60, int(height * source.width() / max(source.height(), 1.0))))
        ratio = self.devicePixelRatioF()
        picture = QtGui.QPixmap(int(width * ratio), int(height * ratio))
        picture.setDevicePixelRatio(ratio)
        picture.fill(QtGui.QColor(22, 24, 28))
        painter = QtGui.QPainter(picture)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        self.viewer.scene().render(painter, QtCore.QRectF(0, 0, width, height), source, QtCore.Qt.KeepAspectRatio)
        painter.end()
        self._picture, self._source = picture, source
        self.resize(width, height)
        self._place()
        self._follow_view(force=True)

    def _target(self) -> QtCore.QRectF:
        """Where the scene's ``_source`` lands in the widget (KeepAspectRatio centres it)."""
        w, h = self.width(), self.height()
        scale = min(w / max(self._source.width(), 1.0), h / max(self._source.height(), 1.0))
        tw, th = self._source.width() * scale, self._source.height() * scale
        return QtCore.QRectF((w - tw) / 2, (h - th) / 2, tw, th)

    def _to_widget(self, rect: QtCore.QRectF) -> QtCore.QRectF:
        target = self._target()
        sx = target.width() / max(self._source.width(), 1.0)
        sy = target.height() / max(self._source.height(), 1.0)
        return QtCore.QRectF(target.x() + (rect.x() - self._source.x()) * sx,
                             target.y() + (rect.y() - self._source.y()) * sy, rect.width() * sx, rect.height() * sy)

    def _to_scene(self, point: QtCore.QPointF) -> QtCore.QPointF:
        target = self._target()
        return QtCore.QPointF(
            self._source.x() + (point.x() - target.x()) * self._source.width() / max(target.width(), 1.0),
            self._source.y() + (point.y() - target.y()) * self._source.height() / max(target.height(), 1.0))

    def _follow_view(self, force: bool = False) -> None:
        view = self.visible_scene_rect()
        if not force and view == self._shown_view:
            return
        self._shown_view = view
        needed = not self._source.isEmpty() and not view.contains(self._source)
        self.setVisible(self.enabled_by_user and needed)
        if self.isVisible():
            self.raise_()
            self.update()

    def _place(self) -> None:
        self.move(self.viewer.width() - self.width() - MARGIN, self.viewer.height() - self.height() - MARGIN)

    def set_enabled_by_user(self, on: bool) -> None:
        self.enabled_by_user = on
        self._follow_view(force=True)

    # ------------------------------------------------------------------ Qt

    def eventFilter(self, watched, event):
        kind = event.type()
        if watched is self.viewer and kind == QtCore.QEvent.Resize:
            self._place()
        elif kind in (QtCore.QEvent.Paint, QtCore.QEvent.Resize):  # the viewport: panned or zoomed
            QtCore.QTimer.singleShot(0, self._follow_view)
        return False

    def paintEvent(self, _event):
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(22, 24, 28))
        if not self._picture.isNull():
            painter.drawPixmap(0, 0, self._picture)
        frame = self._to_widget(self._shown_view).intersected(QtCore.QRectF(self.rect()).adjusted(1, 1, -1, -1))
        painter.setPen(QtGui.QPen(QtGui.QColor(250, 200, 90), 1.5))
        painter.setBrush(QtGui.QColor(250, 200, 90, 40))
        painter.drawRect(frame)
        painter.setPen(QtGui.QPen(QtGui.QColor(90, 96, 108), 1))
        painter.setBrush(QtCore.Qt.NoBrush)
        painter.drawRect(QtCore.QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))

    def mousePressEvent(self, event):
        self.centre_on(self._to_scene(event.position()))

    def mouseMoveEvent(self, event):
        if event.buttons() & QtCore.Qt.LeftButton:
            self.centre_on(self._to_scene(event.position()))

    def centre_on(self, point: QtCore.QPointF) -> None:
        """Move the canvas so ``point`` (scene coordinates) is in the middle, at the same zoom."""
        viewer = self.viewer
        area = QtCore.QRectF(viewer._scene_range)  # NodeGraphQt keeps its view as this range
        area.moveCenter(point)
        viewer._scene_range = area
        viewer._update_scene()
        self._follow_view()
