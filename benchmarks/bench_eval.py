"""Benchmark: evaluations (issue 30's numbers).

- val: ``yolo-studio val`` (Ultralytics' validation, every prediction kept, the evaluation folder and the
  suspected label errors written) against plain Ultralytics ``YOLO(weights).val()`` with the same arguments, each
  a whole command timed from start to exit (imports included: as a user runs either), on IMAGES generated images (the demo's shapes, 128 px), the demo model trained by its "CPU quick"
  preset (or ``--weights``). Fresh processes, the two alternating, ROUNDS times; medians and their ratio.
  Target: at most 1.05x.
- the Evaluate page, offscreen, on a generated evaluation of 5,000 images and 50,000 kept predictions: opening
  it (read, matched, figures, table, matrix and the first image drawn), a confidence slider step to the table,
  matrix and error list repainted, and a confusion-matrix click to its first image drawn. Targets: under 1 s,
  100 ms and 200 ms.

    .venv/bin/python benchmarks/bench_eval.py [--images N] [--rounds N] [--weights best.pt]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each side is a whole command, timed by the parent from start to exit (imports included), as a user runs it.
PLAIN = r"""
import sys
from ultralytics import YOLO
YOLO(sys.argv[1]).val(data=sys.argv[2], imgsz=128, batch=32, device="cpu", workers=0, plots=False, verbose=False,
                      project=sys.argv[3], name="plain", exist_ok=True)
"""

STUDIO = r"""
import sys
from yolo_studio.cli.main import main
main(["val", "--model", sys.argv[1], "--data", sys.argv[2], "--name", "studio", "imgsz=128", "batch=32",
      "device=cpu", "workers=0", "--json"])
"""


def _weights(folder: Path) -> Path:
    """The demo model after its preset: trained here, once."""
    from yolo_studio.training.demo_project import DATA, MODEL, PRESET, create_demo

    project = create_demo(folder / "demo")
    subprocess.run([sys.executable, "-m", "yolo_studio.cli.main", "train", "--project", str(project.root), "--model",
                    str(project.resolve(MODEL)), "--data", str(project.resolve(DATA)), "--preset", PRESET, "--name",
                    "bench", "workers=0"], check=True, capture_output=True, text=True)
    return project.runs_dir / "bench" / "weights" / "best.pt"


def val_timing(images: int, rounds: int, weights: Path | None) -> dict:
    from yolo_studio.core.data.demo_dataset import generate

    folder = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    weights = weights or _weights(folder)
    data = generate(folder / "shapes", train=4, val=images, imgsz=128, seed=3)
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_VERBOSE": "false"}
    times = {"Ultralytics model.val()": [], "yolo-studio val": []}
    for r in range(rounds):
        order = [("Ultralytics model.val()", PLAIN), ("yolo-studio val", STUDIO)]
        for name, script in (order if r % 2 == 0 else order[::-1]):
            run_dir = folder / "runs" / f"{r}"
            run_dir.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", script, str(weights), str(data), str(run_dir)],
                                  capture_output=True, text=True, env=env, cwd=run_dir, timeout=3600)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            times[name].append(time.perf_counter() - started)
            print(f"round {r + 1}: {name}: {times[name][-1]:.1f} s", flush=True)
    return times


def page_timing(rounds: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PIL import Image
    from PySide6 import QtWidgets

    from yolo_studio.compat.evaluation import Kept
    from yolo_studio.core.evaluation.store import Evaluation
    from yolo_studio.core.project.projects import create_project
    from yolo_studio.ui.runs.evaluate_page import EvaluatePage

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="bench-page-"))
    Image.new("RGB", (640, 640), (30, 30, 30)).save(folder / "image.png")
    rng = np.random.default_rng(0)
    truth, predictions = [], []
    for i in range(5000):
        k = int(rng.integers(2, 6))
        for _ in range(k):
            x, y, w, h = (*rng.uniform(0, 500, 2), *rng.uniform(10, 100, 2))
            c = int(rng.integers(0, 3))
            truth.append((i, c, x, y, x + w, y + h))
            predictions.append((i, c if rng.random() < 0.8 else (c + 1) % 3, float(rng.uniform(0.3, 1)),
                                x + rng.normal(0, 5), y + rng.normal(0, 5), x + w, y + h))
        for _ in range(10 - k):
            x, y = rng.uniform(0, 600, 2)
            predictions.append((i, int(rng.integers(0, 3)), float(rng.uniform(0.001, 0.3)), x, y, x + 30, y + 30))
    project = create_project(folder / "project")
    run = project.runs_dir / "big"
    kept = Kept("detect", [str(folder / "image.png")] * 5000, [(640, 640)] * 5000, truth, predictions)
    Evaluation.from_kept(kept, {0: "a", 1: "b", 2: "c"}, {}, {}).save(run / "evaluations" / "e")
    global _BIG
    _BIG = run / "evaluations" / "e"
    out = {"open": [], "slider step": [], "matrix click": []}
    for _ in range(rounds):
        page = EvaluatePage(project)
        page.resize(1400, 800)
        page.show()
        app.processEvents()
        t = time.perf_counter()
        page.set_run(run)
        app.processEvents()
        out["open"].append(time.perf_counter() - t)
        for value in (30, 35, 40, 45, 50):
            t = time.perf_counter()
            page.conf.setValue(value)
            app.processEvents()
            out["slider step"].append(time.perf_counter() - t)
        for row, column in ((0, 3), (1, 0), (3, 2)):
            t = time.perf_counter()
            page.show_cell(row, column)
            app.processEvents()
            out["matrix click"].append(time.perf_counter() - t)
        page.close()
        page.deleteLater()
        app.processEvents()
    return out


_BIG = None  # the generated evaluation page_timing wrote (the referees are timed on it)


def referee_timing(rounds: int) -> dict:
    """faster-coco-eval and pycocotools on the same 50,000 kept predictions: seconds, and the figures they give."""
    from yolo_studio.core.evaluation.store import Evaluation
    from yolo_studio.deploy.evaluate import REFEREES, coco_referee

    evaluation = Evaluation.load(_BIG)
    out = {name: [] for name in REFEREES}
    figures = {}
    for r in range(rounds):
        for name in (REFEREES if r % 2 == 0 else REFEREES[::-1]):
            t = time.perf_counter()
            figures[name] = coco_referee(evaluation, name)["mAP50-95"]
            out[name].append(time.perf_counter() - t)
    print("referee mAP50-95: " + ", ".join(f"{k} {v:.6f}" for k, v in figures.items()))
    return out


def main() -> None:
    import torch
    import ultralytics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--page-only", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"ultralytics {ultralytics.__version__}\n")
    rows = []
    if not args.page_only:
        times = val_timing(args.images, args.rounds, args.weights)
        medians = {k: statistics.median(v) for k, v in times.items()}
        base = medians["Ultralytics model.val()"]
        rows += [(f"val, {args.images} images: {k}", len(v), medians[k], medians[k] / base) for k, v in times.items()]
    for name, values in page_timing(args.rounds).items():
        rows.append((f"Evaluate page, 5,000 images / 50,000 predictions: {name}", len(values),
                     statistics.median(values), None))
    referees = referee_timing(args.rounds)
    base = statistics.median(referees["pycocotools"])
    rows += [(f"referee on 50,000 predictions: {name}", len(v), statistics.median(v), statistics.median(v) / base)
             for name, v in referees.items()]
    print("\n| measurement | runs | median s | ratio |\n| --- | ---: | ---: | ---: |")
    for name, n, median, ratio in rows:
        print(f"| {name} | {n} | {median:.3f} | {'' if ratio is None else f'{ratio:.3f}'} |")


if __name__ == "__main__":
    main()
