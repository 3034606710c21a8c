"""Benchmark: Model Designer canvas speed (targets from the Model Designer issue).

- opening Ultralytics yolo11n.yaml to a drawn, interactive canvas: under 0.5 s (torch excluded);
- opening a generated 500-row YAML: under 3 s;
- an edit to its visual update on the 500-row model: under 100 ms (inspection follows asynchronously);
  measured for an argument change and for an insert in the middle (which shifts 250 rows).

Run offscreen: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_canvas.py``.
Inspection is switched off for the timings (it runs in a worker thread in the studio).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

YOLO11 = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "cfg/models/11/yolo11.yaml"


def generated_yaml(rows: int) -> str:
    """A long but valid model: Conv/C2f chain with periodic skip Concats, then a Detect head."""
    lines = ["nc: 80", "backbone:", "  - [-1, 1, Conv, [16, 3, 1]]"]
    for i in range(1, rows - 1):
        if i % 10 == 0:
            lines.append(f"  - [[-1, {i - 5}], 1, Concat, [1]]")
        elif i % 2:
            lines.append("  - [-1, 1, Conv, [16, 3, 1]]")
        else:
            lines.append("  - [-1, 1, C2f, [16]]")
    lines += ["head:", f"  - [[{rows - 4}, {rows - 3}, {rows - 2}], 1, Detect, [nc]]"]
    return "\n".join(lines) + "\n"


def timed(fn, repeat=1):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    t0 = time.perf_counter()
    from yolo_studio.app import make_application

    app = make_application()
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.ui.model.designer import ModelDesignerTab

    tab = ModelDesignerTab()
    tab.live_inspection = False
    tab.resize(1400, 900)
    tab.show()
    app.processEvents()
    startup = time.perf_counter() - t0
    assert "torch" not in __import__("sys").modules

    def open_model(path):
        tab.open_document(ModelDocument.load(path))
        app.processEvents()

    first = timed(lambda: open_model(YOLO11))[0]
    again = timed(lambda: open_model(YOLO11), 5)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        big.write_text(generated_yaml(500))
        open_big = timed(lambda: open_model(big), 3)
        assert len(tab.canvas.nodes) == 500

        def edit():
            tab.update_row(250, args=[32, 3, 1])
            app.processEvents()

        edits = timed(edit, 5)

        def insert_and_undo():
            tab.insert_block("nn.Identity", 250)
            app.processEvents()
            tab.undo_stack.undo()
            app.processEvents()

        inserts = [t / 2 for t in timed(insert_and_undo, 5)]  # each run is two redraws
    tab.shutdown()
    print("| measurement | seconds |")
    print("|---|---|")
    print(f"| window + tab created (Qt, NodeGraphQt, catalog; no torch) | {startup:.2f} |")
    print(f"| open yolo11.yaml, first | {first:.3f} |")
    print(f"| open yolo11.yaml, median of 5 | {statistics.median(again):.3f} |")
    print(f"| open 500-row YAML, median of 3 | {statistics.median(open_big):.2f} |")
    print(f"| edit -> redrawn, 500 rows, median of 5 | {statistics.median(edits):.3f} |")
    print(f"| edit -> redrawn, 500 rows, worst of 5 | {max(edits):.3f} |")
    print(f"| insert at row 250 (or its undo) -> redrawn, 500 rows, median of 5 | {statistics.median(inserts):.3f} |")


if __name__ == "__main__":
    main()
