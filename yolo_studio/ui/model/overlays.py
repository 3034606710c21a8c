"""What the Model Designer's nodes are marked with besides the model itself: which layers keep a
checkpoint's weights (``show_weights``), or how the model differs from another architecture
(``compare_with``). Both are views: the document is never changed by them."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from yolo_studio.core.model.arch_diff import source_label


class OverlaysMixin:
    """Part of ``ModelDesignerTab`` (which owns ``weights``, ``transfer``, ``comparison``, the canvas and the
    Compare list); the marks go to the canvas with every redraw."""

    def overlay_marks(self) -> dict:
        """Row index -> (kind, text): the compared architecture's differences, else the weights' transfer."""
        return self.diff_marks() if self.comparison else self.transfer_marks()

    def overlay_caption(self) -> str:
        """What the nodes are marked with, for the status bar: 'weights: cbam/best.pt', 'compared with …'."""
        if self.comparison is not None:
            return f"compared with {self.comparison[0]}"
        return f"weights: {source_label(self.weights.path)}" if self.weights is not None else ""

    def overlay_legend(self) -> str:
        if self.comparison is not None:
            return "Marked: added, changed, moved or rewired layers; the Compare list says how"
        if self.weights is not None:
            return ("Each node's left stripe: green, all of its tensors come from the checkpoint; amber, some; "
                    "red, none (it starts from scratch); grey, a layer without weights. Hover a node for details.")
        return ""

    def _forget_overlays(self) -> None:
        had = (self.weights is not None, self.comparison is not None)
        self.weights = self.transfer = self.comparison = self.compared_size = None
        if had[0]:
            self.weights_changed.emit()
        if had[1]:
            self.comparison_changed.emit()

    def show_weights(self, path) -> None:
        """Colour each node by what it would start from in checkpoint ``path`` (None: stop). The file is
        read without running code from it; raises ``CheckpointError`` for one that cannot be read."""
        from yolo_studio.core.model.checkpoints import read_checkpoint

        self.weights = read_checkpoint(path) if path is not None else None
        self._update_transfer()
        self._redraw()
        self.weights_changed.emit()
        if self.weights is not None:
            self.status_message.emit("Stripes: green all weights kept, amber some, red none; hover a node")

    def _update_transfer(self) -> None:
        if self.weights is None or self.report is None or not self.report.tensor_shapes:
            self.transfer = None
            return
        from yolo_studio.core.model.transfer import plan_transfer

        inspected = {"backbone": [row.as_list() for row in self.report_rows], "head": []}
        self.transfer, _ = plan_transfer(self.weights.state, self.weights.model_yaml, inspected,
                                         self.report.tensor_shapes)

    def compare_with(self, source) -> None:
        """Compare the model with another architecture (a YAML, a checkpoint or a run folder; None: stop),
        matched by structure: the nodes are marked, the Compare list says what differs. Raises
        ``StudioError`` for a source that cannot be read."""
        from yolo_studio.core.model.arch_diff import load_architecture

        self.comparison = load_architecture(source)[::-1] if source is not None else None
        self.compared_size = None
        if self.comparison is not None:
            self._measure_compared(source)
        self._redraw()
        if self.comparison is not None:
            self.left_tabs.setCurrentWidget(self.compare_list)
        self.comparison_changed.emit()

    def _measure_compared(self, source) -> None:
        """Count the compared model's params and GFLOPs on a worker thread (a large model takes seconds)."""
        from pathlib import Path

        from yolo_studio.core.blocks.block_check import measure_with_blocks
        from yolo_studio.workers.task import TaskThread

        if self._sizer is None:
            self._sizer = TaskThread("compare-sizes", self)
            self._sizer.done.connect(self._on_compared_measured)
        run_blocks = Path(source) / "artifacts" / "modules"
        modules = run_blocks if run_blocks.is_dir() else (self.modules_dir if self.run_blocks else None)
        self._sizer_job = self._sizer.submit(measure_with_blocks, self.comparison[1], self.comparison[0], modules)

    def _on_compared_measured(self, job: int, size) -> None:
        if self.comparison is not None and job == self._sizer_job:  # else another comparison replaced it
            self.compared_size = size
            self._show_comparison()

    def _own_size(self):
        from yolo_studio.core.model.arch_diff import ModelSize

        report = self.report
        if report is None:
            return ModelSize(reason=self.build_error[0] if self.build_error else "measuring…")
        counted = report.flops_counted and report.error is None
        return ModelSize(report.params, report.gflops if counted else None, "" if counted else "counting GFLOPs…")

    def _diff(self):
        from yolo_studio.core.model.arch_diff import diff_rows, rows_of

        return diff_rows(rows_of(self.comparison[1]), [row.as_list() for row in self.doc.rows])

    def diff_marks(self) -> dict:
        """Row index -> (kind, text) for the rows that differ from the compared architecture."""
        from yolo_studio.core.model.arch_diff import describe_match, rows_of

        if self.comparison is None:
            return {}
        theirs, ours = rows_of(self.comparison[1]), [row.as_list() for row in self.doc.rows]
        return {m.b: ("rewired" if m.kind == "same" else m.kind, describe_match(m, theirs, ours))
                for m in self._diff().matches if m.b is not None and (m.kind != "same" or m.fields)}

    def _show_comparison(self) -> None:
        from yolo_studio.core.model.arch_diff import describe_match, rows_of

        self.compare_list.clear()
        if self.comparison is None:
            self.compare_list.addItem("View > Compare with… lists here what differs from another model "
                                      "(a YAML, a checkpoint or a run), matched by structure.")
            return
        label, other = self.comparison
        diff = self._diff()
        counts = ", ".join(f"{n} {kind}" for kind, n in diff.counts().items() if n)
        self.compare_list.addItem(f"against {label}: {counts}" + (" (the same)" if diff.unchanged() else ""))
        from yolo_studio.core.model.arch_diff import ModelSize, size_line

        self.compare_list.addItem("  " + size_line(self.compared_size or ModelSize(reason="measuring…"),
                                                   self._own_size(), (label, "this model")))
        theirs, ours = rows_of(other), [row.as_list() for row in self.doc.rows]
        for m in diff.matches:
            if m.kind != "same" or m.fields:
                item = QtWidgets.QListWidgetItem(describe_match(m, theirs, ours))
                item.setData(QtCore.Qt.UserRole, m.b)
                self.compare_list.addItem(item)

    def transfer_marks(self) -> dict:
        """Row index -> (state, text) of its weights, matched to the inspected rows by identity."""
        if self.transfer is None:
            return {}
        by_row = {id(self.report_rows[t.layer]): t for t in self.transfer.layers if t.layer < len(self.report_rows)}
        return {i: (by_row[id(row)].state, by_row[id(row)].describe())
                for i, row in enumerate(self.doc.rows) if id(row) in by_row}

