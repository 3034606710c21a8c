"""What a deeper hydra split costs in accuracy: a head trained at the end of the YAML backbone (the old
default), at the default split, and with Detect alone, on a second dataset.

Run: ``.venv/bin/python benchmarks/hydra_accuracy.py [--epochs 15] [--out DIR]`` (about 10 minutes on
2 CPU cores). Prints a Markdown table for docs/HYDRA.md.

1. The demo model (YOLO11n) trains on the demo's shapes dataset (256 train / 64 val images, 128 px,
   seed 0, up to 3 objects per image), as the demo project's "CPU quick" preset does.
2. Its best.pt becomes a hydra three times, split at the end of the YAML backbone, at the default
   split and before Detect.
3. At each split a new head trains on a second dataset (seed 1, up to 6 objects per image: other
   images, busier scenes, the same three classes) with the backbone frozen, the same epochs and
   settings. The table gives each head's best mAP50-95 and mAP50 on that dataset's validation images,
   with the layers it trains and its share of the FLOPs.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"


def best_metrics(run) -> dict:
    """The best epoch's mAP50-95 and mAP50 from a run's results.csv."""
    with open(run.path / "results.csv", newline="", encoding="utf-8") as f:
        rows = [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(f)]
    best = max(rows, key=lambda r: float(r["metrics/mAP50-95(B)"]))
    return {"mAP50-95": float(best["metrics/mAP50-95(B)"]), "mAP50": float(best["metrics/mAP50(B)"]),
            "epoch": int(float(best["epoch"]))}


def train(run) -> None:
    from yolo_studio.training import launch

    process = launch.start(run)
    if process.wait() != 0:
        raise SystemExit(f"{run.path.name} failed:\n{run.log.read_text()[-3000:]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args(argv)

    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.core.data.demo_dataset import generate
    from yolo_studio.hydra import split as hs
    from yolo_studio.hydra.model import extract, load_detector, prepare_head_run
    from yolo_studio.hydra.store import HydraStore
    from yolo_studio.training.demo_project import CPU_QUICK
    from yolo_studio.training.run_folder import prepare_run

    work = Path(args.out or tempfile.mkdtemp(prefix="hydra-accuracy-"))
    settings = {**CPU_QUICK, "epochs": args.epochs, "plots": False}
    first = generate(work / "shapes", train=256, val=64, imgsz=128, seed=0)
    second = generate(work / "busier", train=256, val=64, imgsz=128, seed=1, max_objects=6)
    started = time.time()
    base = prepare_run(MODEL, first, work / "runs", "base", settings)
    train(base)
    detector = load_detector(base.best)
    splits = {"end of the YAML backbone": hs.backbone_end(detector), "default": hs.default_split(detector),
              "Detect alone": len(detector.model) - 1}
    shares = hs.flop_shares(detector, 128)
    rows = []
    for label, k in splits.items():
        extract(work / "hydra", f"split{k}", base.best, "shapes", split=k, imgsz=128)
        store = HydraStore(work / "hydra" / f"split{k}")
        run = prepare_head_run(store, "busier", second, work / "runs", f"head{k}", settings)
        train(run)
        trained = sum(p.numel() for i, m in enumerate(detector.model) if i >= k for p in m.parameters())
        rows.append((label, k, len(detector.model) - k, trained, shares[k], best_metrics(run)))
    base_metrics = best_metrics(base)
    print(f"Base model on the shapes dataset: mAP50-95 {base_metrics['mAP50-95']:.3f} (epoch {base_metrics['epoch']}); "
          f"{args.epochs} epochs per run, 128 px, CPU; {time.time() - started:.0f} s in all.\n")
    print("| split | layers the head trains | parameters trained | head's FLOP share | mAP50-95 | mAP50 |")
    print("|---|---|---|---|---|---|")
    for label, k, layers, params, share, metrics in rows:
        print(f"| {k} ({label}) | {layers} | {params:,} | {share:.0%} | {metrics['mAP50-95']:.3f} | "
              f"{metrics['mAP50']:.3f} |")


if __name__ == "__main__":
    main()
