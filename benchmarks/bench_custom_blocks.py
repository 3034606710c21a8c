"""Benchmark: what measuring custom blocks costs an inspection (the Model Designer's live feedback).

Run: ``.venv/bin/python benchmarks/bench_custom_blocks.py`` (or ``make bench``). In one process,
alternating the two models round by round so that drift on a noisy machine hits both alike:

- the demo model with custom blocks (``resources/models/yolo11n-se.yaml``: 4 custom rows, each
  built on its real inputs and measured, so Ultralytics builds the model 5 times);
- Ultralytics' own ``yolo11.yaml`` at scale n, which has no custom row (one build).

Both at 640 with per-layer GFLOPs, as the Model Designer inspects. Prints a Markdown table of
medians and their ratio for docs/PERFORMANCE.md, and one community case at every scale.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOM = ROOT / "resources" / "models" / "yolo11n-se.yaml"
MODULES = ROOT / "resources" / "modules"
PLAIN = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "cfg/models/11/yolo11.yaml"
CASE = ROOT / "tests" / "data" / "community" / "masf_yolo_dasi"  # 13 custom rows, three-input fusions
ROUNDS = 7


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    import torch
    import ultralytics

    import yolo_studio  # noqa: F401
    from yolo_studio.core.blocks.custom_blocks import load_vetted_blocks
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.inspection import inspect_dict

    custom, plain = ModelDocument.load(CUSTOM).to_dict(), ModelDocument.load(PLAIN).to_dict()
    blocks, _ = load_vetted_blocks(MODULES)
    case_blocks, _ = load_vetted_blocks(CASE)
    case = ModelDocument.load(CASE / "model.yaml")
    inspect_dict(custom, scale="n", imgsz=640, blocks=blocks)  # warm-up: lazy imports, caches
    inspect_dict(plain, scale="n", imgsz=640)
    times = {"custom": [], "plain": []}
    for _ in range(ROUNDS):
        times["custom"].append(_timed(lambda: inspect_dict(custom, scale="n", imgsz=640, blocks=blocks)))
        times["plain"].append(_timed(lambda: inspect_dict(plain, scale="n", imgsz=640)))
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"Python {platform.python_version()}, torch {torch.__version__}, ultralytics {ultralytics.__version__}")
    print()
    print(f"| inspection at 640, median of {ROUNDS} (interleaved) | seconds |")
    print("|---|---|")
    print(f"| {CUSTOM.name} scale n, 4 custom rows measured | {median['custom']:.3f} |")
    print(f"| yolo11.yaml scale n, no custom row | {median['plain']:.3f} |")
    print(f"| ratio | {median['custom'] / median['plain']:.2f}x |")
    print()
    print(f"| {CASE.name} (13 custom rows), one inspection at 640 | seconds |")
    print("|---|---|")
    for scale in case.scales():
        seconds = _timed(lambda: inspect_dict(case.to_dict(), scale=scale, imgsz=640, blocks=case_blocks))
        print(f"| scale {scale} | {seconds:.2f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
