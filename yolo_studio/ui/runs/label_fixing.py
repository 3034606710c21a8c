"""Fixing a label where the Evaluate page shows it wrong: the label boxes of the picture selected, deleted (Del),
re-classed (C), dragged, Shift+drag-resized, a prediction added as a label, undone (``core.data.label_edit``
writes the file). A mixin of ``EvaluatePage``, which owns the widgets it reads (``view``, ``caption``, the edit
buttons, ``label_items``, ``shown``, ``undo_stack``)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from yolo_studio.core.evaluation import matching


class LabelFixing:
    def _update_edit_buttons(self) -> None:
        chosen = self._selected_label()
        self.delete_label.setEnabled(chosen is not None)
        self.reclass_label.setEnabled(chosen is not None)
        self.add_label.setEnabled(bool(self.shown) and self.shown[1] >= 0)
        self.undo_label.setEnabled(bool(self.undo_stack))

    def _selected_label(self):
        try:
            picked = [i for i in self.view.scene().selectedItems() if i.data(0) is not None]
        except RuntimeError:  # the scene was cleared under it
            return None
        return int(picked[0].data(0)) if picked else None

    def eventFilter(self, watched, event):
        kind = event.type()
        if kind in (QtCore.QEvent.MouseButtonPress, QtCore.QEvent.MouseMove, QtCore.QEvent.MouseButtonRelease) \
                and self._resize(kind, event):
            return True  # Shift+drag on a selected label: the resize owns the gesture
        if kind == QtCore.QEvent.MouseButtonRelease and self.label_items:
            jitter = QtWidgets.QApplication.startDragDistance() / max(self.view.transform().m11(), 1e-6)
            for t, item in self.label_items.items():
                try:
                    moved = item.pos().manhattanLength() >= jitter  # a click that shook is not a drag
                except RuntimeError:  # the scene was cleared under it
                    self._forget_drawing()
                    break
                if moved:  # dragged: its new box is written
                    rect = item.rect().translated(item.pos())
                    QtCore.QTimer.singleShot(0, lambda t=t, r=rect: self.edit_label(
                        "box", t, (r.left(), r.top(), r.right(), r.bottom())))
                    break
        return super().eventFilter(watched, event)

    def _resize(self, kind, event) -> bool:
        """Shift+drag on the selected label: the corner nearest the cursor follows it; written on release."""
        t = self._selected_label()
        resizing = getattr(self, "_resizing", None)
        if kind == QtCore.QEvent.MouseButtonPress:
            if t is None or not event.modifiers() & QtCore.Qt.ShiftModifier or self.evaluation.box_width != 4:
                return False
            item = self.label_items[t]
            rect = item.rect().translated(item.pos())
            at = self.view.mapToScene(event.position().toPoint())
            corners = [rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()]
            nearest = min(range(4), key=lambda k: (corners[k] - at).manhattanLength())
            self._resizing = (t, rect, corners[3 - nearest])  # the opposite corner stays
            return True
        if resizing is None:
            return False
        t, _rect, fixed = resizing
        at = self.view.mapToScene(event.position().toPoint())
        rect = QtCore.QRectF(fixed, at).normalized()
        self.label_items[t].setPos(0, 0)
        self.label_items[t].setRect(rect)
        if kind == QtCore.QEvent.MouseButtonRelease:
            self._resizing = None
            QtCore.QTimer.singleShot(0, lambda: self.edit_label("box", t, (rect.left(), rect.top(), rect.right(),
                                                                            rect.bottom())))
        return True

    def delete_selected_label(self) -> None:
        t = self._selected_label()
        if t is not None:
            self.edit_label("delete", t)

    def reclass_selected_label(self, cls: int | None = None) -> None:
        t = self._selected_label()
        if t is None:
            return
        if cls is None:
            names = [self.evaluation.names[c] for c in sorted(self.evaluation.names)]
            current = names.index(self.evaluation.names.get(int(self.matcher.truth_cls[t]), names[0]))
            name, ok = QtWidgets.QInputDialog.getItem(self, "Change class", "Class of this label:", names, current,
                                                      False)
            if not ok:
                return
            cls = sorted(self.evaluation.names)[names.index(name)]
        self.edit_label("class", t, cls)

    def add_focused_prediction(self) -> None:
        """The prediction in focus becomes a label (a missing label the model found)."""
        if self.shown and self.shown[1] >= 0:
            p = self.shown[1]
            self.edit_label("add", -1, (int(self.matcher.pred_cls[p]), tuple(self.matcher.pred_box[p])))

    def edit_label(self, what: str, t: int, value=None) -> bool:
        """Write one label edit to the image's YOLO label file (atomically, the original backed up), update the
        evaluation (the image marked changed) and the figures; undo restores both."""
        import numpy as np

        from yolo_studio.core.data import label_edit

        ev = self.evaluation
        image = self.shown[0]
        t0, t1 = self.matcher.truth_ranges[image]
        size = tuple(int(v) for v in ev.sizes[image])
        truth = ev.truth.copy()
        try:
            label = label_edit.label_path(ev.images[image])
            if what in ("box", "add") and ev.task != "detect":
                raise ValueError(f"a {ev.task} label is deleted or re-classed here, drawn in an annotation tool")
            if what != "add":  # the file's own line of this label (the kept order is not always the file's)
                line = label_edit.find_line(label, int(self.matcher.truth_cls[t]), tuple(self.matcher.truth_box[t]),
                                            size, outline=ev.task in ("segment", "obb"))
            if what == "delete":
                before = label_edit.delete(label, line)
                ev.truth = np.delete(ev.truth, t, 0)
            elif what == "class":
                before = label_edit.set_class(label, line, value)
                ev.truth[t, 1] = value
            elif what == "box":
                before = label_edit.set_box(label, line, value, size)
                ev.truth[t, 2:6] = value
            else:  # add: (class, box)
                cls, box = value
                before = label_edit.add_box(label, cls, box, size)
                ev.truth = np.insert(ev.truth, t1, [image, cls, *box], 0)
        except (OSError, ValueError, IndexError) as exc:
            self.caption.setText(f"Not changed: {exc}")
            self.draw(*self.shown)
            return False
        self.undo_stack.append((label, before, truth, image))
        self._after_label_edit(image, f"{label.name}: label {what} written (the original is in labels-backup)")
        return True

    def undo_label_edit(self) -> None:
        from yolo_studio.core.data import label_edit

        if not self.undo_stack:
            return
        label, before, truth, image = self.undo_stack.pop()
        label_edit.restore(label, before)
        self.evaluation.truth = truth
        self._after_label_edit(image, f"{label.name}: the label edit undone")

    def _after_label_edit(self, image: int, message: str) -> None:
        ev = self.evaluation
        ev.changed.add(image)
        ev.save(ev.folder)
        self.matcher = matching.Matcher(ev)
        self._suspects = None
        if self.lists.currentIndex() == 1:
            self._show_suspects()
        self.refresh_figures()
        row = next((k for k, entry in enumerate(getattr(self, "_entries", [])) if entry[0] == image), -1)
        self.errors.blockSignals(True)  # the list stays on the image being fixed, when it still lists it
        self.errors.setCurrentRow(row)
        self.errors.blockSignals(False)
        self.draw(image)
        self.caption.setText(f"{self.caption.text()} · {message} · labels of this image changed since the evaluation")
        self.status_message.emit(message)
