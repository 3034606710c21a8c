"""The Model Designer's live inspection: after each edit the model is measured on a worker thread;
its shapes, then its GFLOPs, come back and update the nodes, the problems and the status line."""

from __future__ import annotations

INSPECT_IMGSZ = 640


class LiveInspectionMixin:
    """Part of ``ModelDesignerTab`` (which owns ``inspector``, ``report``, ``problems`` and the redraws)."""

    def _schedule_inspection(self) -> None:
        if self.live_inspection:
            self._inspect_timer.start()

    def start_inspection(self) -> None:
        if any(p.severity == "error" for p in self.problems) or not self.doc.rows:
            self.totals_changed.emit(f"{len(self.doc.rows)} layers · fix the problems to see shapes and params")
            self._redraw()  # no inspection is coming: the nodes stop saying "measuring…"
            return
        if not self.run_blocks and any(self.catalog.get(r.module).category == "custom" for r in self.doc.rows):
            self.totals_changed.emit(f"{len(self.doc.rows)} layers · not inspected: the custom blocks' folder "
                                     "is not trusted")
            self._redraw()
            return
        modules = str(self.modules_dir) if self.modules_dir else None
        generation = self.inspector.request(self.doc.to_dict(), self._scale(), INSPECT_IMGSZ, modules)
        self._requested = {generation: tuple(self.doc.rows)}  # older requests are superseded
        self._awaiting = generation
        self.totals_changed.emit(f"{len(self.doc.rows)} layers · measuring shapes…")

    def _scale(self) -> str | None:
        scale = self.scale.currentText()
        return None if scale in ("", "-") else scale

    def _on_blocks_loaded(self, errors: list) -> None:
        self.load_errors = errors
        self._show_problems()

    def _on_inspector_shapes(self, generation: int, report) -> None:
        if generation == self.inspector.generation:
            self._show_report(generation, report)

    def _on_inspector_finished(self, generation: int, report) -> None:
        if generation == self.inspector.generation:  # else a newer edit superseded this result
            self._awaiting = None
            self._show_report(generation, report)
            self.inspected.emit()

    def _show_report(self, generation: int, report) -> None:
        self.report, self.report_rows, self.build_error = report, self._requested.get(generation, ()), None
        if report.error is not None:
            self.build_error = (report.error.message, report.error.layer)
        self._update_transfer()
        self._redraw()
        self._show_problems()
        self._show_selection()  # the properties show how the selected row was called
        flops = f"{report.gflops:.1f} GFLOPs" if report.flops_counted else "counting GFLOPs"
        self.totals_changed.emit(f"{len(report.layers)} layers · {report.params:,} params · "
                                 f"{flops} at {report.imgsz} · {report.task}")
        self.shapes_shown.emit()

    def _on_inspector_failed(self, generation: int, message: str, layer) -> None:
        if generation != self.inspector.generation:
            return
        self._awaiting = None
        self.report, self.build_error = None, (message, layer)
        self._redraw()
        self._show_problems()
        self.totals_changed.emit(f"{len(self.doc.rows)} layers · build failed")
        self.shapes_shown.emit()
        self.inspected.emit()
