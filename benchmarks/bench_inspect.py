"""Benchmark: inspecting yolo11n at 640 (target < 0.5 s once torch is imported), and validation.

Run: ``.venv/bin/python benchmarks/bench_inspect.py`` (or ``make bench``). Prints a Markdown
table to paste into docs/PERFORMANCE.md. Measures, in one fresh process:

- import of torch + Ultralytics (excluded from the target, reported for context);
- the first inspection after that (cold: Ultralytics' lazy imports, thop, caches);
- the median and worst of the next runs (warm: what the Model Designer sees on every edit);
- validation of the same model without torch (catalog read from source on first use).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import importlib.util

# Ultralytics' own yolo11.yaml at scale n (= yolo11n), located without importing Ultralytics.
MODEL = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "cfg/models/11/yolo11.yaml"
RUNS = 10


def main() -> None:
    t0 = time.perf_counter()
    import yolo_studio  # noqa: F401
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.validation import validate

    doc = ModelDocument.load(MODEL)
    t = time.perf_counter()
    validate(doc)
    validate_cold = time.perf_counter() - t
    t = time.perf_counter()
    validate(doc)
    validate_warm = time.perf_counter() - t
    assert "torch" not in sys.modules

    t = time.perf_counter()
    import torch  # noqa: F401
    import ultralytics.nn.tasks  # noqa: F401

    import_s = time.perf_counter() - t
    from yolo_studio.core.model.inspection import inspect_dict

    t = time.perf_counter()
    report = inspect_dict(doc.to_dict(), scale="n", imgsz=640)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(RUNS):
        t = time.perf_counter()
        inspect_dict(doc.to_dict(), scale="n", imgsz=640)
        warm.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"Python {platform.python_version()}, torch {torch.__version__}, ultralytics {ultralytics.__version__}")
    print(f"model: Ultralytics {MODEL.name} scale n at 640: {report.params:,} params, {report.gflops} GFLOPs, "
          f"{len(report.layers)} layers")
    print()
    print("| measurement | seconds |")
    print("|---|---|")
    print(f"| validate (no torch), first call incl. catalog | {validate_cold:.3f} |")
    print(f"| validate, next call | {validate_warm:.4f} |")
    print(f"| import torch + ultralytics (excluded) | {import_s:.2f} |")
    print(f"| inspect, first after import | {cold:.3f} |")
    print(f"| inspect, median of {RUNS} | {statistics.median(warm):.3f} |")
    print(f"| inspect, worst of {RUNS} | {max(warm):.3f} |")
    print(f"| whole script | {total:.1f} |")


if __name__ == "__main__":
    main()
