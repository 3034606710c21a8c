"""The sample browser: a dataset's images with their boxes, masks and keypoints drawn over them."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.ui.layout import column, splitter

MAX_LISTED = 5000  # images listed per split and filter; the count says when there are more
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
           "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075")


def class_colour(cls: int) -> QtGui.QColor:
    return QtGui.QColor(PALETTE[cls % len(PALETTE)])


class ImageView(QtWidgets.QGraphicsView):
    """An image with overlays; the wheel zooms around the cursor, drag pans, double-click fits."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QtWidgets.QGraphicsScene(self))
        self.setRenderHints(QtGui.QPainter.Antialiasing | QtGui.QPainter.SmoothPixmapTransform)
        self.setDragMode(QtWidgets.QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QtWidgets.QGraphicsView.AnchorUnderMouse)
        self.setBackgroundBrush(QtGui.QColor("#2b2b2b"))
        self.image_size = QtCore.QSize()
        self._placed: list = []

    def clear_image(self) -> None:
        self.scene().clear()
        self._placed = []
        self.image_size = QtCore.QSize()

    def show_image(self, path: str | Path | QtGui.QImage) -> bool:
        self.scene().clear()
        self._placed = []
        image = path if isinstance(path, QtGui.QImage) else QtGui.QImage(str(path))
        if image.isNull():
            text = self.scene().addText(f"cannot read {path}")
            text.setDefaultTextColor(QtGui.QColor("white"))
            return False
        self.scene().addPixmap(QtGui.QPixmap.fromImage(image))
        self.image_size = image.size()
        self.scene().setSceneRect(QtCore.QRectF(image.rect()))
        self.fit()
        return True

    def draw_objects(self, objects: list, names: list, hidden: set = frozenset()) -> None:
        """Draw ``LabelObject``s (normalised coordinates) over the image."""
        w, h = self.image_size.width(), self.image_size.height()
        scale = max(w, h) / 640
        for obj in objects:
            if obj.cls in hidden:
                continue
            colour = class_colour(obj.cls)
            pen = QtGui.QPen(colour, max(1.0, 2 * scale))
            pen.setCosmetic(scale < 1)
            if obj.points:
                polygon = QtGui.QPolygonF([QtCore.QPointF(x * w, y * h) for x, y in obj.points])
                fill = QtGui.QColor(colour)
                fill.setAlpha(70)
                self.scene().addPolygon(polygon, pen, QtGui.QBrush(fill))
            x, y, bw, bh = obj.box
            rect = QtCore.QRectF((x - bw / 2) * w, (y - bh / 2) * h, bw * w, bh * h)
            if not obj.points:
                self.scene().addRect(rect, pen)
            for kx, ky, visible in obj.keypoints or []:
                if visible:
                    r = max(1.5, 3 * scale)
                    self.scene().addEllipse(kx * w - r, ky * h - r, 2 * r, 2 * r, QtGui.QPen(QtCore.Qt.white, 0.5),
                                            QtGui.QBrush(colour))
            self._label(rect.topLeft(), names[obj.cls] if obj.cls < len(names) else str(obj.cls), colour, scale)

    def draw_predictions(self, objects: list, hidden: set = frozenset()) -> None:
        """Draw prediction dicts (pixel boxes, polygons, keypoints) with their scores."""
        scale = max(self.image_size.width(), self.image_size.height()) / 640
        self._placed = []  # label rectangles already drawn: a new one is moved below those it would cover
        heads = sorted({obj["head"] for obj in objects if obj.get("head")})
        for obj in objects:
            if obj["cls"] in hidden or "box" not in obj:
                continue
            # several heads of a hydra model: one colour per head (their class 0s would share one)
            colour = class_colour(heads.index(obj["head"]) if obj.get("head") else obj["cls"])
            pen = QtGui.QPen(colour, max(1.0, 2 * scale))
            if obj.get("polygon"):
                fill = QtGui.QColor(colour)
                fill.setAlpha(70)
                polygon = QtGui.QPolygonF([QtCore.QPointF(x, y) for x, y in obj["polygon"]])
                self.scene().addPolygon(polygon, pen, QtGui.QBrush(fill))
            x1, y1, x2, y2 = obj["box"]
            self.scene().addRect(QtCore.QRectF(x1, y1, x2 - x1, y2 - y1), pen)
            for point in obj.get("keypoints") or []:
                if len(point) < 3 or point[2] > 0.5:
                    r = max(1.5, 3 * scale)
                    self.scene().addEllipse(point[0] - r, point[1] - r, 2 * r, 2 * r, QtGui.QPen(QtCore.Qt.white, 0.5),
                                            QtGui.QBrush(colour))
            self._label(QtCore.QPointF(x1, y1), f"{obj['name']} {obj['conf']:.2f}", colour, scale)

    def _label(self, at: QtCore.QPointF, text: str, colour: QtGui.QColor, scale: float) -> None:
        item = self.scene().addSimpleText(text)
        font = item.font()
        font.setPointSizeF(max(5.0, 9 * scale))
        item.setFont(font)
        item.setBrush(QtGui.QBrush(QtCore.Qt.white))
        box = item.boundingRect()
        rect = QtCore.QRectF(at.x(), max(0.0, at.y() - box.height()), box.width() + 4, box.height())
        placed = self._placed
        while any(rect.intersects(other) for other in placed):  # labels of boxes that coincide: stacked
            rect.translate(0, box.height())
        placed.append(rect)
        top = rect.top()
        background = self.scene().addRect(rect, QtGui.QPen(QtCore.Qt.NoPen), QtGui.QBrush(colour))
        item.setPos(at.x() + 2, top)
        item.setZValue(2)
        background.setZValue(1)

    def fit(self) -> None:
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.scene().sceneRect(), QtCore.Qt.KeepAspectRatio)

    def wheelEvent(self, event):
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)

    def mouseDoubleClickEvent(self, event):
        self.fit()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit()


class SampleBrowserWidget(QtWidgets.QWidget):
    """Split and class filters, the matching images, and the selected one drawn with its labels."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
        self.split = QtWidgets.QComboBox()
        self.class_filter = QtWidgets.QComboBox()
        self.count = QtWidgets.QLabel()
        self.list = QtWidgets.QListWidget()
        self.list.setUniformItemSizes(True)
        self.view = ImageView()
        self.caption = QtWidgets.QLabel(wordWrap=True)
        self.split.currentTextChanged.connect(self._fill)
        self.class_filter.currentIndexChanged.connect(self._fill)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(QtWidgets.QLabel("Split"))
        bar.addWidget(self.split)
        bar.addWidget(QtWidgets.QLabel("Class"))
        bar.addWidget(self.class_filter, 1)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(bar)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.count)
        right = column((self.view, 1), self.caption)
        column(splitter(left, right, sizes=[300, 700]), on=self)

    def set_index(self, index) -> None:
        """Show a ``core.dataset_validate.DatasetIndex``."""
        self.index = index
        for combo, items in ((self.split, list(index.images)), (self.class_filter, ["all", *index.names])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.blockSignals(False)
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        if self.index is None or not self.split.currentText():
            return
        images = self.index.images.get(self.split.currentText(), [])
        wanted = self.class_filter.currentIndex() - 1  # -1: all classes
        shown = 0
        for image in images:
            if wanted >= 0 and not self._has_class(image, wanted):
                continue
            item = QtWidgets.QListWidgetItem(image.name)
            item.setData(QtCore.Qt.UserRole, str(image))
            self.list.addItem(item)
            shown += 1
            if shown >= MAX_LISTED:
                break
        more = " (first shown)" if shown >= MAX_LISTED else ""
        self.count.setText(f"{shown} of {len(images)} images{more}")
        if self.list.count():
            self.list.setCurrentRow(0)

    def _has_class(self, image: Path, cls: int) -> bool:
        if self.index.task == "classify":
            return image.parent.name == self.index.names[cls]
        return any(o.cls == cls for o in self.index.objects(image))

    def _on_list_current_item_changed(self, item, _previous) -> None:
        if item is None:
            return
        image = Path(item.data(QtCore.Qt.UserRole))
        self.view.show_image(image)
        wanted = self.class_filter.currentIndex() - 1
        objects = self.index.objects(image)
        hidden = {o.cls for o in objects if wanted >= 0 and o.cls != wanted}
        self.view.draw_objects(objects, self.index.names, hidden)
        size = f"{self.view.image_size.width()}x{self.view.image_size.height()}"
        label = image.parent.name if self.index.task == "classify" else f"{len(objects)} objects"
        self.caption.setText(f"{image} · {size} · {label}")
