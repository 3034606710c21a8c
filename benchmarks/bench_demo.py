"""Benchmark: the demo project's "CPU quick" preset, from an empty folder to a trained model.

Run: ``.venv/bin/python benchmarks/bench_demo.py`` (or ``make bench``). Prints Markdown for
docs/PERFORMANCE.md: the time to generate the demo project, then the training's wall time and the
first epoch (and its elapsed time since the process started) where mAP50 passes 0.5 (issue 6 target:
above 0.5 within about two minutes on a 2-core CPU).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.training.demo_project import DATA, MODEL, PRESET, create_demo
    from yolo_studio.training.events import epoch_history, read_events

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        project = create_demo(Path(tmp) / "demo")
        generate_s = time.perf_counter() - started
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "yolo_studio", "train", "--project", str(project.root),
                               "--model", str(project.resolve(MODEL)), "--data", str(project.resolve(DATA)),
                               "--preset", PRESET, "--name", "bench"], capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
        events = read_events(project.runs_dir / "bench" / "events.jsonl")
        start_time = next(e["time"] for e in events if e["type"] == "run_start")
        history = epoch_history(events)
        first = next((e for e in history if (e["metrics"].get("metrics/mAP50(B)") or 0) > 0.5), None)
        last = history[-1]["metrics"]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(f"- demo project generated in {generate_s:.1f} s (256 + 64 images, 128 px)")
    print(f"- `yolo-studio train --preset '{PRESET}'`: {len(history)} epochs in {wall:.0f} s wall time "
          f"(process start to exit); final mAP50 {last['metrics/mAP50(B)']:.3f}, "
          f"mAP50-95 {last['metrics/mAP50-95(B)']:.3f}")
    if first:
        print(f"- mAP50 first above 0.5 at epoch {first['epoch']} ({first['metrics']['metrics/mAP50(B)']:.3f}), "
              f"{first['time'] - start_time:.0f} s after the training process started")
    else:
        print("- mAP50 never passed 0.5")


if __name__ == "__main__":
    main()
