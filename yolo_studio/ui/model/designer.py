"""The Model Designer tab: canvas, palette, properties, YAML and problems around one document.

Every change goes through the document's edit methods and one ``QUndoStack``; after each, the
tab validates at once (no torch), redraws, and asks the inspection worker for shapes, params
and GFLOPs, which arrive later and update the nodes and the status line (``live_inspection.py``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from yolo_studio.core.model import graph_model
from yolo_studio.core.model.catalog import CONCAT
from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks
from yolo_studio.core.model.document import Edit, ModelDocument
from yolo_studio.compat.model_dict import effective_repeats
from yolo_studio.core.model.renumber import target as target_of
from yolo_studio.core.model.validation import validate
from yolo_studio.ui.model.live_inspection import LiveInspectionMixin
from yolo_studio.ui.model.overlays import OverlaysMixin
from yolo_studio.ui.model.wiring import WiringMixin
from yolo_studio.ui.model.yaml_editing import YamlEditingMixin
from yolo_studio.ui.layout import column, splitter
from yolo_studio.ui.model.canvas import ModelCanvas
from yolo_studio.ui.model.panels import PalettePanel, ProblemsPanel, PropertiesPanel, YamlPane
from yolo_studio.workers.inspection import InspectionThread

INSPECT_DELAY_MS = 0  # the next event-loop turn: edits made together cost one build; the YAML pane waits for
# typing to pause itself, and a request made while one runs supersedes any still queued


class EditCommand(QtGui.QUndoCommand):
    """One document edit on the undo stack; redo/undo restore the snapshots the edit recorded."""

    def __init__(self, designer: "ModelDesignerTab", edit):
        super().__init__(edit.text)
        self.designer, self.edit = designer, edit

    def redo(self):
        self.designer.doc.restore(self.edit.after)
        self.designer.refresh()

    def undo(self):
        self.designer.doc.restore(self.edit.before)
        self.designer.refresh()


class ModelFileDocument:
    """The Model Designer's document as an ``OpenDocument`` of the window's register."""

    kind = "model"
    where = "the Model tab"

    def __init__(self, tab: "ModelDesignerTab"):
        self.tab = tab
        self.ask_path = lambda: None  # the window gives a Save As dialog for a model never saved

    def file(self) -> Path | None:
        return self.tab.path

    def is_modified(self) -> bool:
        self.tab.yaml_pane.flush()  # text typed in the YAML pane a moment ago is part of the document
        return self.tab.is_modified() or self.tab.yaml_pane.holds_unapplied_text()

    def text(self) -> str:
        """What would be lost: the YAML pane's text while it holds some the document lacks (typed a
        moment ago, or not parsing yet), else the document."""
        if self.tab.yaml_pane.holds_unapplied_text():
            return self.tab.yaml_pane.toPlainText()
        return self.tab.doc.to_yaml()

    def save(self) -> bool:
        path = self.tab.path or self.ask_path()
        if not path:
            return False
        self.tab.save(path)
        return True

    def set_header(self, key: str, value) -> None:
        """A fix from elsewhere (preflight's "set nc"): one undoable edit on the open document."""
        self.tab.set_header(key, value)


def _repeats(n, header: dict):
    """The repeats the scale's depth gives a row (as inspection reports them); the written ones if the
    header cannot say (it is being edited)."""
    try:
        return effective_repeats(n, header)
    except (KeyError, TypeError, ValueError, IndexError, StopIteration):
        return n


class ModelDesignerTab(LiveInspectionMixin, OverlaysMixin, YamlEditingMixin, WiringMixin, QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    totals_changed = QtCore.Signal(str)
    title_changed = QtCore.Signal()
    inspected = QtCore.Signal()  # a new inspection result (or error) is shown, GFLOPs included
    shapes_shown = QtCore.Signal()  # a new inspection's shapes are shown (its GFLOPs may follow)
    sections_folded = QtCore.Signal()  # a section of the canvas was folded or unfolded
    weights_changed = QtCore.Signal()  # a checkpoint's weights are shown on the nodes, or no longer
    comparison_changed = QtCore.Signal()  # compared with another architecture, or no longer

    def __init__(self, parent=None, modules_dir: str | Path | None = None):
        super().__init__(parent)
        self.doc = ModelDocument({"nc": 80}, [], 0)
        self.undo_stack = QtGui.QUndoStack(self)
        self.modules_dir = modules_dir
        self.catalog, self.block_errors = catalog_with_blocks(modules_dir)
        self.load_errors = []  # block files that did not pass their check (reported by the inspector)
        self.report = None
        self.report_rows: tuple = ()  # the rows the report was built from (row objects are immutable)
        self._requested: dict = {}  # inspection generation -> the rows it was asked for
        self.build_error = None
        self.problems = []
        self.selected: list = []
        self.user_offsets: dict = {}  # row index -> (dx, dy): how far the user dragged its node from the layout
        self.folded: set = set()  # sections ("backbone", "head") shown folded into one box
        self._yaml_problem = None  # (line, message) of YAML typed in the pane that does not parse
        self._awaiting = None  # the generation of the inspection on its way, if any
        self.weights = None  # CheckpointInfo whose transfer the nodes show (View > Show weights from ...)
        self.transfer = None  # TransferReport of the last inspection's model from ``weights``
        self.comparison = None  # (label, model dict) of the architecture the nodes are compared with
        self.compared_size = None  # its ModelSize, once measured (off the UI thread)
        self._sizer = None  # TaskThread measuring compared architectures, made on first use
        self._drawn: dict = {}  # row -> position, as drawn (folded, nodes slid aside)
        self._position_rows: list = []  # the rows the offsets' indices referred to
        self.live_inspection = True  # inspect in the background after every edit
        self.run_blocks = True  # False: the modules folder is not trusted, its blocks never run
        self.document = ModelFileDocument(self)
        self._build_widgets()
        self.inspector = InspectionThread(self)
        self.inspector.finished.connect(self._on_inspector_finished)
        self.inspector.shapes_known.connect(self._on_inspector_shapes)
        self.inspector.blocks_loaded.connect(self._on_blocks_loaded)
        self.inspector.failed.connect(self._on_inspector_failed)
        self._inspect_timer = QtCore.QTimer(self, singleShot=True, interval=INSPECT_DELAY_MS,
                                            timeout=self.start_inspection)
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)

    def _build_widgets(self) -> None:
        self.canvas = ModelCanvas(self)
        self.palette = PalettePanel()
        self.palette.set_catalog(self.catalog)
        self.properties = PropertiesPanel()
        self.properties.set_catalog(self.catalog)
        self.yaml_pane = YamlPane()
        self.problems_panel = ProblemsPanel()
        self.scale = QtWidgets.QComboBox()
        self.scale.setToolTip("Scale the nodes show (n, s, m, l, x)")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("scale"))
        top.addWidget(self.scale)
        top.addStretch(1)
        left = QtWidgets.QTabWidget()
        left.addTab(self.palette, "Blocks")
        self.compare_list = QtWidgets.QListWidget()
        self.compare_list.setWordWrap(True)
        self.compare_list.itemClicked.connect(
            lambda item: item.data(QtCore.Qt.UserRole) is not None and self.select_rows([item.data(QtCore.Qt.UserRole)]))
        left.addTab(self.compare_list, "Compare")
        self.left_tabs = left
        right = QtWidgets.QTabWidget()
        right.addTab(self.properties, "Properties")
        right.addTab(self.yaml_pane, "YAML")
        centre = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        centre.addWidget(self.canvas.widget)
        centre.addWidget(self.problems_panel)
        centre.setSizes([700, 120])
        column(top, splitter(left, centre, right, sizes=[210, 820, 330]), on=self, margin=2)
        self.right_tabs = right
        right.currentChanged.connect(lambda _i: self.yaml_pane.isVisible() and self._show_yaml())
        self.canvas.rows_selected.connect(self._on_canvas_rows_selected)
        self.canvas.inputs_changed.connect(self._on_canvas_inputs_changed)
        self.canvas.context_requested.connect(self._on_canvas_context_requested)
        self.canvas.block_dropped.connect(self._on_canvas_block_dropped)
        self.canvas.positions_changed.connect(self._on_canvas_positions_changed)
        self.canvas.section_toggled.connect(self.toggle_section)
        self.palette.insert_requested.connect(self._on_palette_insert_requested)
        self.yaml_pane.text_edited.connect(self._on_yaml_pane_text_edited)
        self.properties.row_edited.connect(self._on_properties_row_edited)
        self.properties.header_edited.connect(self._on_properties_header_edited)
        self.problems_panel.layer_activated.connect(lambda i: self.select_rows([i]))
        self.scale.currentTextChanged.connect(lambda _s: (self._schedule_inspection(), self._redraw()))

    # ------------------------------------------------------------------ documents

    @property
    def path(self) -> Path | None:
        return self.doc.path

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def open_document(self, doc: ModelDocument) -> None:
        self.doc = doc
        self.undo_stack.clear()
        self.selected = []
        self.report, self.build_error = None, None
        self._forget_overlays()  # another model: a checkpoint's stripes or a comparison were about the last one
        self.user_offsets = graph_model.load_offsets(doc.path, doc.rows, doc.head_start) if doc.path else {}
        self._position_rows = list(doc.rows)
        self.scale.blockSignals(True)
        self.scale.clear()
        self.scale.addItems(doc.scales() or ["-"])
        self.scale.blockSignals(False)
        self.refresh()
        self.canvas.frame_all()
        QtCore.QTimer.singleShot(0, self.canvas.frame_all)  # again once the view has its final size
        self.title_changed.emit()

    def save(self, path: str | Path | None = None) -> Path:
        target = self.doc.save(path)
        graph_model.save_offsets(target, self.doc.rows, self.user_offsets)
        self.undo_stack.setClean()
        self.title_changed.emit()
        return target

    # ------------------------------------------------------------------ edits (also the API tests drive)

    def apply(self, edit) -> None:
        """Record an edit the document already made, so it can be undone."""
        self.undo_stack.push(EditCommand(self, edit))
        for issue in edit.issues:
            self.status_message.emit(f"{edit.text}: {issue.describe()}")

    def insert_block(self, module: str, index: int, edge: tuple | None = None) -> None:
        """Insert a palette block as layer ``index``, wired into ``edge`` (source, target, port).

        Without an edge the block joins the chain: the row it displaces reads it through the
        ``-1`` it had, exactly as if the row had been typed into the YAML there.
        """
        block = self.catalog.get(module)
        index = max(0, min(index, len(self.doc.rows)))
        if edge is None:
            edge = self._chain_edge(index)
        source = edge[0] if edge else index - 1
        ref = -1 if source == index - 1 else source
        from_ = [ref] if block is not None and (block.multi_input or block.rule == CONCAT) else ref
        row = [from_, 1, module, graph_model.default_args(block)]
        before = self.doc.state()
        issues = list(self.doc.insert_row(index, row).issues)
        if edge is not None:  # the edge's target (now one lower) reads the new row on that port
            target = edge[1] + 1 if edge[1] >= index else edge[1]
            old = self.doc.rows[target].from_
            refs = old if isinstance(old, list) else [old]
            sources = [target_of(target, r) for r in refs]
            sources[edge[2]] = index
            self.doc.update_row(target, from_=graph_model.from_for_sources(target, old, sources))
        self.selected = [index]
        self.apply(Edit(f"Insert {module} at {index}", before, self.doc.state(), tuple(issues)))
        self.select_rows([index])

    def _chain_edge(self, index: int):
        """The '-1' link into the row now at ``index`` (so an insert there joins the chain), if any."""
        if not 0 < index < len(self.doc.rows):
            return None
        row = self.doc.rows[index]
        for port, ref in enumerate(row.inputs()):
            if ref == -1:
                return (index - 1, index, port)
        return None

    def delete_rows(self, rows: list) -> None:
        """Delete layers; a layer that read a deleted one reads what it read (the chain is kept)."""
        if rows:
            self.apply(self.doc.delete_rows(rows, bridge=True))

    def move_row(self, src: int, dst: int) -> None:
        self.apply(self.doc.move_row(src, dst))

    def update_row(self, index: int, **fields) -> None:
        self.apply(self.doc.update_row(index, **fields))

    def set_head_start(self, index: int) -> None:
        self.apply(self.doc.set_head_start(index))

    def set_header(self, key: str, value) -> None:
        before = self.doc.state()
        self.doc.set_header(key, value)
        self.apply(Edit(f"Set {key}: {value}", before, self.doc.state()))

    def reload_blocks(self) -> None:
        """Custom blocks changed on disk: new palette and catalog, re-import, re-validate, re-inspect."""
        self.catalog, self.block_errors = catalog_with_blocks(self.modules_dir)
        self.palette.set_catalog(self.catalog)
        self.properties.set_catalog(self.catalog)
        self.load_errors = []
        self.inspector.forget_blocks()
        self.refresh()

    def uses_of(self, names: list) -> list:
        """Layers of the open model that use any of the block ``names``."""
        name = self.path.name if self.path else "the open model"
        return [f"layer {i} ({row.module}) of {name}" for i, row in enumerate(self.doc.rows) if row.module in names]

    def block_problem(self) -> dict | None:
        """The layer the last inspection failed at, for the Module Designer: ``{"layer", "module", "message",
        "model"}``, or None when the model builds (or the failure names no layer)."""
        if self.build_error is None or self.build_error[1] is None or self.build_error[1] >= len(self.doc.rows):
            return None
        layer = self.build_error[1]
        return {"layer": layer, "module": self.doc.rows[layer].module, "message": self.build_error[0],
                "model": self.path.name if self.path else "the open model"}

    def toggle_section(self, name: str) -> None:
        """Fold a section of the canvas into one box, or unfold it (a view change: the model is untouched)."""
        self.folded ^= {name}
        self._redraw()
        self.canvas.frame_all()
        self.sections_folded.emit()

    def select_rows(self, rows: list) -> None:
        self.selected = [r for r in rows if 0 <= r < len(self.doc.rows)]
        hidden = [name for name in self.folded for i in self.selected
                  if i in graph_model.section_rows(name, len(self.doc.rows), self.doc.head_start)]
        if hidden:  # a layer picked elsewhere (a problem, the YAML) is shown: unfold its section
            self.folded -= set(hidden)
            self._redraw()
            self.sections_folded.emit()
        self.canvas.select_rows(self.selected)
        self._show_selection()

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """Validate, redraw and schedule an inspection after any change."""
        self._follow_moved_rows()
        self.selected = [i for i in self.selected if i < len(self.doc.rows)]
        self.problems = validate(self.doc, self.catalog)
        self._schedule_inspection()  # first: the nodes say "measuring…" while it is on its way
        self._redraw()
        self._show_selection()
        self.properties.show_header(self.doc.header)
        self._show_problems()
        self.title_changed.emit()

    def _follow_moved_rows(self) -> None:
        """Keep the offsets the user gave nodes with their rows when rows shift: rows are immutable, so an unchanged
        row is the same object after an insert, delete or move (and after undo). A row an edit
        rewired (a drop onto its input edge, and the undo of that) is a new object: it is found as the
        nearest row with the same module, repeats and arguments."""
        if len(self._position_rows) == len(self.doc.rows) and all(
                a is b for a, b in zip(self._position_rows, self.doc.rows)):
            return
        where = {id(row): i for i, row in enumerate(self.doc.rows)}
        claimed = set(where[id(r)] for r in self._position_rows if id(r) in where)
        moved = {}
        for i, pos in self.user_offsets.items():
            if i >= len(self._position_rows):
                continue
            old = self._position_rows[i]
            if id(old) in where:
                moved[where[id(old)]] = pos
                continue
            twins = [j for j, row in enumerate(self.doc.rows) if j not in claimed and
                     (row.module, row.repeats, row.args) == (old.module, old.repeats, old.args)]
            if twins:
                j = min(twins, key=lambda j: abs(j - i))
                claimed.add(j)
                moved[j] = pos
        self.user_offsets = moved
        self._position_rows = list(self.doc.rows)

    def built_layers(self) -> dict:
        """Row index -> its layer in the last inspection, matched by row identity, not by index: after
        a delete or insert, node i must not show the shapes of the row that used to be i. A row edited
        since then has no layer until the next inspection lands."""
        if self.report is None:
            return {}
        by_row = {id(self.report_rows[layer.index]): layer for layer in self.report.layers
                  if layer.index < len(self.report_rows)}
        return {i: by_row[id(row)] for i, row in enumerate(self.doc.rows) if id(row) in by_row}

    def node_lines(self) -> list:
        """Each row's node text: its last inspection if it has one, else its YAML values (and
        "measuring…" while an inspection is on its way)."""
        layers = self.built_layers()
        pending = self.live_inspection and self.build_error is None and (
            self._inspect_timer.isActive() or self._awaiting is not None)
        depth = {**self.doc.header, "scale": self._scale()}
        return [graph_model.node_lines(i, row, layers.get(i), pending, _repeats(row.repeats, depth))
                for i, row in enumerate(self.doc.rows)]

    def _redraw(self) -> None:
        rows = self.doc.rows
        positions = graph_model.place(rows, self.doc.head_start, self.user_offsets)
        positions, hidden, boxes = graph_model.collapse(rows, self.doc.head_start, positions, self.folded,
                                                        self.user_offsets)
        if boxes:  # a folded section stacks the rows it shows: they must not cover a node put beside it
            positions = graph_model.separate(positions, pinned=set(self.user_offsets), skip=hidden)
        self._drawn = positions
        lines = self.node_lines()
        problems = {}
        for p in self.problems:
            if p.layer is not None and p.severity == "error":
                problems.setdefault(p.layer, p.message)
        if self.build_error is not None and self.build_error[1] is not None:
            problems.setdefault(self.build_error[1], self.build_error[0])
        multi, outputs = set(), set()
        for i, row in enumerate(rows):
            block = self.catalog.get(row.module)
            if block is not None and (block.multi_input or block.rule == CONCAT):
                multi.add(i)
            if block is not None and block.category == "head" and i >= self.doc.head_start:
                outputs.add(i)
        self.canvas.show_model(rows, self.doc.head_start, positions, lines, problems, multi, outputs, self.selected,
                               hidden, boxes, self.overlay_marks())
        self._show_comparison()

    def _show_selection(self) -> None:
        if self.yaml_pane.isVisible():  # a hidden pane is filled when its tab is opened
            self._show_yaml()
        index = self.selected[0] if len(self.selected) == 1 else None
        built = self.built_layers().get(index) if index is not None else None
        self.properties.show_row(index, self.doc.rows[index] if index is not None else None, built)

    def _show_yaml(self) -> None:
        spans = {}
        self.yaml_pane.show_text(self.doc.to_yaml(spans), spans, self.selected)

    def _show_problems(self) -> None:
        items = [(p.severity, p.layer, p.message, p.hint) for p in self.problems]
        items += [("error", None, f"{e}", "Fix the block file.") for e in self.block_errors + self.load_errors]
        if self.build_error is not None:
            items.append(("error", self.build_error[1], f"inspection: {self.build_error[0]}", ""))
        if self.report is not None:  # e.g. a custom block called in a way its signature does not suggest
            items += [("warning", None, note, "") for note in self.report.notes]
        if self._yaml_problem is not None and self.yaml_pane.holds_unapplied_text():
            line, message = self._yaml_problem
            items.insert(0, ("error", None, f"YAML pane, line {line}: {message} (your text is kept, not applied "
                                            "until it parses)", "Fix the line in the YAML tab."))
        self.problems_panel.show_problems(items)

    def shutdown(self) -> None:
        """Stop the worker thread; call before the tab goes away (again: nothing more happens)."""
        self._inspect_timer.stop()
        if not getattr(self, "_shut_down", False):
            self.undo_stack.cleanChanged.disconnect(self._on_undo_stack_clean_changed)
            self._shut_down = True
        self.inspector.stop()
        if self._sizer is not None:
            self._sizer.stop()

    def _on_undo_stack_clean_changed(self, _clean: bool) -> None:
        self.title_changed.emit()

    # ------------------------------------------------------------------ signal handlers

    def _on_canvas_rows_selected(self, rows: list) -> None:
        self.selected = rows
        self._show_selection()

    def _on_canvas_inputs_changed(self, changes: dict) -> None:
        self.rewire(changes)

    def _on_canvas_block_dropped(self, module: str, index: int, edge) -> None:
        self.insert_block(module, index, edge)

    def _on_canvas_positions_changed(self) -> None:
        """Nodes were dragged: each keeps the distance it was dragged, added to its offset from the layout
        (folded or not), and a node dropped onto another makes it slide aside."""
        self._follow_moved_rows()
        for i, pos in self.canvas.positions().items():
            drawn = self._drawn.get(i)
            if drawn is not None and max(abs(a - b) for a, b in zip(pos, drawn)) > 0.5:
                dx, dy = self.user_offsets.get(i, (0.0, 0.0))
                self.user_offsets[i] = (dx + pos[0] - drawn[0], dy + pos[1] - drawn[1])
        self._redraw()

    def _on_palette_insert_requested(self, module: str) -> None:
        index = (self.selected[-1] + 1) if self.selected else len(self.doc.rows) - 1
        self.insert_block(module, max(index, 0))

    def _on_properties_row_edited(self, index: int, fields: dict) -> None:
        row = self.doc.rows[index]
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        if changed:
            self.update_row(index, **changed)

    def _on_properties_header_edited(self, header: dict) -> None:
        old = dict(self.doc.header)
        if header == old:
            return
        before = self.doc.state()
        for key in [k for k in old if k not in header]:
            self.doc.remove_header(key)
        for key, value in header.items():
            if old.get(key) != value or key not in old:
                self.doc.set_header(key, value)
        self.apply(Edit("Edit header", before, self.doc.state()))
