"""Benchmark: the transfer report and the architecture diff for yolo11x against yolo11x with one
inserted block (issue 14's target: each under 1 s).

A yolo11x checkpoint in Ultralytics' format (random weights: no download) is written once; then,
in this process, after one warm-up round, each step is timed ROUNDS times:
- read: the checkpoint read without running code from it (its YAML and every tensor);
- diff: its architecture against the edited YAML, matched by structure;
- report: the target's tensor shapes (built on the meta device) and the per-layer transfer plan.

    .venv/bin/python benchmarks/bench_transfer.py
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
from pathlib import Path

ROUNDS = 7


def main() -> None:
    import torch
    import ultralytics
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load

    from yolo_studio.core.model.arch_diff import diff_models
    from yolo_studio.core.model.checkpoints import read_checkpoint
    from yolo_studio.core.model.transfer import plan_transfer, target_shapes

    cfg = Path(ultralytics.__file__).parent / "cfg" / "models" / "11" / "yolo11x.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        original = yaml_model_load(str(cfg))  # scale x, from the file name, as Ultralytics reads it
        model = DetectionModel(copy.deepcopy(original), verbose=False)
        weights = Path(tmp) / "yolo11x.pt"
        torch.save({"model": model.half(), "train_args": {"task": "detect", "imgsz": 640}, "epoch": -1,
                    "version": ultralytics.__version__}, weights)
        edited = copy.deepcopy(original)
        edited["backbone"].insert(10, [-1, 1, "CBAM", [7]])  # one block inserted, as a user would
        for row in edited["head"]:  # the head's references to layers after it move by one
            refs = row[0] if isinstance(row[0], list) else [row[0]]
            row[0] = [r + 1 if r >= 10 else r for r in refs] if isinstance(row[0], list) else row[0]

        times = {"read": [], "diff": [], "report": []}
        for k in range(ROUNDS + 1):
            t0 = time.perf_counter()
            info = read_checkpoint(weights)
            t1 = time.perf_counter()
            diff = diff_models(info.model_yaml, edited)
            t2 = time.perf_counter()
            report, _ = plan_transfer(info.state, info.model_yaml, edited, target_shapes(edited, "x"))
            t3 = time.perf_counter()
            if k:  # the first round imports and warms up
                for name, dt in (("read", t1 - t0), ("diff", t2 - t1), ("report", t3 - t2)):
                    times[name].append(dt)
        size = weights.stat().st_size / 1e6
    print(f"yolo11x checkpoint ({size:.0f} MB, {len(info.state)} tensors) against yolo11x + CBAM at layer 10; "
          f"median of {ROUNDS}")
    print("| step | median | runs |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.3f} s | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"\n{diff.counts()}\n{report.headline()}")


if __name__ == "__main__":
    main()
