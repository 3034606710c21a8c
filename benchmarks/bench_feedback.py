"""Benchmark: how fast the Model Designer shows shapes, from the user's gesture to the repaint.

- open -> first shapes: the window has been up for 2 s (the user picking a file in Open), then a
  model is opened; timed until its inspected shapes are drawn. The torch and Ultralytics imports
  happen in this window unless the studio warmed them up after its first paint.
- edit -> shapes: an argument edit on the open model (yolo11n with the demo's custom blocks),
  timed until the new shapes are drawn; the median of 15 edits.

"before" is the studio as it was (250 ms debounce, no warm-up); "after" is the studio as it is.
Each configuration runs in fresh processes, alternating, so both see the same machine.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_feedback.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3

CHILD = r"""
import json, shutil, sys, tempfile, time
from pathlib import Path
mode, root = sys.argv[1], Path(sys.argv[2])
from yolo_studio.app import make_application
app = make_application()
from PySide6 import QtWidgets
from yolo_studio.core.projects import create_project
from yolo_studio.core.trust import TrustStore
from yolo_studio.ui.main_window import MainWindow
project = create_project(Path(tempfile.mkdtemp()) / "p")
for block in (root / "resources" / "modules").glob("*.py"):
    shutil.copy(block, project.modules_dir / block.name)
TrustStore().remember(project.root, True)
model = project.models_dir / "m.yaml"
shutil.copy(root / "resources" / "models" / "yolo11n-se.yaml", model)
window = MainWindow(project_dir=project.root)
tab = window.model_tab
if mode == "before":
    window._warmed = True                 # no warm-up after the first paint
    tab._inspect_timer.setInterval(250)   # the old debounce
window.resize(1400, 900)
window.show()

def wait(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.002)

def until_inspected():
    seen = []
    tab.inspected.connect(lambda: seen.append(time.perf_counter()))
    while not seen:
        app.processEvents()
        time.sleep(0.001)
    window.repaint()                       # the shapes on screen
    tab.inspected.disconnect()
    return time.perf_counter()

wait(2.0)                                  # the user picks the file
t = time.perf_counter()
window.open_path(model)
opened = until_inspected() - t
assert tab.report is not None, tab.build_error
edits = []
for k in range(15):
    wait(0.3)
    t = time.perf_counter()
    tab.update_row(0, args=[16 + 4 * k, 3, 2])  # a new value each time: nothing can be reused
    edits.append(until_inspected() - t)
print(json.dumps({"open": opened, "edits": edits}))
tab.undo_stack.setClean()
window.close()
"""


def run(mode: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(ROOT)], capture_output=True, text=True, env=env,
                         timeout=600)
    line = next((line for line in out.stdout.splitlines() if line.startswith("{")), None)
    if line is None:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(line)


def main() -> None:
    results = {"before": [], "after": []}
    for _ in range(ROUNDS):
        for mode in ("before", "after"):
            results[mode].append(run(mode))
    print("| measure | before: median (runs) | after: median (runs) | after / before |")
    print("|---|---|---|---|")
    for name, pick in (("open -> first shapes", lambda r: [r["open"]]), ("edit -> shapes", lambda r: r["edits"])):
        before = [v for r in results["before"] for v in pick(r)]
        after = [v for r in results["after"] for v in pick(r)]
        b, a = statistics.median(before), statistics.median(after)
        print(f"| {name} | {b:.3f} s ({len(before)}) | {a:.3f} s ({len(after)}) | {a / b:.2f} |")


if __name__ == "__main__":
    main()
