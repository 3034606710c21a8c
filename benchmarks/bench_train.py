"""Benchmark: training overhead of a studio run, and UI responsiveness while a run is live.

Run: ``.venv/bin/python benchmarks/bench_train.py`` (or ``make bench``). Prints Markdown for
docs/PERFORMANCE.md. On the demo dataset (256 train / 64 val images, generated), CPU, imgsz 128:

1. Overhead (target <= 1.03x): wall time of the same training as (a) a plain Python script
   ``YOLO(m).train(...)``, (b) ``yolo-studio train`` (headless), (c) the studio's child process
   (runner with events.jsonl, what the Train tab starts). Each is a fresh process, timed from
   start to exit; runs alternate, ROUNDS times, and the medians are compared.
2. Responsiveness (target p99 < 50 ms): the Train tab follows a run with live plots while a 5 ms
   QTimer probe records how late each tick fires on the UI thread.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
ARGS = {"epochs": 3, "imgsz": 128, "batch": 16, "device": "cpu", "workers": 0, "plots": False}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PLAIN = """
import os, sys
os.environ.update(YOLO_OFFLINE="1", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR=sys.argv[3])
from ultralytics import YOLO
from ultralytics.utils import SETTINGS
SETTINGS.update({{"sync": False}})
YOLO(sys.argv[1]).train(data=sys.argv[2], project=sys.argv[4], name="plain", exist_ok=True, **{args!r})
"""


def timed(cmd: list, env: dict | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def overhead(work: Path, data: Path) -> dict:
    import yolo_studio  # noqa: F401  (offline environment, YOLO_CONFIG_DIR)
    from yolo_studio.training.run_folder import prepare_run

    config_dir = os.environ["YOLO_CONFIG_DIR"]
    script = work / "plain_train.py"
    script.write_text(PLAIN.format(args=ARGS))
    times = {"plain": [], "headless": [], "child": []}
    for n in range(ROUNDS):
        times["plain"].append(timed([sys.executable, str(script), str(MODEL), str(data), config_dir,
                                     str(work / "plain")]))
        times["headless"].append(timed([sys.executable, "-m", "yolo_studio", "train", "--model", str(MODEL),
                                        "--data", str(data), "--project", str(work / "headless"),
                                        "--name", f"h{n}", *(f"{k}={v}" for k, v in ARGS.items())]))
        run = prepare_run(MODEL, data, work / "child" / "runs", f"c{n}", ARGS)
        times["child"].append(timed([sys.executable, "-m", "yolo_studio.training.runner", str(run.path)]))
    return {k: statistics.median(v) for k, v in times.items()} | {"all": times}


def responsiveness(work: Path, data: Path) -> dict:
    os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    from yolo_studio.app import make_application

    app = make_application()
    from PySide6 import QtCore

    from yolo_studio.ui.train.designer import TrainDesignerTab

    tab = TrainDesignerTab(work / "ui")
    tab.resize(1400, 860)
    tab.show()
    tab.model_path.setText(str(MODEL))
    tab.data_path.setText(str(data))
    tab.form.set_overrides(dict(ARGS))
    late, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        late.append(max(0.0, now - last[0] - 0.005) * 1000)
        last[0] = now

    probe = QtCore.QTimer(interval=5, timerType=QtCore.Qt.PreciseTimer, timeout=tick)
    ended = []
    tab.run_ended.connect(ended.append)
    tab.start()
    while not tab.running():
        app.processEvents()
        time.sleep(0.005)
    last[0] = time.perf_counter()
    probe.start()
    while not ended:
        app.processEvents(QtCore.QEventLoop.AllEvents, 50)
    probe.stop()
    tab.shutdown()
    late.sort()
    return {"ticks": len(late), "p50": late[len(late) // 2], "p99": late[int(len(late) * 0.99)], "max": late[-1],
            "status": ended[0], "events": len(tab.monitor.events)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        from yolo_studio.core.data.demo_dataset import generate

        data = generate(work / "shapes")
        o = overhead(work, data)
        r = responsiveness(work, data)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; demo dataset, CPU, {ARGS['epochs']} epochs at imgsz {ARGS['imgsz']}, "
          f"batch {ARGS['batch']}, median of {ROUNDS} rounds\n")
    print("| run | wall time | vs plain |\n|---|---|---|")
    for key, label in (("plain", "plain `YOLO(m).train()` script"), ("headless", "`yolo-studio train` (headless)"),
                       ("child", "studio child process (Train tab)")):
        print(f"| {label} | {o[key]:.1f} s | {o[key] / o['plain']:.3f}x |")
    print(f"\nUI thread during a live run ({r['events']} events, {r['ticks']} probe ticks of 5 ms): lateness p50 "
          f"{r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms (run {r['status']})")
    print(f"\nAll rounds: {o['all']}")


if __name__ == "__main__":
    main()
