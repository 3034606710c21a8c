"""Benchmark: how fast the Model Designer shows shapes, from the user's gesture to the repaint.

- open -> first shapes: the window has been up for 2 s (the user picking a file in Open), then a
  model is opened; timed until its inspected shapes are drawn. The torch and Ultralytics imports
  happen in this window unless the studio warmed them up after its first paint.
- edit -> shapes: an argument edit on the open model (yolo11n with the demo's custom blocks),
  timed until the new shapes are drawn; the median of 15 edits.

"before" is the studio as the issue measured it (250 ms debounce, no warm-up, shapes shown with the
GFLOPs); "after" is the studio as it is (shapes shown as soon as they are known; the GFLOPs follow);
"training" is "after" while a training of the demo model runs in the studio's child process (at the
niceness the Train tab gives it), so both cores are busy. Each configuration runs in fresh
processes, alternating, so all see the same machine.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_feedback.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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
from yolo_studio.core.project.projects import create_project
from yolo_studio.core.project.trust import TrustStore
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
shown = tab.inspected if mode == "before" else tab.shapes_shown  # before: shapes came with the GFLOPs
window.resize(1400, 900)
window.show()

def wait(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.002)

def until_inspected():
    seen = []
    shown.connect(lambda: seen.append(time.perf_counter()))
    while not seen:
        app.processEvents()
        time.sleep(0.001)
    window.repaint()                       # the shapes on screen
    shown.disconnect()
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


def run(mode: str, data: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    training = None
    if mode == "training":
        training = start_training(data)
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(ROOT)], capture_output=True, text=True,
                             env=env, timeout=600)
    finally:
        if training is not None:
            training.kill()
            training.wait()
    line = next((line for line in out.stdout.splitlines() if line.startswith("{")), None)
    if line is None:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(line)


def start_training(data: Path) -> subprocess.Popen:
    """The demo model training in the studio's child process (as the Train tab starts it), for long
    enough to outlast the measurement; returns once it is in its first epoch."""
    from yolo_studio.training.run_folder import prepare_run

    run_dir = prepare_run(ROOT / "resources" / "models" / "yolo11n-demo.yaml", data, data.parent / "runs",
                          f"bench{time.monotonic_ns()}", {"epochs": 200, "imgsz": 320, "batch": 8, "device": "cpu",
                                                         "workers": 0, "plots": False})
    child = subprocess.Popen([sys.executable, "-m", "yolo_studio.training.runner", str(run_dir.path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events = Path(run_dir.path) / "events.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and '"type": "batch"' not in (events.read_text() if events.exists() else ""):
        time.sleep(0.5)
    return child


def main() -> None:
    from yolo_studio.core.data.demo_dataset import generate

    modes = ("before", "after", "training")
    results = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        data = generate(Path(tmp) / "shapes")
        for _ in range(ROUNDS):
            for mode in modes:
                results[mode].append(run(mode, data))
    print("| measure | before: median (runs) | after: median (runs) | after / before | after, while training |")
    print("|---|---|---|---|---|")
    for name, pick in (("open -> first shapes", lambda r: [r["open"]]), ("edit -> shapes", lambda r: r["edits"])):
        before, after, busy = ([v for r in results[m] for v in pick(r)] for m in modes)
        b, a, t = statistics.median(before), statistics.median(after), statistics.median(busy)
        print(f"| {name} | {b:.3f} s ({len(before)}) | {a:.3f} s ({len(after)}) | {a / b:.2f} | {t:.3f} s ({len(busy)}) |")


if __name__ == "__main__":
    main()
