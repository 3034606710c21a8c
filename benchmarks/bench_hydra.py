"""Benchmark: a hydra model (one backbone, N heads) against N separate full models, and against the FLOP bound.

Run: ``.venv/bin/python benchmarks/bench_hydra.py [IMGSZ ...] [--splits default,backbone-end|all|11,17]
[--json] [--rounds N]`` (or ``make bench``). Prints Markdown for docs/PERFORMANCE.md; with ``--json``, one
JSON object per line instead: per (device, imgsz, layout, split, heads) the ms, the ratio to one model,
the FLOP bound and the efficiency, and per number of heads the memory against its bound.

The demo model (YOLO11n, 3 classes) is built from its YAML with random weights (latency does not depend
on the values), Conv and BatchNorm fused as Ultralytics fuses them for inference; heads are copies of its
own head. Per image, batch 1, the network forward only (the same letterboxed tensor; pre- and
postprocessing are the same for both and excluded), median of ROUNDS interleaved rounds after a
warm-up, on the CPU (and on CUDA when there). On the CPU every case runs twice, in PyTorch's default
(NCHW) and in channels-last memory format (the one the studio's hydra detector uses on the CPU).

Targets (issue 17):
- efficiency, at any split: N heads computed exactly cost at least ``bound = 1 + (N - 1) x head_share``
  (the head's share of the model's convolution FLOPs); the measured ratio for 6 and 12 heads is within
  10 % of it (``efficiency = bound / ratio >= 1 / 1.1``);
- the product's numbers, at the split a new hydra proposes (``split.default_split``), 640 px, CPU,
  channels-last: 1 head <= 1.05x one model, 6 heads <= 3.0x, 12 heads <= 4.0x;
- memory as heads are added: within 10 % of the parameter bound (backbone once + N x one head's
  parameters and buffers), on the CPU (RSS growth) and on CUDA (allocated memory).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
COUNTS = (1, 6, 12)
PRODUCT_TARGETS = {1: 1.05, 6: 3.0, 12: 4.0}  # at the default split, 640 px, CPU, channels-last
EFFICIENCY_SLACK = 1.10  # measured ratio at most 10 % above the FLOP bound
MEMORY_SLACK = 1.10


def interleaved_medians(cases: dict, rounds: int) -> dict:
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


def chosen_splits(text: str, model) -> list:
    from yolo_studio.hydra import split as hs

    named = {"default": hs.default_split(model), "backbone-end": hs.backbone_end(model)}
    if text == "all":
        return list(range(1, len(model.model)))
    return sorted({named[part] if part in named else int(part) for part in text.split(",")})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[640, 128], metavar="IMGSZ")
    parser.add_argument("--splits", default="backbone-end,default",
                        help="default, backbone-end, layer numbers (comma-separated), or all")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of Markdown")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "30")))
    parser.add_argument("--device", default="all", choices=("all", "cpu", "cuda"),
                        help="where to measure (default: the CPU, and CUDA when there is one)")
    parser.add_argument("--model", default=str(MODEL), help="model YAML (default: the demo's YOLO11n); "
                        "Ultralytics' own names work too, e.g. yolo11s.yaml")
    parser.add_argument("--memory-only", action="store_true", help="only the memory rows")
    parser.add_argument("--merged", action="store_true",
                        help="also run the heads together (hydra/merged.py) at the default split")
    args = parser.parse_args(argv)

    import torch

    import yolo_studio  # noqa: F401  (offline environment)
    from ultralytics.nn.tasks import DetectionModel

    from yolo_studio.hydra import split as hs

    out = Output(args.json)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    devices = devices if args.device == "all" else [args.device]
    base = DetectionModel(args.model, verbose=False).eval().fuse(verbose=False)  # as Ultralytics predicts
    default = hs.default_split(base)
    splits = chosen_splits(args.splits, base)
    shares = hs.flop_shares(base)
    out.text(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads; median of {args.rounds} rounds\n")
    out.text(f"Default split (the deepest that keeps each head's bottom-up path): layer {default}; the YAML "
             f"backbone ends at {hs.backbone_end(base)}. A head's share of the convolution FLOPs at 640: "
             + ", ".join(f"split {k}: {shares[k]:.0%}" for k in splits) + "\n")
    for device in devices:
        memory(base, default, device, out)
    for device in devices if not args.memory_only else ():
        for imgsz in args.sizes:
            for layout in (["channels-last", "NCHW"] if device == "cpu" else ["NCHW"]):
                compare(base, splits, default, shares, device, imgsz, layout, args.rounds, out, args.merged)


class Output:
    """Markdown for people, or JSON lines for scripts; the same figures."""

    def __init__(self, as_json: bool):
        self.as_json = as_json

    def text(self, line: str) -> None:
        if not self.as_json:
            print(line)

    def record(self, **fields) -> None:
        if self.as_json:
            print(json.dumps(fields))


def compare(base, splits: list, default: int, shares: list, device: str, imgsz: int, layout: str, rounds: int,
            out: Output, merged: bool = False) -> None:
    """One table: 1, 6 and 12 separate models against the hydra at each split, with the FLOP bound."""
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
        if merged:  # the heads at the default split as one network mapped over them (vmap)
            from yolo_studio.hydra.merged import MergedHeads

            stacks = {n: MergedHeads(full[:n], default) for n in COUNTS}

            def together(n):
                stacks[n].run(hs.run_backbone(shared_model, x, default))
                sync()

            cases.update({("merged", n): (lambda n=n: together(n)) for n in COUNTS})
        timed = interleaved_medians(cases, rounds)
    one = timed[("separate", 1)]
    out.text(f"### {device}, imgsz {imgsz}, {layout} (one model: {one:.1f} ms)\n")
    out.text("| split | head's FLOP share | 1 head | 6 heads | 12 heads |")
    out.text("|---|---|---|---|---|")
    out.text("| separate models | 100 % | " + " | ".join(
        f"{timed[('separate', n)]:.1f} ms ({timed[('separate', n)] / one:.2f}x)" for n in COUNTS) + " |")
    for split in splits:
        cells = []
        for n in COUNTS:
            ms = timed[(split, n)]
            ratio, bound = ms / one, 1 + (n - 1) * shares[split]
            efficiency = bound / ratio
            target = PRODUCT_TARGETS[n] if split == default and device == "cpu" and layout == "channels-last" \
                and imgsz == 640 else None
            out.record(kind="latency", device=device, imgsz=imgsz, layout=layout, split=split, default=split == default,
                       heads=n, ms=round(ms, 2), one_model_ms=round(one, 2), ratio=round(ratio, 3),
                       bound=round(bound, 3), efficiency=round(efficiency, 3),
                       efficiency_ok=n == 1 or ratio <= bound * EFFICIENCY_SLACK,
                       target=target, target_ok=None if target is None else ratio <= target)
            cells.append(f"{ms:.1f} ms ({ratio:.2f}x; bound {bound:.2f}x, efficiency {efficiency:.2f})")
        mark = " (default)" if split == default else ""
        out.text(f"| {split}{mark} | {shares[split]:.0%} | " + " | ".join(cells) + " |")
    if merged:
        for n in COUNTS:
            out.record(kind="merged", device=device, imgsz=imgsz, layout=layout, split=default, heads=n,
                       ms=round(timed[("merged", n)], 2), per_head_ms=round(timed[(default, n)], 2),
                       ratio=round(timed[("merged", n)] / one, 3))
        out.text(f"| {default}, heads run together (vmap) | {shares[default]:.0%} | " + " | ".join(
            f"{timed[('merged', n)]:.1f} ms ({timed[('merged', n)] / one:.2f}x)" for n in COUNTS) + " |")
    out.text("")


def memory(base, k: int, device: str, out: Output) -> None:
    """Memory as the backbone, then heads one by one, are loaded (each keeping only its own layers, as the
    detector keeps them), against the parameter bound: the backbone's parameters and buffers once plus
    one head's per head. The CPU counts RSS growth, CUDA the allocated memory; measured before anything
    is freed except what each cut drops, which is given back to the system as the detector gives it back."""
    import psutil
    import torch

    from yolo_studio.hydra.model import return_freed_memory

    process = psutil.Process()

    def tensor_bytes(model) -> int:
        return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))

    def used() -> int:
        if device == "cuda":
            torch.cuda.synchronize()
            return torch.cuda.memory_allocated()
        return_freed_memory()  # as the detector does after cutting a head from its checkpoint
        return process.memory_info().rss

    source = copy.deepcopy(base)  # the parts are cut from this copy, so building them allocates little
    start = used()
    backbone = copy.deepcopy(source)
    for i in range(len(backbone.model) - 1, k - 1, -1):
        backbone.model[i] = torch.nn.Identity()
    backbone.to(device)
    loaded = [backbone]
    rows = []
    for n in range(1, max(COUNTS) + 1):
        head = copy.deepcopy(source)
        for i in range(k):
            head.model[i] = torch.nn.Identity()
        loaded.append(head.to(device))
        if n in COUNTS:
            grown = used() - start
            bound = tensor_bytes(backbone) + n * tensor_bytes(head)
            rows.append((n, grown, bound))
            out.record(kind="memory", device=device, split=k, heads=n, grown_mb=round(grown / 2**20, 2),
                       bound_mb=round(bound / 2**20, 2), quotient=round(grown / bound, 3),
                       ok=grown <= bound * MEMORY_SLACK)
    counted = "RSS growth" if device == "cpu" else "allocated memory"
    out.text(f"Memory on {device} at split {k} ({counted} against backbone + N heads' parameters and buffers): "
             + ", ".join(f"{n} heads {g / 2**20:.1f} MB of {b / 2**20:.1f} MB ({g / b:.2f})" for n, g, b in rows)
             + f"; one full model holds {tensor_bytes(base) / 2**20:.1f} MB.\n")
    del loaded


if __name__ == "__main__":
    main()
