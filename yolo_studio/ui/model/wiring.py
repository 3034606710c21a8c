"""The Model Designer's wiring: inputs set from a canvas gesture, a wire taken off, and the canvas's
right-click menu, each an undoable edit of the document.

A wire gesture on the canvas (connect, take a wire's end off its port onto empty canvas, drop it on
another port) arrives as ``{row: sources}`` once NodeGraphQt has finished with the mouse release, and
becomes one edit: one undo step. NodeGraphQt's own context menus are replaced by ``context_menu``.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from yolo_studio.core.model import graph_model
from yolo_studio.core.model.catalog import CONCAT
from yolo_studio.core.model.document import Edit
from yolo_studio.core.model.renumber import target as target_of


class WiringMixin:
    """For ``ModelDesignerTab``: uses its ``doc``, ``catalog``, ``apply``, ``refresh`` and ``status_message``."""

    def set_inputs(self, index: int, sources: list) -> None:
        """Wire row ``index``'s inputs to ``sources`` (None: unconnected)."""
        self.rewire({index: sources})

    def rewire(self, changes: dict) -> None:
        """Wire each row's inputs to its sources, ``{row: [source row or None per port]}``, as one undoable edit
        (what one gesture on the canvas did: a wire moved from one port to another touches two rows).
        A multi-input row (Concat) loses an input whose wire was taken off; another row's input stays
        unconnected, for validation to point at."""
        refused = [i for i, sources in changes.items() if any(s is not None and s >= i for s in sources)]
        for index in refused:
            self.status_message.emit(f"Layer {index} can only read layers above it; connection refused.")
        changes = {i: sources for i, sources in changes.items() if i not in refused}
        before = self.doc.state()
        wired = []
        for index, sources in sorted(changes.items()):
            row = self.doc.rows[index]
            old = row.from_
            if isinstance(old, list) and self._multi_input(row) and None in sources and any(
                    s is not None for s in sources):  # the port goes, the others keep their spelling
                keep = [k for k, s in enumerate(sources) if s is not None]
                old = [old[k] if k < len(old) else None for k in keep]
                sources = [sources[k] for k in keep]
            new_from = graph_model.from_for_sources(index, old, sources)
            if new_from != row.from_:
                self.doc.update_row(index, from_=new_from)
                wired.append(index)
        if not wired:
            self.refresh()
            return
        what = f"layer {wired[0]}" if len(wired) == 1 else "layers " + ", ".join(map(str, wired))
        self.apply(Edit(f"Rewire {what}", before, self.doc.state()))

    def disconnect_input(self, index: int, port: int) -> None:
        """Take the wire off input ``port`` of row ``index`` (the wire's context menu)."""
        sources = self._sources(index)
        if 0 <= port < len(sources):
            sources[port] = None
            self.rewire({index: sources})

    def _sources(self, index: int) -> list:
        return [target_of(index, r) for r in self.doc.rows[index].inputs()]

    def _multi_input(self, row) -> bool:
        block = self.catalog.get(row.module)
        return block is not None and (block.multi_input or block.rule == CONCAT)

    def _on_canvas_context_requested(self, kind: str, what, global_pos) -> None:
        menu = self.context_menu(kind, what)
        menu.exec(global_pos)
        menu.deleteLater()

    def context_menu(self, kind: str, what) -> QtWidgets.QMenu:
        """The canvas's right-click menu: each action an edit of the document (or a view change)."""
        menu = QtWidgets.QMenu(self.canvas.widget)
        if kind == "edge":
            source, target, port = what
            menu.addAction(f"Disconnect layer {source} → layer {target}", lambda: self.disconnect_input(target, port))
            menu.addAction(f"Select layer {source}", lambda: self.select_rows([source]))
            menu.addAction(f"Select layer {target}", lambda: self.select_rows([target]))
        elif kind == "node":
            if what not in self.selected:
                self.select_rows([what])
            rows = list(self.selected)
            label = f"layer {what}" if rows == [what] else f"{len(rows)} layers"
            menu.addAction(f"Delete {label}", lambda: self.delete_rows(rows))
            up = menu.addAction("Move up", lambda: self.move_row(what, what - 1))
            up.setEnabled(what > 0 and len(rows) == 1)
            down = menu.addAction("Move down", lambda: self.move_row(what, what + 1))
            down.setEnabled(what < len(self.doc.rows) - 1 and len(rows) == 1)
            menu.addAction("Start the head here", lambda: self.set_head_start(what)).setEnabled(what > 0)
        else:
            undo = menu.addAction(f"Undo {self.undo_stack.undoText()}".strip(), self.undo_stack.undo)
            undo.setEnabled(self.undo_stack.canUndo())
            redo = menu.addAction(f"Redo {self.undo_stack.redoText()}".strip(), self.undo_stack.redo)
            redo.setEnabled(self.undo_stack.canRedo())
            menu.addSeparator()
            menu.addAction("Frame all", self.canvas.frame_all)
        return menu

