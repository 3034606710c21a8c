"""Benchmark: a hydra model (one backbone, N heads) against N separate full models.

Run: ``.venv/bin/python benchmarks/bench_hydra.py [IMGSZ ...]`` (or ``make bench``). Prints Markdown
for docs/PERFORMANCE.md. The demo model (YOLO11n, 3 classes) is built from its YAML with random
weights (latency does not depend on the values), Conv and BatchNorm fused as Ultralytics fuses them
for inference; heads are copies of its own head. Per image,
batch 1, the network forward only (the same letterboxed tensor; pre- and postprocessing are the
same for both and excluded), median of ROUNDS interleaved rounds after a warm-up, on the CPU (and on
CUDA when there). Two splits: the default (end of the YAML backbone) and a deeper one. On the CPU
every case runs twice, in PyTorch's default (NCHW) and in channels-last memory format (the one the
studio's hydra detector uses on the CPU); the ratios compare like with like.

Targets (issue 7): backbone + 1 head within 5 % of one model; 6 heads at most 3.5x one model;
12 heads at most 4.5x. Memory: RSS (and CUDA memory) as heads are added one by one.
"""

from __future__ import annotations

import copy
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
COUNTS = (1, 6, 12)
DEEP_SPLIT = 17  # YOLO11: after the top-down neck; heads keep the bottom-up path and Detect


def interleaved_medians(cases: dict, rounds: int = ROUNDS) -> dict:
    """Median ms of each callable; every round runs every case once, so drift (CPU clock, other
    load on the machine) touches all cases alike."""
    for function in cases.values():
        for _ in range(3):  # warm-up: the first calls of a model allocate
            function()
    times = {key: [] for key in cases}
    for _ in range(rounds):
        for key, function in cases.items():
            started = time.perf_counter()
            function()
            times[key].append((time.perf_counter() - started) * 1000)
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> None:
    import torch

    import yolo_studio  # noqa: F401  (offline environment)
    from ultralytics.nn.tasks import DetectionModel

    from yolo_studio.hydra import split as hs

    sizes = [int(a) for a in sys.argv[1:]] or [640, 128]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; median of {ROUNDS} rounds\n")
    base = DetectionModel(str(MODEL), verbose=False).eval().fuse(verbose=False)  # as Ultralytics predicts
    k = hs.default_split(base)
    total = sum(p.numel() for p in base.parameters())
    backbone_params = sum(v.numel() for v in hs.backbone_state(base, k).values() if v.is_floating_point())
    print(f"Default split at layer {k} (end of the YAML backbone): backbone {backbone_params:,} of {total:,} "
          f"parameters; the deeper split at layer {DEEP_SPLIT} shares "
          f"{sum(v.numel() for v in hs.backbone_state(base, DEEP_SPLIT).values() if v.is_floating_point()):,}\n")
    print("Memory as heads are added (CPU; a head keeps only its own layers): " + memory_growth(base, k) + "\n")
    shares = hs.flop_shares(base)
    for split in (k, DEEP_SPLIT):
        share = shares[split]
        print(f"Split at {split}: a head holds {share:.0%} of the model's convolution FLOPs at 640, so a "
              f"hydra that computes every head exactly needs at least {1 + 5 * share:.2f}x for 6 heads and "
              f"{1 + 11 * share:.2f}x for 12 (backbone once, plus one head's share per head)\n")
    for device in devices:
        for imgsz in sizes:
            for layout in (["NCHW", "channels-last"] if device == "cpu" else ["NCHW"]):
                compare(base, [k, DEEP_SPLIT], device, imgsz, layout)


def compare(base, splits: list, device: str, imgsz: int, layout: str) -> None:
    """One table: 1, 6 and 12 separate models against the hydra at each split."""
    import torch

    from yolo_studio.hydra import split as hs

    memory_format = torch.channels_last if layout == "channels-last" else torch.contiguous_format
    x = torch.rand(1, 3, imgsz, imgsz, device=device).contiguous(memory_format=memory_format)
    full = [copy.deepcopy(base).to(device, memory_format=memory_format) for _ in range(max(COUNTS))]
    shared_model = copy.deepcopy(base).to(device, memory_format=memory_format)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.no_grad():
        cases = {("separate", n): (lambda n=n: ([m(x) for m in full[:n]], sync())) for n in COUNTS}
        for split in splits:
            def run(n, split=split, shared=hs.shared_prefix(base, split)):
                features = hs.run_backbone(shared_model, x, split)
                if shared > split:  # parameter-free layers after the split run once, as in the detector
                    features = hs.run_shared(shared_model, features, split, shared)
                for head in full[:n]:  # same architecture and cost; only the head's own layers run
                    hs.run_head(head, features, shared)
                sync()

            cases.update({(split, n): (lambda n=n, run=run: run(n)) for n in COUNTS})
        timed = interleaved_medians(cases)
    separate = {n: timed[("separate", n)] for n in COUNTS}
    hydra = {split: {n: timed[(split, n)] for n in COUNTS} for split in splits}
    one = separate[1]
    print(f"### {device}, imgsz {imgsz}, {layout} (one model: {one:.1f} ms)\n")
    print("| heads | separate models | hydra, split at " + " | hydra, split at ".join(map(str, splits))
          + " | target |")
    print("|---|---|" + "---|" * len(splits) + "---|")
    targets = {1: "<= 1.05x", 6: "<= 3.5x", 12: "<= 4.5x"}
    for n in COUNTS:
        cells = " | ".join(f"{hydra[s][n]:.1f} ms ({hydra[s][n] / one:.2f}x)" for s in splits)
        print(f"| {n} | {separate[n]:.1f} ms ({separate[n] / one:.2f}x) | {cells} | {targets[n]} |")
    print()


def memory_growth(base, k: int) -> str:
    """RSS (and parameter bytes) as the backbone, then heads one by one, are loaded: measured first,
    before anything is freed, so the allocator has nothing to reuse."""
    import gc

    import psutil
    import torch

    process = psutil.Process()

    def params_mb(model) -> float:
        return sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20

    gc.collect()
    start = process.memory_info().rss
    backbone = copy.deepcopy(base)
    for i in range(len(backbone.model) - 1, k - 1, -1):
        backbone.model[i] = torch.nn.Identity()
    parts = [f"backbone {(process.memory_info().rss - start) / 2**20:.1f} MB RSS ({params_mb(backbone):.1f} MB "
             "of parameters)"]
    loaded = []
    for n in range(1, max(COUNTS) + 1):
        head = copy.deepcopy(base)
        for i in range(k):
            head.model[i] = torch.nn.Identity()
        loaded.append(head)
        if n in COUNTS:
            gc.collect()
            parts.append(f"{n} heads {(process.memory_info().rss - start) / 2**20:.1f} MB")
    per_head = params_mb(loaded[0])
    full = params_mb(base)
    return (", ".join(parts) + f". Parameters: one head {per_head:.1f} MB, one full model {full:.1f} MB, so "
            f"12 heads hold {params_mb(backbone) + 12 * per_head:.1f} MB against {12 * full:.1f} MB for 12 models.")


if __name__ == "__main__":
    main()
