"""The GPU path in one run, as a proof: each row says what it checked and shows the evidence, not just "ok".

Training (AMP from the checkpoint's scaler and the log, GPU memory from the CUDA allocator, no download),
AutoBatch's chosen batch, an out-of-memory run that must end with a message and no process left, stop and
resume, NCCL across two GPUs, FP16 against FP32 predictions of a model trained long enough to detect,
inference through the studio's worker process (and no CUDA context left in this process), hydra, ONNX on
CUDA's provider and TensorRT when installed: on an NVIDIA GPU, offline.

Run it through ``benchmarks/gpu_check.sh`` (which installs the wheels ``make gpu-wheels`` put in
``.gpu-wheels/`` where Ultralytics is missing). The whole run has a deadline (``--deadline``, 450 s by
default, under the device machine's 10-minute command limit); each row gets what is left, a row that runs
out is ended with every process it started, and the table is written after every row (``--out``), so a
cut run still leaves its rows. Without CUDA every GPU row says "skipped: no CUDA device" and the script
exits 0. ``--rehearse`` runs every row the CPU can run, small, so the script itself is tested (CI runs it).

    benchmarks/gpu_check.sh [--out gpu_check.md] [--keep DIR] [--rehearse] [--deadline SECONDS]
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
PLAIN_MODEL = ROOT / "resources" / "models" / "yolo11n-demo.yaml"
MODULES = ROOT / "resources" / "modules"

from gpu_check_run import Check, bounded  # noqa: E402  (the table, the deadline, commands in their own session)
def studio(check: Check, *args, budget: float = 240, env: dict | None = None) -> tuple:
    """``yolo-studio ARGS`` in a fresh Python, as a user runs it, within the row's share of the deadline."""
    return bounded([sys.executable, "-m", "yolo_studio", *args], min(budget, check.left() - 20), env=env)


def events(run: Path) -> list:
    from yolo_studio.training.events import read_events

    return read_events(run / "events.jsonl") if (run / "events.jsonl").exists() else []


def of(found: list, kind: str) -> list:
    return [e for e in found if e["type"] == kind]


def kv(values: dict) -> list:
    return [f"{k}={v}" for k, v in values.items()]


def train_args(check: Check, **more) -> dict:
    s = check.settings
    return {"epochs": s["epochs"], "imgsz": s["imgsz"], "batch": 16, "workers": s["workers"], "cache": "ram",
            "plots": False, "device": s["device"], **more}


def weights_files() -> set:
    from ultralytics.utils import WEIGHTS_DIR

    return {p.name for p in Path(WEIGHTS_DIR).glob("*")} | {p.name for p in ROOT.glob("*.pt")}


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
    check.device_name = torch.cuda.get_device_name(0) if cuda else "CPU only"
    order = os.environ.get("CUDA_DEVICE_ORDER")
    check.row("environment", "ok" if offline and not context and len(listed[0]) == len(listed[1]) and
              order == "PCI_BUS_ID" else "FAIL",
              f"torch {torch.__version__}, CUDA {torch.version.cuda}, Ultralytics {ultralytics.__version__}, "
              f"{check.device_name}; offline variables {'set' if offline else 'NOT set'}; CUDA_DEVICE_ORDER {order}; "
              f"{len(listed[0])} GPUs listed through NVML, CUDA context after listing them: "
              f"{'YES' if context else 'none'}")
    return cuda


def train(check: Check) -> None:
    """The custom-block model through ``yolo-studio train``: AMP as the trainer set it and as the checkpoint
    kept it, the device's memory as the CUDA allocator reports it, finite losses, no file downloaded."""
    from yolo_studio.core.model.checkpoints import read_checkpoint

    project = check.work / "project"
    before = weights_files()
    started = time.perf_counter()
    code, out = studio(check, "train", "--model", MODEL, "--modules", MODULES, "--data", check.data, "--project",
                       project, "--name", "amp", *kv(train_args(check, amp=True)))
    seconds = time.perf_counter() - started
    run = project / "runs" / "amp"
    found = events(run)
    setup = (of(found, "train_start") or [{}])[-1]
    epochs = of(found, "epoch_end")
    losses = [v for e in epochs for k, v in e["metrics"].items() if "loss" in k]
    finite = bool(losses) and all(v is not None and math.isfinite(v) for v in losses)
    memory = [e.get("memory_gb") for e in epochs]
    log = (run / "logs" / "train.log").read_text(errors="replace") if (run / "logs" / "train.log").exists() else ""
    amp_lines = [line.strip() for line in log.splitlines() if line.strip().startswith("AMP:")]
    refused_gpu = any("checks failed" in line for line in amp_lines)  # a GPU on Ultralytics' list: AMP off
    scale = read_checkpoint(run / "weights" / "last.pt").amp_scale if (run / "weights" / "last.pt").exists() else None
    downloaded = sorted(weights_files() - before)
    on_gpu = str(setup.get("device", "")).startswith("cuda")
    if check.rehearse:  # the CPU: AMP off, memory is the process's
        amp_ok = setup.get("amp") is False
    elif refused_gpu:
        amp_ok = setup.get("amp") is False and scale is None
    else:
        amp_ok = setup.get("amp") is True and bool(scale) and any("passed" in line or "skipped" in line
                                                                                for line in amp_lines)
    ok = (code == 0 and len(epochs) == check.settings["epochs"] and finite and amp_ok and not downloaded
          and all(memory) and (on_gpu or check.rehearse))
    check.best = run / "weights" / "best.pt" if code == 0 else None
    check.row("yolo-studio train: custom blocks, AMP, workers, cache=ram", "ok" if ok else "FAIL",
              f"device {setup.get('device')}, AMP {setup.get('amp')} (checkpoint's GradScaler scale {scale}; log: "
              f"{'; '.join(amp_lines[-2:]) or 'no AMP line'}), {len(epochs)} epochs, losses finite {finite}, "
              f"memory {memory} GB ({'CUDA allocator, reserved' if on_gpu else 'process RSS'}), files downloaded "
              f"{downloaded or 'none'}, {seconds:.0f} s" + ("" if code == 0 else f"; {out[-300:]}"))
    bundle = check.work / "bundle"
    studio(check, "bundle", MODEL, "--modules", MODULES, "--output", bundle, budget=120)
    started = time.perf_counter()
    args = train_args(check, amp=True)
    code, out = bounded([sys.executable, bundle / "train.py", "--data", check.data, "--epochs", args.pop("epochs"),
                         "--imgsz", args.pop("imgsz"), *kv(args), f"project={check.work / 'plain'}", "name=amp",
                         "exist_ok=True"], min(240, check.left() - 20), cwd=bundle)
    plain = time.perf_counter() - started
    check.row("the same with plain Ultralytics (the bundle's train.py)", "ok" if code == 0 else "FAIL",
              f"{plain:.0f} s; the studio took {seconds / plain:.2f}x its wall time" if code == 0 else out[-400:])


def autobatch(check: Check) -> None:
    """batch=-1: the batch AutoBatch chose (a fallback to its default is a failure, not a pass)."""
    project = check.work / "project"
    code, out = studio(check, "train", "--model", PLAIN_MODEL, "--data", check.data, "--project", project,
                       "--name", "autobatch", *kv(train_args(check, epochs=1, batch=-1, cache=False)))
    run = project / "runs" / "autobatch"
    setup = (of(events(run), "train_start") or [{}])[-1]
    log = (run / "logs" / "train.log").read_text(errors="replace") if (run / "logs" / "train.log").exists() else ""
    said = [line.strip() for line in log.splitlines() if "AutoBatch:" in line]
    fallback = any("default batch-size" in line for line in said)
    ok = code == 0 and setup.get("batch", 0) > 0 and not fallback and any("Using batch-size" in s for s in said)
    check.row("batch=-1 (AutoBatch) on one GPU", "ok" if ok else "FAIL",
              f"chose batch {setup.get('batch')}; log: {said[-1] if said else 'no AutoBatch line'}" +
              ("" if code == 0 else f"; {out[-300:]}"))


def out_of_memory(check: Check) -> None:
    """imgsz 1280, batch 512: recovers, or fails with a message naming a batch that fits; no process is left."""
    from yolo_studio.core.processes import pid_alive
    from yolo_studio.training.events import run_processes, run_status

    project = check.work / "project"
    code, out = studio(check, "train", "--model", PLAIN_MODEL, "--data", check.data, "--project", project,
                       "--name", "oom", *kv(train_args(check, epochs=1, imgsz=1280, batch=512, cache=False)),
                       budget=200)
    found = events(project / "runs" / "oom")
    status = run_status(found, alive=False)
    message = (of(found, "error") or [{}])[-1].get("message", "")
    left = [p for p in run_processes(found) if pid_alive(*p)]
    ok = code is not None and not left and (status == "completed" or ("out of memory" in message and "batch=" in message))
    check.row("out of memory (imgsz 1280, batch 512)", "ok" if ok else "FAIL",
              f"status {status}; message: {message or 'none'}; processes left {len(left)}" +
              ("" if code is not None else "; ran out of time and was ended"))


def stop_and_resume(check: Check) -> None:
    from yolo_studio.training import launch
    from yolo_studio.training.events import read_events, run_status
    from yolo_studio.training.headless import plan_and_check
    from yolo_studio.training.run_folder import prepare_run

    epochs = 3 if check.rehearse else 10  # the stop must land before the last epoch, on a fast GPU too
    plan, resolved, result = plan_and_check(MODEL, check.data, check.work / "project", "stop",
                                            train_args(check, epochs=epochs, batch=8), modules=MODULES)
    if not result.ok:
        check.row("stop mid-epoch, then resume", "FAIL", "; ".join(c.message for c in result.errors))
        return
    run = prepare_run(plan.model, plan.data, plan.runs_dir, plan.name, resolved.overrides, result.task or "detect",
                      plan.modules_dir)
    process = launch.start(run, device=check.device)

    def in_a_later_epoch() -> bool:  # a batch of an epoch after the first one that ended: mid-epoch
        found = read_events(run.events)
        ended, batches = of(found, "epoch_end"), of(found, "batch")
        return process.poll() is not None or bool(ended and batches and batches[-1]["epoch"] > ended[-1]["epoch"])

    _until(in_a_later_epoch, check)
    launch.request_stop(run)
    _wait_or_kill(process, run, check)
    found = read_events(run.events)
    stopped = run_status(found)
    validated = max((e["epoch"] for e in of(found, "epoch_end") if not e.get("partial")), default=0)
    ends = of(found, "run_end")
    best_epoch = ends[-1].get("best_epoch") if ends else None
    process = launch.start(run, resume=True, device=check.device)
    _wait_or_kill(process, run, check)
    found = read_events(run.events)
    final, done = run_status(found), max((e["epoch"] for e in of(found, "epoch_end")), default=0)
    ok = stopped == "stopped" and validated < epochs and final == "completed" and done == epochs and \
        (best_epoch is None or best_epoch <= validated)
    check.row("stop mid-epoch, then resume", "ok" if ok else "FAIL",
              f"stopped after epoch {validated} of {epochs} ({stopped}; best epoch {best_epoch}, a validated one); "
              f"resumed: {final} at epoch {done}")


def _until(predicate, check: Check, limit: float = 240) -> None:
    deadline = time.monotonic() + min(limit, check.left() - 30)
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.2)


def _wait_or_kill(process, run, check: Check) -> None:
    from yolo_studio.training import launch

    try:
        process.wait(timeout=max(min(240, check.left() - 30), 1))
    except subprocess.TimeoutExpired:  # out of time: end every process of the run, never leave a trainer
        launch.kill(run, process.pid)


def nccl(check: Check) -> None:
    """device=0,1 on NCCL: both ranks train, a stop ends both after the same batch."""
    import torch

    if torch.cuda.device_count() < 2:
        check.row("two GPUs on NCCL (device=0,1)", "skipped", f"{torch.cuda.device_count()} GPU: NCCL needs two")
        return
    project = check.work / "project"
    code, out = studio(check, "train", "--model", PLAIN_MODEL, "--data", check.data, "--project", project,
                       "--name", "nccl", *kv(train_args(check, device="0,1", epochs=2, cache=False)), budget=240)
    found = events(project / "runs" / "nccl")
    setup = (of(found, "train_start") or [{}])[-1]
    ranks = [e.get("memory_gb_per_rank") for e in of(found, "epoch_end")]
    ok = code == 0 and setup.get("world_size") == 2 and all(r and len(r) == 2 and all(r) for r in ranks)
    check.row("two GPUs on NCCL (device=0,1)", "ok" if ok else "FAIL",
              f"world size {setup.get('world_size')}, memory per rank {ranks[-1:]}" + ("" if code == 0 else out[-300:]))


def train_long(check: Check) -> None:
    """A model trained long enough to detect: the FP16, predict and hydra rows compare real detections."""
    project = check.work / "project"
    epochs = check.settings["long_epochs"]
    code, out = studio(check, "train", "--model", PLAIN_MODEL, "--data", check.data, "--project", project,
                       "--name", "long", *kv(train_args(check, epochs=epochs, cache="ram")), budget=200)
    run = project / "runs" / "long"
    maps = [e["metrics"].get("metrics/mAP50(B)") for e in of(events(run), "epoch_end")]
    check.detector = run / "weights" / "best.pt" if code == 0 and (run / "weights" / "best.pt").exists() else None
    useful = bool(maps) and max(m or 0 for m in maps) >= (0.0 if check.rehearse else 0.5)
    check.row(f"a detector trained {epochs} epochs (for the rows below)", "ok" if check.detector and useful
              else "FAIL", f"mAP50 by epoch {[round(m or 0, 2) for m in maps]}" + ("" if code == 0 else out[-300:]))


def fp16_against_fp32(check: Check) -> None:
    """half=True against FP32 on the same images: matched boxes IoU >= 0.95, mAP50-95 within 0.002."""
    from ultralytics import YOLO

    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.deploy.export import box_iou

    images = images_in(Path(check.data).parent / "images" / "val")[:32]
    model = YOLO(str(check.detector))
    full = [r.boxes for r in model.predict(images, imgsz=check.settings["imgsz"], device=check.device, verbose=False)]
    half = [r.boxes for r in model.predict(images, imgsz=check.settings["imgsz"], device=check.device, half=True,
                                           verbose=False)]
    ious, unmatched, boxes = [], 0, 0
    for a, b in zip(full, half):
        for box, cls in zip(a.xyxy.tolist(), a.cls.tolist()):
            boxes += 1
            same = [box_iou(box, other) for other, c in zip(b.xyxy.tolist(), b.cls.tolist()) if c == cls]
            if same and max(same) >= 0.5:
                ious.append(max(same))
            else:
                unmatched += 1
    maps = {}
    for half_precision in (False, True):
        metrics = model.val(data=str(check.data), imgsz=check.settings["imgsz"], device=check.device, half=half_precision,
                            batch=16, plots=False, verbose=False)
        maps[half_precision] = float(metrics.box.map)
    worst = min(ious) if ious else 0.0
    ok = boxes > 0 and unmatched == 0 and worst >= 0.95 and abs(maps[True] - maps[False]) <= 0.002
    check.row("FP16 against FP32 predictions", "ok" if ok else "FAIL",
              f"{boxes} boxes on {len(images)} images, unmatched {unmatched}, lowest IoU {worst:.3f}; mAP50-95 "
              f"FP32 {maps[False]:.4f}, FP16 {maps[True]:.4f}")


def studio_inference(check: Check) -> None:
    """The Inference tab's path: on a GPU it runs in the studio's worker process. Same detections as the CPU,
    and no CUDA context left in this (the studio's) process."""
    import torch

    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.deploy.gpu_worker import PREDICT, run_in_child
    from yolo_studio.deploy.predict import predict

    images = [str(p) for p in images_in(Path(check.data).parent / "images" / "val")[:16]]
    weights = check.detector or check.best
    apart = run_in_child(PREDICT, {"model": str(weights), "sources": images, "conf": 0.25, "iou": 0.7,
                                     "imgsz": check.settings["imgsz"], "device": check.device})
    context = torch.cuda.is_initialized()
    here = predict(weights, images, 0.25, 0.7, check.settings["imgsz"], "cpu")
    found = sum(len(r.objects) for r in apart)
    same = _same_detections([r.objects for r in apart], [r.objects for r in here])
    ok = same and not context and (found > 0 or check.rehearse)
    check.row("studio inference on the device (worker process) against the CPU", "ok" if ok else "FAIL",
              f"{len(images)} images, {found} objects, same detections as the CPU: {same}; CUDA context in the "
              f"studio's process afterwards: {'YES' if context else 'none'}")


def hydra(check: Check) -> None:
    project = check.work / "project"
    weights = check.detector or check.best
    code, out = studio(check, "hydra", "extract", "--project", project, "gpu", "shapes", weights, budget=120)
    if code != 0:
        check.row("hydra detect on the device against the CPU", "FAIL", out[-300:])
        return
    from yolo_studio.core.data.dataset_check import images_in

    images = images_in(Path(check.data).parent / "images" / "val")[:8]
    outs = {}
    for device in dict.fromkeys((check.device, "cpu")):
        code, text = studio(check, "hydra", "detect", "--project", project, "gpu", *images, "--device", device,
                            "--json", budget=180)
        outs[device] = [json.loads(line)["objects"] for line in text.splitlines() if line.startswith("{")]
    found = sum(len(o) for o in outs[check.device])
    same = len(outs[check.device]) == len(images) and _same_detections(outs[check.device], outs["cpu"])
    check.row("hydra detect on the device against the CPU", "ok" if same and (found or check.rehearse) else "FAIL",
              f"{len(outs[check.device])} images, {found} objects, same detections: {same}")


HYDRA_TARGET = 2.0  # 12 heads against one model, batch 1, 640 px, on CUDA (issue 17)


def hydra_latency(check: Check) -> None:
    """12 heads at the default split, each on its own and run together, against one model (bench_hydra)."""
    imgsz, rounds = (640, 10) if not check.rehearse else (check.settings["imgsz"], 2)
    code, text = bounded([sys.executable, ROOT / "benchmarks" / "bench_hydra.py", imgsz, "--device",
                          "cpu" if check.rehearse else "cuda", "--splits", "default", "--merged", "--json",
                          "--rounds", rounds], min(240, check.left() - 20))
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    apart = next((r for r in rows if r["kind"] == "latency" and r["heads"] == 12 and r["default"]), None)
    together = next((r for r in rows if r["kind"] == "merged" and r["heads"] == 12), None)
    memory = next((r for r in rows if r["kind"] == "memory" and r["heads"] == 12), None)
    if code != 0 or apart is None or together is None:
        check.row("hydra: 12 heads against one model", "FAIL", text[-400:])
        return
    best = min(apart["ratio"], together["ratio"])
    check.row("hydra: 12 heads against one model", "ok" if best <= HYDRA_TARGET or check.rehearse else "missed",
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


def onnx_export(check: Check) -> None:
    """An ONNX export (FP16 on a GPU) verified output by output; then, where onnxruntime has CUDA's provider,
    the same model on it against the CPU provider."""
    import numpy as np
    import onnxruntime

    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.deploy.export import _letterbox, export, verify_onnx

    weights = check.detector or check.best
    images = images_in(Path(check.data).parent / "images" / "val")[:8]
    out = export(weights, "onnx", imgsz=check.settings["imgsz"], half=not check.rehearse, device=check.device)
    verification = verify_onnx(out, weights, images, check.settings["imgsz"], device=check.device)
    check.row("ONNX export (FP16 on a GPU), every output checked with onnxruntime",
              "ok" if verification.ok else "FAIL", verification.text())
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        check.row("ONNX on CUDA's execution provider", "skipped",
                  "onnxruntime has no CUDA provider here (pip install onnxruntime-gpu)")
        return
    sessions = {p: onnxruntime.InferenceSession(str(out), providers=[p])
                for p in ("CUDAExecutionProvider", "CPUExecutionProvider")}
    feed = sessions["CPUExecutionProvider"].get_inputs()[0]
    tensor = _letterbox(images[0], check.settings["imgsz"]).astype(np.float16 if "16" in feed.type else np.float32)
    outs = {p: s.run(None, {feed.name: tensor})[0] for p, s in sessions.items()}
    used = sessions["CUDAExecutionProvider"].get_providers()[0]
    diff = float(np.abs(outs["CUDAExecutionProvider"].astype(np.float32) -
                        outs["CPUExecutionProvider"].astype(np.float32)).max())
    check.row("ONNX on CUDA's execution provider", "ok" if used == "CUDAExecutionProvider" and diff <= 1.0 else "FAIL",
              f"session ran on {used}; max |diff| against the CPU provider {diff:.3g}")


def tensorrt(check: Check) -> None:
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        check.row("TensorRT engine", "skipped", "tensorrt missing (pip install 'yolo-studio[deploy]' with tensorrt)")
        return
    from ultralytics import YOLO

    from yolo_studio.deploy.export import export

    weights = check.detector or check.best
    engine = export(weights, "engine", imgsz=check.settings["imgsz"], half=True, device=check.device)
    results = YOLO(str(engine)).predict(str(next((Path(check.data).parent / "images" / "val").glob("*.png"))),
                                        imgsz=check.settings["imgsz"], device=check.device, verbose=False)
    check.row("TensorRT engine", "ok" if results and results[0].boxes is not None else "FAIL",
              f"{engine.name}, {len(results[0].boxes)} boxes on one image")


# ---------------------------------------------------------------------------------------------- main

# (what, row, runs on the CPU when rehearsing, needs trained weights)
ROWS = (("yolo-studio train: custom blocks, AMP, workers, cache=ram", train, True, False),
        ("batch=-1 (AutoBatch) on one GPU", autobatch, False, False),
        ("out of memory (imgsz 1280, batch 512)", out_of_memory, False, False),
        ("stop mid-epoch, then resume", stop_and_resume, True, False),
        ("two GPUs on NCCL (device=0,1)", nccl, False, False),
        ("a detector trained long enough (for the rows below)", train_long, True, False),
        ("FP16 against FP32 predictions", fp16_against_fp32, False, True),
        ("studio inference on the device (worker process) against the CPU", studio_inference, True, True),
        ("hydra detect on the device against the CPU", hydra, True, True),
        ("hydra: 12 heads against one model", hydra_latency, True, False),
        ("ONNX export (FP16 on a GPU), every output checked with onnxruntime", onnx_export, True, True),
        ("TensorRT engine", tensorrt, False, True))
MIN_SECONDS = 45  # a row started with less than this left is skipped, said so


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the table to this file (after every row)")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--rehearse", action="store_true",
                        help="without CUDA: run every row the CPU can run, small (tests the script itself)")
    parser.add_argument("--deadline", type=float, default=450, help="seconds for the whole run (default 450)")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    check = Check(work, started + args.deadline, Path(args.out) if args.out else None, args.rehearse)
    cuda = environment(check)
    if cuda or args.rehearse:
        from yolo_studio.core.data.demo_dataset import generate

        train_images, val_images = check.settings["images"]
        check.data = generate(work / "data", train=train_images, val=val_images, imgsz=check.settings["imgsz"])
    for what, row, on_cpu, needs_weights in ROWS:
        if not cuda and not (args.rehearse and on_cpu):
            check.row(what, "skipped", "no CUDA device" if not args.rehearse else "needs a CUDA device")
            continue
        if check.left() < MIN_SECONDS:
            check.row(what, "skipped", f"out of time: the run's deadline is {args.deadline:.0f} s")
            continue
        if needs_weights and check.best is None and check.detector is None:
            check.row(what, "skipped", "no trained weights (the trainings above failed)")
            continue
        try:
            row(check)
        except Exception as exc:  # a row's failure is its result; the next rows still run
            check.row(what, "FAIL", f"{type(exc).__name__}: {str(exc)[:400]}")
    check.row("total", "-", f"{time.monotonic() - started:.0f} s of a {args.deadline:.0f} s deadline")
    print(check.table())
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(result != "FAIL" for _, result, _ in check.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
