"""Two models on the same images, side by side: per-class figures, and the images the second got better and worse
(``core.evaluation.compare``). Opened from the Runs tab with two runs selected."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.evaluation.compare import compare
from yolo_studio.core.evaluation.matching import Matcher
from yolo_studio.ui.datasets.samples import ImageView
from yolo_studio.ui.layout import splitter
from yolo_studio.ui.runs.evaluate_page import paint

CONF, IOU = 0.25, 0.5
FIGURES = ("precision", "recall", "f1", "mAP50-95")


class CompareDialog(QtWidgets.QDialog):
    def __init__(self, first, second, labels: tuple, parent=None, promote=None):
        """``first``, ``second``: evaluations (``core.evaluation.store.Evaluation``) of the same images. Raises
        ``ValueError`` when they cannot be compared. ``promote(k)``, if given, registers run ``k`` (0 or 1) and
        makes it the production version (the buttons under the images)."""
        super().__init__(parent)
        self.setWindowTitle(f"{labels[0]} -> {labels[1]}")
        self.first, self.second = first, second
        self.result = compare(first, second, CONF, IOU)
        self.matchers = (Matcher(first), Matcher(second))
        self.classes = QtWidgets.QTableWidget(len(self.result.per_class), 1 + len(FIGURES))
        self.classes.setHorizontalHeaderLabels(["class", *(f"{f} {labels[0]} -> {labels[1]}" for f in FIGURES)])
        self.classes.verticalHeader().hide()
        self.classes.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.classes.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        for row, (c, a, b) in enumerate(self.result.per_class):
            self.classes.setItem(row, 0, QtWidgets.QTableWidgetItem(first.names.get(c, str(c))))
            for col, key in enumerate(FIGURES, start=1):
                self.classes.setItem(row, col, _delta_item(a.get(key), b.get(key)))
        self.better, self.worse = QtWidgets.QListWidget(), QtWidgets.QListWidget()
        for widget, rows in ((self.better, self.result.better), (self.worse, self.result.worse)):
            for ka, _kb, ea, eb in rows:
                widget.addItem(f"{Path(first.images[ka]).name}: {ea} -> {_errors(eb)}")
            widget.currentRowChanged.connect(lambda row, rows=rows: self.show_image(rows, row))
        lists = QtWidgets.QTabWidget()
        lists.addTab(self.better, f"Better ({len(self.result.better)})")
        lists.addTab(self.worse, f"Worse ({len(self.result.worse)})")
        self.views = (ImageView(), ImageView())
        self.captions = (QtWidgets.QLabel(labels[0]), QtWidgets.QLabel(labels[1]))
        pictures = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(pictures)
        for k in (0, 1):
            grid.addWidget(self.captions[k], 0, k)
            grid.addWidget(self.views[k], 1, k)
        note = QtWidgets.QLabel(f"At confidence {CONF} and IoU {IOU}; {self.result.same} images have as many errors "
                                "in both (missed objects + false positives). Ground truth dashed, predictions solid.",
                                wordWrap=True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.classes)
        layout.addWidget(note)
        layout.addWidget(splitter(lists, pictures, sizes=[260, 900]), 1)
        if promote is not None:
            buttons = QtWidgets.QHBoxLayout()
            buttons.addStretch(1)
            for k in (0, 1):
                buttons.addWidget(QtWidgets.QPushButton(f"Register {labels[k]} and promote it…",
                                                        clicked=lambda _c=False, k=k: promote(k)))
            layout.addLayout(buttons)
        self.resize(1300, 800)

    def show_image(self, rows: list, row: int) -> None:
        if not 0 <= row < len(rows):
            return
        ka, kb, ea, eb = rows[row]
        for k, (evaluation, image, errors) in enumerate(((self.first, ka, ea), (self.second, kb, eb))):
            paint(self.views[k], evaluation, self.matchers[k], image, CONF)
            self.captions[k].setText(f"{self.windowTitle().split(' -> ')[k]}: {_errors(errors)}")


def _errors(n: int) -> str:
    return f"{n} error" if n == 1 else f"{n} errors"


def _delta_item(a, b) -> QtWidgets.QTableWidgetItem:
    if a is None or b is None:
        return QtWidgets.QTableWidgetItem("–")
    item = QtWidgets.QTableWidgetItem(f"{a:.3f} -> {b:.3f} ({b - a:+.3f})")
    if abs(b - a) >= 0.005:
        item.setForeground(QtGui.QColor("#27ae60" if b > a else "#c0392b"))
    item.setData(QtCore.Qt.UserRole, b - a)
    return item
