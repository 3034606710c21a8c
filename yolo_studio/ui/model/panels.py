"""Side panels of the Model Designer: block palette, properties, YAML text and problems."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.model.yaml_text import flow, safe_load
from yolo_studio.ui.layout import severity_icon
from yolo_studio.ui.model.canvas import BLOCK_MIME


class PalettePanel(QtWidgets.QWidget):
    """Searchable blocks by category; drag one onto the canvas, or double-click to insert it."""

    insert_requested = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QtWidgets.QLineEdit(placeholderText="Search blocks…", clearButtonEnabled=True)
        self.tree = _BlockTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)

    def set_catalog(self, catalog) -> None:
        self.tree.clear()
        for category, blocks in catalog.by_category().items():
            shown = [b for b in blocks if b.common or b.category == "custom"]
            if not shown:
                continue
            group = QtWidgets.QTreeWidgetItem(self.tree, [f"{category} ({len(shown)})"])
            group.setFlags(QtCore.Qt.ItemIsEnabled)
            for block in shown:
                item = QtWidgets.QTreeWidgetItem(group, [block.name])
                item.setData(0, QtCore.Qt.UserRole, block.name)
                item.setToolTip(0, f"{block.signature()}\n{block.doc}\nchannel rule: {block.rule}")
            group.setExpanded(category in ("conv", "block", "head", "custom"))
        self._on_search_text_changed(self.search.text())

    def _on_search_text_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            visible = 0
            for c in range(group.childCount()):
                child = group.child(c)
                hit = not needle or needle in child.text(0).lower() or needle in child.toolTip(0).lower()
                child.setHidden(not hit)
                visible += hit
            group.setHidden(visible == 0)
            if needle:
                group.setExpanded(True)

    def _on_tree_item_double_clicked(self, item, _column) -> None:
        name = item.data(0, QtCore.Qt.UserRole)
        if name:
            self.insert_requested.emit(name)


class _BlockTree(QtWidgets.QTreeWidget):
    def mimeData(self, items):
        data = QtCore.QMimeData()
        name = items[0].data(0, QtCore.Qt.UserRole) if items else None
        if name:
            data.setData(BLOCK_MIME, QtCore.QByteArray(name.encode()))
            data.setText(name)
        return data

    def mimeTypes(self):
        return [BLOCK_MIME]


class PropertiesPanel(QtWidgets.QWidget):
    """Edit the selected row: module, repeats, from, args (YAML flow), with argument names."""

    row_edited = QtCore.Signal(int, dict)  # row index, changed fields
    header_edited = QtCore.Signal(dict)  # whole new header

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
        self.title = QtWidgets.QLabel("No layer selected")
        self.title.setStyleSheet("font-weight: bold")
        self.module = QtWidgets.QComboBox(editable=True)
        self.module.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.repeats = QtWidgets.QSpinBox(minimum=1, maximum=99)
        self.from_ = QtWidgets.QLineEdit()
        self.args = QtWidgets.QLineEdit()
        self.arg_form = QtWidgets.QFormLayout()
        self.arg_fields: list = []
        self.signature = QtWidgets.QLabel(wordWrap=True)
        self.signature.setStyleSheet("color: #8a93a0")
        self.error = QtWidgets.QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #e05050")
        self.apply = QtWidgets.QPushButton("Apply")
        self.apply.setToolTip("Apply the layer's fields (Enter in any field)")
        for field in (self.from_, self.args, self.repeats.lineEdit(), self.module.lineEdit()):
            field.returnPressed.connect(self._apply_soon)
        form = QtWidgets.QFormLayout()
        form.addRow("module", self.module)
        form.addRow("repeats", self.repeats)
        form.addRow("from", self.from_)
        form.addRow("args", self.args)
        self.header = QtWidgets.QPlainTextEdit()
        self.header.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.header.setMaximumHeight(140)
        self.header_apply = QtWidgets.QPushButton("Apply header")
        self.header_apply.setToolTip("Apply the header (Ctrl+Enter in the header)")
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Return"), self.header, self._on_header_apply_clicked,
                        context=QtCore.Qt.WidgetShortcut)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        arg_box = QtWidgets.QGroupBox("arguments (as written in the YAML)")
        arg_box.setLayout(self.arg_form)
        layout.addWidget(arg_box)
        layout.addWidget(self.signature)
        layout.addWidget(self.error)
        layout.addWidget(self.apply)
        layout.addSpacing(8)
        layout.addWidget(QtWidgets.QLabel("Header (nc, scales, activation, …)"))
        layout.addWidget(self.header)
        layout.addWidget(self.header_apply)
        layout.addStretch(1)
        self.apply.clicked.connect(self._on_apply_clicked)
        self.header_apply.clicked.connect(self._on_header_apply_clicked)
        self._catalog = None
        self.show_row(None, None)

    def set_catalog(self, catalog) -> None:
        self._catalog = catalog
        self.module.clear()
        self.module.addItems(sorted(catalog.blocks, key=str.lower))

    def show_header(self, header: dict) -> None:
        lines = []
        for key, value in header.items():
            if isinstance(value, dict) and value:
                lines.append(f"{key}:")
                lines += [f"  {flow(k)}: {flow(v)}" for k, v in value.items()]
            else:
                lines.append(f"{key}: {flow(value)}")
        self.header.setPlainText("\n".join(lines) + "\n")

    def show_row(self, index, row, built=None) -> None:
        """Show row ``index``; ``built`` is its layer in the last inspection, if any (the call it got)."""
        self.index = index
        enabled = row is not None
        for w in (self.module, self.repeats, self.from_, self.args, self.apply):
            w.setEnabled(enabled)
        self.error.clear()
        if not enabled:
            self.title.setText("No layer selected")
            self.signature.clear()
            for w in (self.from_, self.args):
                w.clear()
            self.module.setCurrentText("")
            self.repeats.blockSignals(True)
            self.repeats.setSpecialValueText(" ")  # shown at the minimum: empty, not the last layer's count
            self.repeats.setValue(self.repeats.minimum())
            self.repeats.blockSignals(False)
            self._show_arg_fields([], [])
            return
        self.repeats.setSpecialValueText("")
        self.title.setText(f"Layer {index}")
        self.module.setCurrentText(row.module)
        self.repeats.setValue(row.repeats)
        self.from_.setText(flow(row.from_))
        self.args.setText(flow(row.args))
        block = self._catalog.get(row.module) if self._catalog else None
        self.signature.setText(_call_text(block, built) if block else "unknown module")
        self._show_arg_fields(row.args, block.yaml_arg_names() if block else [])

    def _show_arg_fields(self, args: list, names: list) -> None:
        """One named field per YAML argument, plus the optional ones still unset (placeholder)."""
        while self.arg_form.rowCount():
            self.arg_form.removeRow(0)
        self.arg_fields = []
        for i in range(max(len(args), len(names))):
            field = QtWidgets.QLineEdit(flow(args[i]) if i < len(args) else "")
            if i >= len(args):
                field.setPlaceholderText("default")
            field.textEdited.connect(self._on_arg_field_edited)
            field.returnPressed.connect(self._apply_soon)  # Enter applies, as in any form
            self.arg_form.addRow(names[i] if i < len(names) else f"arg {i}", field)
            self.arg_fields.append(field)

    def _on_arg_field_edited(self, _text: str) -> None:
        """Named fields write the args line (trailing empty fields mean 'use the default')."""
        values = [f.text().strip() for f in self.arg_fields]
        while values and not values[-1]:
            values.pop()
        self.args.setText("[" + ", ".join(v or "null" for v in values) + "]")

    def _apply_soon(self) -> None:
        """Enter in a field: apply on the next event-loop turn. Applying redraws the argument fields, and
        deleting the field whose returnPressed is still being delivered crashes Qt."""
        QtCore.QTimer.singleShot(0, self, self._on_apply_clicked)

    def _on_apply_clicked(self) -> None:
        try:
            from_ = safe_load(self.from_.text() or "null")
            args = safe_load(self.args.text() or "[]")
        except Exception as exc:
            self.error.setText(f"Not valid YAML: {exc}")
            return
        if not isinstance(args, list):
            self.error.setText("args must be a list, e.g. [64, 3, 2]")
            return
        if not (isinstance(from_, int) or (isinstance(from_, list) and all(isinstance(x, int) for x in from_))):
            self.error.setText("from must be a layer index or a list of them, e.g. -1 or [-1, 6]")
            return
        self.error.clear()
        self.row_edited.emit(self.index, {"module": self.module.currentText().strip(),
                                          "repeats": self.repeats.value(), "from_": from_, "args": args})

    def _on_header_apply_clicked(self) -> None:
        try:
            header = safe_load(self.header.toPlainText()) or {}
        except Exception as exc:
            self.error.setText(f"Header is not valid YAML: {exc}")
            return
        if not isinstance(header, dict) or "backbone" in header or "head" in header:
            self.error.setText("The header is 'key: value' lines, without backbone or head")
            return
        self.error.clear()
        self.header_edited.emit(header)


class YamlPane(QtWidgets.QPlainTextEdit):
    """The document as it will be saved, with the selected rows highlighted; editable.

    What the user types is offered to the document (``text_edited``) once typing pauses; the tab
    applies it as one undoable edit, or calls ``show_error`` with the line that does not parse (the
    typed text stays, marked on that line, until it does).
    """

    text_edited = QtCore.Signal(str)
    EDIT_DELAY_MS = 400

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.setToolTip("The YAML as it will be saved. Edit it here: changes apply when you pause typing "
                        "(Ctrl+Z in the Model tab undoes them).")
        self._showing = False
        self.shown_text = ""  # the document's text as last shown (what typing in the pane edits)
        self._selections: list = []
        self._error: list = []
        self._timer = QtCore.QTimer(self, singleShot=True, interval=self.EDIT_DELAY_MS,
                                    timeout=lambda: self.text_edited.emit(self.toPlainText()))
        self.textChanged.connect(self._on_text_changed)

    def _on_text_changed(self) -> None:
        if not self._showing:
            self._timer.start()

    def is_pending(self) -> bool:
        """Typed text not yet offered to the document."""
        return self._timer.isActive()

    def flush(self) -> None:
        """Offer typed text now (before a quit or a save), instead of when typing pauses."""
        if self._timer.isActive():
            self._timer.stop()
            self.text_edited.emit(self.toPlainText())

    def holds_unapplied_text(self) -> bool:
        """Text the user typed that the document does not have (pending, or not parsing)."""
        return self.is_pending() or bool(self._error)

    def show_text(self, text: str, spans: dict, selected: list) -> None:
        if self.is_pending() or self._error:
            return  # the user is typing, or their text does not parse yet: it stays until it does
        self.shown_text = text  # the document the user's next typing starts from
        if self.toPlainText() != text:
            position = self.textCursor().position()
            self._showing = True
            self.setPlainText(text)
            self._showing = False
            cursor = self.textCursor()
            cursor.setPosition(min(position, len(text)))
            self.setTextCursor(cursor)
        self._error = []
        selections = []
        for i in selected:
            if i not in spans:
                continue
            start, end = spans[i]
            block = self.document().findBlockByNumber(start)
            cursor = QtGui.QTextCursor(block)
            cursor.movePosition(QtGui.QTextCursor.Down, QtGui.QTextCursor.KeepAnchor, end - start)
            cursor.movePosition(QtGui.QTextCursor.EndOfLine, QtGui.QTextCursor.KeepAnchor)
            sel = QtWidgets.QTextEdit.ExtraSelection()
            sel.format.setBackground(QtGui.QColor(70, 110, 160, 120))
            sel.format.setProperty(QtGui.QTextFormat.FullWidthSelection, True)
            sel.cursor = cursor
            selections.append(sel)
        self._selections = selections
        self.setExtraSelections(selections)
        if selections and not self.hasFocus():
            self.setTextCursor(QtGui.QTextCursor(selections[0].cursor.block()))
            self.centerCursor()

    def show_error(self, line: int | None, message: str) -> None:
        """Mark ``line`` (1-based) of the typed text in red, with ``message`` as its tooltip."""
        sel = QtWidgets.QTextEdit.ExtraSelection()
        sel.format.setBackground(QtGui.QColor(160, 40, 40, 140))
        sel.format.setProperty(QtGui.QTextFormat.FullWidthSelection, True)
        sel.format.setToolTip(message)
        sel.cursor = QtGui.QTextCursor(self.document().findBlockByNumber(max((line or 1) - 1, 0)))
        self._error = [sel]
        self.setExtraSelections(self._error)

    def clear_error(self) -> None:
        """The typed text parses now (or was dropped): the document shows again."""
        self._error = []
        self.setExtraSelections(self._selections)

    def error_lines(self) -> list:
        return [sel.cursor.blockNumber() + 1 for sel in self._error]


class ProblemsPanel(QtWidgets.QListWidget):
    """Validation and inspection problems; activating one selects its layer."""

    layer_activated = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)  # a long message wraps onto more lines instead of being cut off
        self.setResizeMode(QtWidgets.QListView.Adjust)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.itemActivated.connect(self._on_item)
        self.itemClicked.connect(self._on_item)

    def show_problems(self, problems: list) -> None:
        """``problems``: (severity, layer or None, text, hint)."""
        self.clear()
        if not problems:
            self.addItem(QtWidgets.QListWidgetItem(severity_icon(self, "ok"), "No problems"))
        for severity, layer, text, hint in problems:
            where = f"layer {layer}: " if layer is not None else ""
            item = QtWidgets.QListWidgetItem(severity_icon(self, severity), f"{where}{text}")
            item.setToolTip(f"{text}\n\n{hint}" if hint else text)
            item.setData(QtCore.Qt.UserRole, layer)
            self.addItem(item)

    def _on_item(self, item) -> None:
        layer = item.data(QtCore.Qt.UserRole)
        if layer is not None:
            self.layer_activated.emit(int(layer))


def _call_text(block, built) -> str:
    """The block's signature and how the row calls it: as built when inspected, else the first guess."""
    text = block.signature()
    if built is not None and built.layout:
        return f"{text}\nbuilt as {built.layout}: {block.name}({', '.join(map(repr, built.args or []))})"
    if not block.certain:
        return f"{text}\nlayout {block.rule} first; the call is confirmed when the model is built"
    return f"{text} — rule {block.rule}"
