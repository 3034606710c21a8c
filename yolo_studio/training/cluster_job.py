"""The entrypoint of a cluster job: trains a run package on a Ray node and streams it back.

``training.cluster`` submits a run package as the job's working directory (``runtime_env``)::

    job.json                 what the studio decided: job id, GPUs, resume, where the dataset is
    run/                     the run folder: artifacts/ (run.yaml, the model YAML, block files), weights/ to resume
    data.yaml, data/         the dataset YAML for the nodes; the dataset itself when uploaded
    yolo_studio/             the studio's training code: runner, events, compat (nothing else is installed
                             on the node besides Ray, PyTorch and Ultralytics)

``python -m yolo_studio.training.cluster_job`` runs the same runner as a local run (``training.launch``,
under torch's launcher for several GPUs) and prints the run to its output, which Ray keeps as the job's
log: the runner's output as it is, and between it lines that start with ``MARK``: ``hello`` (where the run
folder is on the node), ``event`` (each line of events.jsonl), ``file`` (a file of the run folder, base64
in parts: results.csv and plots when they change, checkpoints when they change and at most every
``CHECKPOINT_EVERY_S``, all at the end) and ``end`` (the runner's exit code). The studio's follower
rebuilds the run folder from that log, so no storage has to be shared.

Stop: the studio's stop request (a one-line job) writes ``stop_key`` in the cluster's key-value store;
this process polls it and then asks the runner to stop after the batch, as a local stop does. Ray's ``stop_job``
(the studio's second press) ends every process of the job at once.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

MARK = "@@yolo-studio@@ "  # starts the studio's own lines in the job log (a runner line never does)
PART_BYTES = 48 * 1024  # raw bytes per ``file`` line (64 KiB of base64)
CHECKPOINT_EVERY_S = float(os.environ.get("YOLO_STUDIO_CHECKPOINT_EVERY_S", "300"))
POLL_S = 0.5
STREAMED = ("results.csv", "args.yaml", "*.png", "*.jpg", "weights/*.pt")  # a tuning's results: from its events
NAMESPACE = "yolo-studio"
ON_CLUSTER = "YOLO_STUDIO_JOB_PACKAGE"  # set for the runner: it is a cluster job's, in this package


_OUT = threading.Lock()  # the runner's lines and ours, each whole


def emit(line: str) -> None:
    with _OUT:
        sys.stdout.write(line)
        sys.stdout.flush()


def say(kind: str, payload) -> None:
    emit(f"{MARK}{kind} {json.dumps(payload)}\n")


class Streamer:
    """Sends what is new in the run folder: events line by line, files when they change."""

    def __init__(self, run: Path):
        self.run, self.events_offset, self.partial = run, 0, b""
        self.sent: dict = {}  # relative path -> (size, mtime) sent
        self.checkpoint_sent = 0.0

    def events(self) -> None:
        try:
            with open(self.run / "events.jsonl", "rb") as f:
                f.seek(self.events_offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.events_offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        for line in lines:
            try:
                say("event", json.loads(line))
            except ValueError:
                continue

    def files(self, final: bool = False) -> None:
        checkpoints_due = final or time.monotonic() - self.checkpoint_sent >= CHECKPOINT_EVERY_S
        for pattern in STREAMED:
            for path in sorted(self.run.glob(pattern)):
                rel = path.relative_to(self.run).as_posix()
                is_checkpoint = path.suffix == ".pt"
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                if self.sent.get(rel) == (stat.st_size, stat.st_mtime) or (is_checkpoint and not checkpoints_due):
                    continue
                if not final and time.time() - stat.st_mtime < 1.0:  # still being written
                    continue
                self.send(path, rel)
                self.sent[rel] = (stat.st_size, stat.st_mtime)
                if is_checkpoint:
                    self.checkpoint_sent = time.monotonic()

    def send(self, path: Path, rel: str) -> None:
        data = path.read_bytes()
        parts = max(1, -(-len(data) // PART_BYTES))
        for i in range(parts):
            chunk = data[i * PART_BYTES:(i + 1) * PART_BYTES]
            say("file", {"path": rel, "part": i, "parts": parts, "size": len(data),
                         "data": base64.b64encode(chunk).decode("ascii")})


def stop_key(job_id: str) -> str:
    """Where the studio's stop request is written in the cluster's key-value store (Ray's GCS)."""
    return f"stop/{job_id}"


def connect() -> bool:
    """Join the cluster as this job's driver, to read the stop request; False where Ray cannot (the run goes
    on; only the graceful stop is unavailable, and the log says so)."""
    try:
        import logging

        import ray

        ray.init(namespace=NAMESPACE, log_to_driver=False, logging_level=logging.ERROR)
        return True
    except Exception as exc:  # noqa: BLE001
        print(f"yolo-studio: graceful stop unavailable on this cluster ({type(exc).__name__}: {exc}); "
              "stopping the job ends it at once", flush=True)
        return False


def watch_stop_flag(job_id: str, run: Path, done: threading.Event) -> None:
    """Poll the stop request; one asks the runner to stop after the batch, as a local stop does. The
    request lives in the cluster's own store (no actor that could be missing or gone)."""
    from ray.experimental import internal_kv

    while not done.wait(1.0):
        try:
            requested = internal_kv._internal_kv_get(stop_key(job_id), namespace=NAMESPACE)
        except Exception:  # noqa: BLE001  (asked again in a second)
            continue
        if requested:
            (run / "control").mkdir(exist_ok=True)
            (run / "control" / "stop").write_text("stop\n")
            emit("yolo-studio: stop requested: stopping after this batch\n")
            return


def read_job(here: Path) -> dict:
    """``job.json`` of the package ``here``: what the studio decided for this job."""
    return json.loads((here / "job.json").read_text(encoding="utf-8"))


def node_data(here: Path) -> str:
    """The dataset as this node sees it: the YAML the studio rewrote for the nodes (with the uploaded
    dataset's folder on this node), or a classification folder (uploaded, or the mapped path)."""
    import yaml

    job = read_job(here)
    data = job["data"]
    if data["kind"] != "yaml":
        return str(here / "data") if data["uploaded"] else data["node_root"]
    if not data["uploaded"]:
        return str(here / data["yaml"])
    target = here / "data.node.yaml"  # the same on every call on this node: written once, atomically
    if not target.exists():
        content = yaml.safe_load((here / data["yaml"]).read_text(encoding="utf-8"))
        content["path"] = str(here / "data")
        tmp = target.with_name(f"{target.name}.{os.getpid()}")
        tmp.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        os.replace(tmp, target)
    return str(target)


def prepare(job: dict, here: Path) -> Path:
    """Point the run at the node's paths: the dataset (uploaded or mapped), the device, the weights."""
    import yaml

    run = here / "run"
    spec_file = run / "artifacts" / "run.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec["data"] = node_data(here)
    gpus = int(job.get("gpus") or 0)
    spec.setdefault("overrides", {})["device"] = ",".join(str(i) for i in range(gpus)) if gpus else "cpu"
    spec["weights"] = str(here / job["weights"]) if job.get("weights") else None
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return run  # a resumed checkpoint names the studio's paths: the runner resumes with this data and folder


def main() -> int:
    here = Path.cwd()
    job = read_job(here)
    os.environ.setdefault("YOLO_STUDIO_HOME", str(here / ".studio-home"))
    import yolo_studio  # noqa: F401  (offline environment on the node too)
    from yolo_studio.training.launch import runner_command
    from yolo_studio.training.run_folder import RunFolder

    run = prepare(job, here)
    say("hello", {"run_dir": str(run), "host": os.uname().nodename if hasattr(os, "uname") else "",
                  "python": sys.version.split()[0]})
    done = threading.Event()
    if connect():
        threading.Thread(target=watch_stop_flag, args=(job["job_id"], run, done), daemon=True).start()
    streamer = Streamer(run)
    gpus = int(job.get("gpus") or 0)  # Ray gives the job its GPUs as 0..N-1; 2+ run under torch's launcher
    command = runner_command(RunFolder(run), bool(job.get("resume")), ",".join(map(str, range(gpus))) or "cpu")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", ON_CLUSTER: here.as_posix()}
    if env.get("OMP_NUM_THREADS") == "1" and not job.get("tune"):
        # Ray sets one thread for the one CPU the job reserves to be scheduled; a training uses the node's
        # cores as it does on a workstation (PyTorch's own default), or it runs twice as slow on two
        env.pop("OMP_NUM_THREADS")
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env)
    signal.signal(signal.SIGTERM, lambda *_: child.kill())  # Ray's stop_job: end at once

    def pump():
        for line in iter(child.stdout.readline, b""):
            text = line.decode("utf-8", "replace")
            emit(" " + text if text.startswith(MARK.strip()) else text)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    while child.poll() is None:
        streamer.events()
        streamer.files()
        time.sleep(POLL_S)
    reader.join(timeout=10)
    done.set()
    streamer.events()
    streamer.files(final=True)
    say("end", {"code": child.returncode})
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
