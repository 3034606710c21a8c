"""Benchmark: what adapting a head written for Ultralytics 8.0-8.3 costs (issue 29's numbers).

- training: seconds per training epoch of the demo model (YOLO11n layout, 3 classes) with Ultralytics' own
  ``Detect`` against the same model whose head is ``Detect83`` (benchmarks/heads/detect83.py): the same
  layers in the 8.0-8.3 protocol, which the studio adapts. Both on the demo's shapes dataset (256 images,
  imgsz 128, batch 16, CPU), each run in a fresh process, the two alternating ROUNDS times; the first
  epoch of a run is left out (warm-up). Target: the adapted head at most 2 % slower.
- inspection: the Model Designer's inspection (build + shapes + GFLOPs at 640) of a paper's custom head
  (tests/data/community_heads/jas_detect_lscd, scale n) against Ultralytics' ``yolo11n.yaml``, in one
  process, alternating.

    .venv/bin/python benchmarks/bench_heads.py [--rounds N] [--epochs N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADS = ROOT / "benchmarks" / "heads"
DEMO = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
CASE = ROOT / "tests" / "data" / "community_heads" / "jas_detect_lscd"

RUN = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from yolo_studio.core.offline import ultralytics_settings_offline
ultralytics_settings_offline()
from yolo_studio.compat import ultralytics_hook
ultralytics_hook.install(ultralytics_hook.load_block_folder(sys.argv[2]))
from ultralytics import YOLO
model = YOLO(sys.argv[3], task="detect")
marks = []
model.add_callback("on_train_epoch_start", lambda trainer: marks.append(["start", time.perf_counter()]))
model.add_callback("on_train_epoch_end", lambda trainer: marks.append(["end", time.perf_counter()]))
model.train(data=sys.argv[4], epochs=int(sys.argv[5]), imgsz=128, batch=16, workers=0, device="cpu", amp=False,
            plots=False, val=False, project=sys.argv[6], name="run", exist_ok=True, verbose=False, seed=0)
epochs = [end - start for (_, start), (_, end) in zip(marks[0::2], marks[1::2])]
print(json.dumps({"epochs": epochs, "adapted": type(model.model.model[-1]).__mro__[1].__name__ == "LegacyHead"}))
"""


def _models(folder: Path) -> dict:
    import yaml

    d = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    out = {}
    for name, head in (("Detect (Ultralytics)", "Detect"), ("Detect83 (adapted)", "Detect83")):
        model = copy.deepcopy(d)
        model["head"][-1][2] = head
        path = folder / f"{head.lower()}-demo.yaml"
        path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
        out[name] = path
    return out


def training(rounds: int, epochs: int) -> dict:
    from yolo_studio.core.data.demo_dataset import generate

    folder = Path(tempfile.mkdtemp(prefix="bench-heads-"))
    data = generate(folder / "shapes", train=256, val=16, imgsz=128, seed=0)
    models = _models(folder)
    times = {name: [] for name in models}
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_VERBOSE": "false", "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    for r in range(rounds):
        for name, path in (models.items() if r % 2 == 0 else reversed(models.items())):
            done = subprocess.run([sys.executable, "-c", RUN, str(ROOT), str(HEADS), str(path), str(data), str(epochs),
                                   str(folder / "runs")], capture_output=True, text=True, env=env, timeout=1800)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            result = json.loads(done.stdout.strip().splitlines()[-1])
            assert result["adapted"] == ("adapted" in name), result
            times[name] += result["epochs"][1:]  # the first epoch warms up
            print(f"round {r + 1}: {name}: {', '.join(f'{t:.2f}' for t in result['epochs'])} s", flush=True)
    return times


def inspection(rounds: int) -> dict:
    import yaml

    from yolo_studio.core.blocks.block_check import load_vetted_blocks
    from yolo_studio.core.model.inspection import inspect_dict
    from yolo_studio.core.model.model_names import model_file

    blocks, _errors = load_vetted_blocks(CASE)
    custom = yaml.safe_load((CASE / "model.yaml").read_text(encoding="utf-8"))
    plain = yaml.safe_load(Path(model_file("yolo11n.yaml")[0]).read_text(encoding="utf-8"))
    inspect_dict(plain, scale="n")  # imports and first-use costs, for both
    times = {"jas_detect_lscd (Detect_LSCD, adapted)": [], "yolo11n.yaml (Detect)": []}
    for _ in range(rounds):
        for name, (d, b) in zip(times, ((custom, blocks), (plain, None))):
            t = time.perf_counter()
            inspect_dict(copy.deepcopy(d), scale="n", blocks=b)
            times[name].append(time.perf_counter() - t)
    return times


def main() -> None:
    import torch
    import ultralytics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"ultralytics {ultralytics.__version__}\n")
    epochs = training(args.rounds, args.epochs)
    looks = inspection(max(args.rounds, 5))
    print("\n| what | runs | median s | ratio |\n| --- | ---: | ---: | ---: |")
    for label, table in (("training epoch", epochs), ("inspection at 640", looks)):
        medians = {name: statistics.median(values) for name, values in table.items()}
        base = list(medians.values())[1] if label.startswith("inspection") else list(medians.values())[0]
        for name, median in medians.items():
            print(f"| {label}: {name} | {len(table[name])} | {median:.3f} | {median / base:.3f} |")


if __name__ == "__main__":
    main()
