"""The GPU path in one run: training (AMP, workers, RAM cache, AutoBatch, stop and resume, two ranks),
inference, hydra and an FP16 ONNX export on an NVIDIA GPU, offline, each against what it must equal.

Run it through ``benchmarks/gpu_check.sh`` (which installs the wheels ``make gpu-wheels`` put in
``.gpu-wheels/`` where Ultralytics is missing). Prints one Markdown table (and writes it to
``--out``). Without CUDA every GPU row says "skipped: no CUDA device" and the script still exits 0:
CI runs it that way. ``--rehearse`` runs the rows that can run on the CPU there, small, so the
script itself is tested before a GPU's few minutes are spent on it.

    benchmarks/gpu_check.sh [--out gpu_check.md] [--keep DIR] [--rehearse]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yolo_studio.core.offline import apply_offline_environment  # noqa: E402  (before Ultralytics)

apply_offline_environment()

MODEL = ROOT / "resources" / "models" / "yolo11n-se.yaml"  # the demo model with custom blocks
MODULES = ROOT / "resources" / "modules"
IMGSZ, EPOCHS = 320, 2
TRAIN_ARGS = {"epochs": EPOCHS, "imgsz": IMGSZ, "batch": 16, "workers": 4, "cache": "ram", "amp": True,
              "plots": False, "device": "0"}
DEVICE = "0"  # "cpu" when rehearsing
IMAGES = (256, 64)  # train, val
ROW_TIMEOUT = 240  # seconds for one training


class Check:
    def __init__(self, work: Path):
        self.work = work
        self.rows: list = []  # (what, result, detail)
        self.data = None
        self.best = None

    def row(self, what: str, result: str, detail: str = "") -> None:
        self.rows.append((what, result, detail.replace("|", "/").replace("\n", " ")))
        print(f"[gpu_check] {what}: {result} {detail}", flush=True)

    def table(self, device: str) -> str:
        lines = [f"GPU check, {time.strftime('%Y-%m-%d')}, {device}", "",
                 "| check | result | detail |", "|---|---|---|"]
        lines += [f"| {what} | {result} | {detail} |" for what, result, detail in self.rows]
        return "\n".join(lines) + "\n"


def studio(*args, timeout: float = ROW_TIMEOUT, env: dict | None = None) -> subprocess.CompletedProcess:
    """``yolo-studio ARGS`` in a fresh Python, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "yolo_studio", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def events(run: Path) -> list:
    path = run / "events.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def kv(values: dict) -> list:
    return [f"{k}={v}" for k, v in values.items()]


# ---------------------------------------------------------------------------------------------- rows

def environment(check: Check) -> bool:
    import torch
    import ultralytics

    from yolo_studio.core.devices import describe_devices
    from yolo_studio.training.preflight import cuda_devices

    offline = os.environ.get("YOLO_OFFLINE") == "1" and os.environ.get("YOLO_AUTOINSTALL") == "false"
    listed = describe_devices()["cuda"], cuda_devices()  # what the Devices panel and preflight read
    context = torch.cuda.is_initialized()  # they read NVML: the studio must hold no CUDA context
    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else "no CUDA device"
    check.row("environment", "ok" if offline and not context and len(listed[0]) == len(listed[1]) else "FAIL",
              f"torch {torch.__version__}, CUDA {torch.version.cuda}, Ultralytics {ultralytics.__version__}, "
              f"{name}; offline variables {'set' if offline else 'NOT set'}; {len(listed[0])} GPUs listed through "
              f"NVML, CUDA context after listing them: {'YES' if context else 'none'}")
    return cuda


def train_with_amp(check: Check) -> None:
    """The custom-block model through ``yolo-studio train`` against plain Ultralytics (the studio's bundle of
    the same model), same arguments; finite losses, GPU memory in the events, no download."""
    project = check.work / "project"
    started = time.perf_counter()
    done = studio("train", "--model", MODEL, "--modules", MODULES, "--data", check.data, "--project", project,
                  "--name", "amp", *kv(TRAIN_ARGS))
    studio_s = time.perf_counter() - started
    run = project / "runs" / "amp"
    found = events(run)
    epochs = [e for e in found if e["type"] == "epoch_end"]
    losses = [v for e in epochs for k, v in e["metrics"].items() if "loss" in k]
    memory = [e.get("memory_gb") for e in epochs]
    log = (run / "logs" / "train.log").read_text(errors="replace") if (run / "logs" / "train.log").exists() else ""
    downloads = [line for line in log.splitlines() if "Downloading" in line or "download" in line.lower()
                 and "skipped" not in line.lower()]
    ok = (done.returncode == 0 and len(epochs) == EPOCHS and losses and all(math.isfinite(v) for v in losses)
          and all(m for m in memory) and not downloads)
    check.best = run / "weights" / "best.pt"
    detail = (f"{len(epochs)} epochs, losses finite: {all(math.isfinite(v) for v in losses) if losses else 'none'}, "
              f"GPU memory {memory}, download lines {len(downloads)}, {studio_s:.0f} s")
    if done.returncode != 0:
        detail += f"; {done.stdout[-300:]} {done.stderr[-300:]}"
    check.row("yolo-studio train: custom blocks, AMP, workers=4, cache=ram", "ok" if ok else "FAIL", detail)
    bundle = check.work / "bundle"
    studio("bundle", MODEL, "--modules", MODULES, "--output", bundle, timeout=120)
    started = time.perf_counter()
    plain = subprocess.run([sys.executable, str(bundle / "train.py"), "--data", str(check.data), "--epochs", str(EPOCHS),
                            "--imgsz", str(IMGSZ), *kv({k: v for k, v in TRAIN_ARGS.items() if k not in ("epochs", "imgsz")}),
                            f"project={check.work / 'plain'}", "name=amp", "exist_ok=True"],
                           capture_output=True, text=True, timeout=ROW_TIMEOUT, cwd=bundle)
    plain_s = time.perf_counter() - started
    check.row("the same with plain Ultralytics (bundle's train.py)", "ok" if plain.returncode == 0 else "FAIL",
              f"{plain_s:.0f} s; the studio takes {studio_s / plain_s:.2f}x its wall time" if plain.returncode == 0
              else plain.stderr[-400:])


def autobatch(check: Check) -> None:
    project = check.work / "project"
    done = studio("train", "--model", MODEL, "--modules", MODULES, "--data", check.data, "--project", project,
                  "--name", "autobatch", *kv({**TRAIN_ARGS, "epochs": 1, "batch": -1, "cache": False}))
    found = events(project / "runs" / "autobatch")
    ended = [e for e in found if e["type"] == "run_end"]
    check.row("batch=-1 (AutoBatch) on one GPU", "ok" if done.returncode == 0 and ended else "FAIL",
              f"status {ended[-1]['status'] if ended else 'none'}" + ("" if done.returncode == 0 else
                                                                     f"; {done.stdout[-300:]}"))


def _started(run: Path, kind: str, timeout: float, predicate=lambda e: True) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e["type"] == kind and predicate(e) for e in events(run)):
            return True
        time.sleep(0.5)
    return False


def stop_and_resume(check: Check) -> None:
    from yolo_studio.training import launch
    from yolo_studio.training.events import read_events, run_status
    from yolo_studio.training.headless import plan_and_check
    from yolo_studio.training.run_folder import RunFolder, prepare_run

    project = check.work / "project"
    epochs = 10  # the stop must land before the last epoch, on a fast GPU too
    plan, resolved, result = plan_and_check(MODEL, check.data, project, "stop", {**TRAIN_ARGS, "epochs": epochs},
                                            modules=MODULES)
    if not result.ok:
        check.row("stop mid-epoch, then resume", "FAIL", "; ".join(c.message for c in result.errors))
        return
    run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, result.task or "detect",
                      plan.modules_dir)
    process = launch.start(run, device=DEVICE)
    first_epoch = _started(run.path, "epoch_end", ROW_TIMEOUT)
    launch.request_stop(run)
    process.wait(timeout=ROW_TIMEOUT)
    found = read_events(run.events)
    stopped = run_status(found)
    at = max((e["epoch"] for e in found if e["type"] == "epoch_end"), default=0)
    process = launch.start(run, resume=True, device=DEVICE)
    process.wait(timeout=ROW_TIMEOUT)
    found = read_events(RunFolder(run.path).events)
    final = run_status(found)
    done = max((e["epoch"] for e in found if e["type"] == "epoch_end"), default=0)
    ok = first_epoch and stopped == "stopped" and at < epochs and final == "completed" and done == epochs
    check.row("stop mid-epoch, then resume", "ok" if ok else "FAIL",
              f"stopped after epoch {at} of {epochs} ({stopped}); resumed: {final} at epoch {done}")


def two_ranks(check: Check) -> None:
    """Two ranks on one GPU (gloo: NCCL refuses two ranks on one device): stops at random moments end every
    rank with the run 'stopped'; a kill leaves no rank behind."""
    import psutil

    from yolo_studio.training import launch
    from yolo_studio.training.events import read_events, run_status
    from yolo_studio.training.headless import plan_and_check
    from yolo_studio.training.run_folder import prepare_run

    project = check.work / "project"
    env = {"YOLO_STUDIO_DDP_BACKEND": "gloo"}
    outcomes, orphans = [], 0
    for attempt in range(3):
        name = f"ranks{attempt}"
        plan, resolved, result = plan_and_check(MODEL, check.data, project, name,
                                                {**TRAIN_ARGS, "device": "0,0", "epochs": 3, "cache": False},
                                                modules=MODULES)
        if not result.ok:
            check.row("two ranks on one GPU: stop at random moments, kill", "FAIL",
                      "; ".join(c.message for c in result.errors))
            return
        run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, result.task or "detect",
                          plan.modules_dir)
        process = launch.start(run, device="0,0", env=env)
        _started(run.path, "batch", ROW_TIMEOUT)
        time.sleep(random.uniform(0, 4))
        if attempt < 2:
            launch.request_stop(run)
            try:
                process.wait(timeout=120)
                outcomes.append(run_status(read_events(run.events)))
            except subprocess.TimeoutExpired:
                outcomes.append("HUNG")
                launch.kill(run, process.pid)
        else:
            ranks = psutil.Process(process.pid).children(recursive=True)
            launch.kill(run, process.pid)
            orphans = sum(1 for p in ranks if p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
            outcomes.append(run_status(read_events(run.events)))
    ok = outcomes[:2] == ["stopped", "stopped"] and outcomes[2] == "killed" and orphans == 0
    check.row("two ranks on one GPU: stop at random moments, kill", "ok" if ok else "FAIL",
              f"stops: {outcomes[:2]}, kill: {outcomes[2]}, ranks left after the kill: {orphans}")


def predict_and_hydra(check: Check) -> None:
    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.deploy.predict import predict

    images = images_in(Path(check.data).parent / "images" / "val")[:32]
    results = {device: predict(str(check.best), images, 0.25, 0.7, IMGSZ, device) for device in (DEVICE, "cpu")}
    from ultralytics import YOLO

    model = YOLO(str(check.best))
    plain = [model.predict(image, imgsz=IMGSZ, device=DEVICE, verbose=False)[0].speed for image in images]
    per_image = lambda times: sorted(times)[len(times) // 2]  # noqa: E731 - the median, first images warm up
    studio_ms = per_image([sum(r.timing.values()) for r in results[DEVICE]])
    plain_ms = per_image([sum(speed.values()) for speed in plain])
    same = _same_detections([r.objects for r in results[DEVICE]], [r.objects for r in results["cpu"]])
    check.row("predict on CUDA against the CPU", "ok" if same else "FAIL",
              f"{len(images)} images, same detections: {same}; per image (median) the studio on {DEVICE} "
              f"{studio_ms:.1f} ms, plain Ultralytics {plain_ms:.1f} ms ({studio_ms / plain_ms:.2f}x)")
    project = check.work / "project"
    made = studio("hydra", "extract", "--project", project, "gpu", "shapes", check.best, timeout=120)
    if made.returncode != 0:
        check.row("hydra detect on CUDA (device=0) against the CPU", "FAIL", made.stdout[-300:] + made.stderr[-300:])
        return
    outs = {}
    for device in (DEVICE, "cpu"):
        done = studio("hydra", "detect", "--project", project, "gpu", *images[:8], "--device", device, "--json",
                      timeout=180)
        outs[device] = [json.loads(line)["objects"] for line in done.stdout.splitlines() if line.startswith("{")]
    same = len(outs[DEVICE]) == len(outs["cpu"]) == 8 and _same_detections(outs[DEVICE], outs["cpu"])
    check.row("hydra detect on CUDA (device=0) against the CPU", "ok" if same else "FAIL",
              f"{len(outs[DEVICE])} images on device {DEVICE}, same detections: {same}")


HYDRA_TARGET = 2.0  # 12 heads against one model, batch 1, 640 px, on CUDA (issue 17)


def hydra_latency(check: Check) -> None:
    """12 heads at the default split, each on its own and run together, against one model (bench_hydra)."""
    imgsz, rounds = (640, 10) if DEVICE != "cpu" else (IMGSZ, 2)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_hydra.py"), str(imgsz), "--device",
                           "cpu" if DEVICE == "cpu" else "cuda", "--splits", "default", "--merged", "--json",
                           "--rounds", str(rounds)], capture_output=True, text=True, timeout=ROW_TIMEOUT, cwd=ROOT)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    apart = next((r for r in rows if r["kind"] == "latency" and r["heads"] == 12 and r["default"]), None)
    together = next((r for r in rows if r["kind"] == "merged" and r["heads"] == 12), None)
    memory = next((r for r in rows if r["kind"] == "memory" and r["heads"] == 12), None)
    if done.returncode != 0 or apart is None or together is None:
        check.row("hydra: 12 heads against one model", "FAIL", (done.stdout + done.stderr)[-400:])
        return
    best = min(apart["ratio"], together["ratio"])
    check.row("hydra: 12 heads against one model", "ok" if best <= HYDRA_TARGET else "missed",
              f"{apart['layout']} {imgsz} px, split {apart['split']}: one model {apart['one_model_ms']} ms; 12 heads "
              f"{apart['ratio']}x each on its own, {together['ratio']}x run together (target <= {HYDRA_TARGET}x); "
              f"memory {memory['quotient'] if memory else '?'} of the parameter bound")


def _same_detections(a: list, b: list, tolerance: float = 2.0) -> bool:
    """Per image, the same classes and boxes within ``tolerance`` pixels (CUDA and CPU round differently)."""
    if len(a) != len(b):
        return False
    for one, other in zip(a, b):
        key = lambda o: (o.get("cls"), round(o["box"][0]))  # noqa: E731
        one, other = sorted(one, key=key), sorted(other, key=key)
        if len(one) != len(other):
            return False
        for x, y in zip(one, other):
            if x.get("cls") != y.get("cls") or max(abs(p - q) for p, q in zip(x["box"], y["box"])) > tolerance:
                return False
    return True


def onnx_fp16(check: Check) -> None:
    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.deploy.export import export, verify_onnx

    out = export(check.best, "onnx", imgsz=IMGSZ, half=DEVICE != "cpu", device=DEVICE)
    verification = verify_onnx(out, check.best, images_in(Path(check.data).parent / "images" / "val")[:8], IMGSZ)
    check.row("ONNX FP16 export, checked with onnxruntime", "ok" if verification.ok else "FAIL", verification.text())


# ---------------------------------------------------------------------------------------------- main

GPU_ROWS = (("yolo-studio train: custom blocks, AMP, workers=4, cache=ram", train_with_amp),
            ("batch=-1 (AutoBatch) on one GPU", autobatch),
            ("stop mid-epoch, then resume", stop_and_resume),
            ("two ranks on one GPU: stop at random moments, kill", two_ranks),
            ("predict and hydra on CUDA against the CPU", predict_and_hydra),
            ("hydra: 12 heads against one model", hydra_latency),
            ("ONNX FP16 export, checked with onnxruntime", onnx_fp16))
CPU_ROWS = (train_with_amp, stop_and_resume, predict_and_hydra, hydra_latency, onnx_fp16)  # two ranks need CUDA for Ultralytics


def _rehearse() -> None:
    """The CPU's share, small: what the rows run is what they run on a GPU, on ``device=cpu``."""
    global DEVICE, IMGSZ, EPOCHS, IMAGES, TRAIN_ARGS
    DEVICE, IMGSZ, EPOCHS, IMAGES = "cpu", 64, 1, (32, 8)
    TRAIN_ARGS = {**TRAIN_ARGS, "epochs": EPOCHS, "imgsz": IMGSZ, "device": DEVICE, "workers": 0, "amp": False}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the table to this file")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--rehearse", action="store_true",
                        help="without CUDA: run the rows the CPU can run, small (tests the script itself)")
    args = parser.parse_args(argv)
    if args.rehearse:
        _rehearse()
    work = Path(args.keep or tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    check = Check(work)
    started = time.perf_counter()
    cuda = environment(check)
    if cuda or args.rehearse:
        from yolo_studio.core.data.demo_dataset import generate

        check.data = generate(work / "data", train=IMAGES[0], val=IMAGES[1], imgsz=IMGSZ)
    for what, row in GPU_ROWS:
        if not cuda and not (args.rehearse and row in CPU_ROWS):
            check.row(what, "skipped", "no CUDA device")
            continue
        if check.best is None and row not in (train_with_amp, autobatch, stop_and_resume, two_ranks, hydra_latency):
            check.row(what, "skipped", "no trained weights (the first training failed)")
            continue
        try:
            row(check)
        except Exception as exc:  # a row's failure is its result; the next rows still run
            check.row(what, "FAIL", f"{type(exc).__name__}: {str(exc)[:400]}")
    import torch

    device = torch.cuda.get_device_name(0) if cuda else "CPU only"
    check.row("total", "-", f"{time.perf_counter() - started:.0f} s")
    text = check.table(device)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(result != "FAIL" for _, result, _ in check.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
