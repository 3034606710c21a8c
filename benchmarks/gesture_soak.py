"""Random-gesture soak of the Model Designer: N seeded real gestures (drops from the palette and onto
edges, connects, disconnects, mouse drags, Delete, undo, redo, scale changes, templates, tab switches,
argument edits), checking after each that the canvas shows the document exactly.

Each chunk of gestures runs in its own studio process, so a crash is counted (and its seed and last
gestures kept) instead of ending the run. Prints a table for docs/RELIABILITY.md.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gesture_soak.py --gestures 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHUNK = r"""
import json, sys, tempfile, time
sys.path.insert(0, sys.argv[4])
from yolo_studio.app import make_application
app = make_application()
from yolo_studio.ui.main_window import MainWindow
from gestures import GestureDriver, scene_mismatches
from helpers import shipped_model_yamls
seed, count, live = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "live"
window = MainWindow(project_dir=tempfile.mkdtemp(prefix="soak-"))
window.resize(1400, 900)
window.show()
window.model_tab.live_inspection = live
window.open_path(sys.argv[5])
driver = GestureDriver(window, seed, shipped_model_yamls(), save_dir=tempfile.mkdtemp(prefix="soak-saved-"))
mismatches, started = [], time.perf_counter()
for n in range(count):
    gesture = driver.step()
    found = scene_mismatches(window.model_tab)
    if found:
        mismatches.append({"gesture": n, "what": gesture, "problems": found, "before": driver.log[-6:]})
        window.open_path(sys.argv[5]) if not window.model_tab.is_modified() else None
        driver.log.append("(mismatch)")
    print(json.dumps({"progress": n, "last": gesture}), flush=True)
print(json.dumps({"done": count, "mismatches": mismatches, "seconds": time.perf_counter() - started}), flush=True)
window.model_tab.undo_stack.setClean()
window.modules_tab.editor.setSavePoint()
window.close()
"""


def run_chunk(seed: int, count: int, live: bool) -> dict:
    child = subprocess.run([sys.executable, "-c", CHUNK, str(seed), str(count), "live" if live else "-",
                            str(ROOT / "tests"), str(ROOT / "resources" / "models" / "yolo11n-demo.yaml")],
                           capture_output=True, text=True, cwd=ROOT, timeout=3600)
    lines = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    done = next((line for line in lines if "done" in line), None)
    if done is not None and child.returncode == 0:
        return {"seed": seed, "gestures": count, "crash": None, "mismatches": done["mismatches"],
                "seconds": done["seconds"]}
    progress = [line for line in lines if "progress" in line]
    return {"seed": seed, "gestures": len(progress), "mismatches": [], "seconds": None,
            "crash": {"code": child.returncode, "after": [p["last"] for p in progress[-6:]],
                      "stderr": child.stderr[-1500:]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gestures", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--first-seed", type=int, default=100)
    args = parser.parse_args()
    results, started = [], time.perf_counter()
    chunks = max(1, args.gestures // args.chunk)
    for k in range(chunks):
        result = run_chunk(args.first_seed + k, args.chunk, live=k % 2 == 1)
        results.append(result)
        state = "CRASH" if result["crash"] else f"{len(result['mismatches'])} mismatches"
        print(f"seed {result['seed']}: {result['gestures']} gestures, {state}", flush=True)
        for m in result["mismatches"][:3]:
            print(f"   gesture {m['gesture']} {m['what']}: {m['problems'][:2]} after {m['before']}")
        if result["crash"]:
            print(f"   after {result['crash']['after']}\n{result['crash']['stderr']}")
    total = sum(r["gestures"] for r in results)
    crashes = sum(1 for r in results if r["crash"])
    mismatches = sum(len(r["mismatches"]) for r in results)
    per = [r["seconds"] / r["gestures"] * 1000 for r in results if r["seconds"]]
    per.sort()
    print("\n| gestures | processes | crashes | mismatches | median ms per gesture (with the check) | wall |")
    print("|---|---|---|---|---|---|")
    print(f"| {total:,} | {len(results)} | {crashes} | {mismatches} | {per[len(per) // 2]:.0f} | "
          f"{(time.perf_counter() - started) / 60:.1f} min |" if per else "| - |")


if __name__ == "__main__":
    main()
