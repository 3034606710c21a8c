"""Starting, stopping and killing the training process of a run folder.

One command line for every way a run starts (studio, ``yolo-studio train``, resume): the runner
module in a fresh Python, its output appended to ``logs/train.log``, in a session of its own so a
Ctrl+C in a terminal or the studio closing does not kill it. Several CUDA devices run under
PyTorch's distributed launcher (``torch.distributed.run``), one runner per device; rank 0 writes
the events. For several machines, start the same command on each with ``--nnodes``,
``--node_rank`` and ``--master_addr`` (``distributed_command``'s ``nodes`` arguments).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from yolo_studio.core.preflight import requested_gpus
from yolo_studio.training.events import append_event, pid_alive
from yolo_studio.training.run_folder import RunFolder

RUNNER = "yolo_studio.training.runner"


def runner_command(run: RunFolder, resume: bool = False, device=None, python: str = sys.executable,
                   nnodes: int = 1, node_rank: int = 0, master_addr: str = "127.0.0.1",
                   master_port: int = 29500) -> list:
    """The argv that trains ``run``: the runner alone, or under torch.distributed.run for 2+ GPUs."""
    tail = [str(run.path)] + (["--resume"] if resume else [])
    gpus = requested_gpus(device)
    if len(gpus) < 2 and nnodes == 1:
        return [python, "-m", RUNNER, *tail]
    return [python, "-m", "torch.distributed.run", f"--nproc_per_node={len(gpus)}", f"--nnodes={nnodes}",
            f"--node_rank={node_rank}", f"--master_addr={master_addr}", f"--master_port={master_port}",
            "-m", RUNNER, *tail]


def start(run: RunFolder, resume: bool = False, device=None, env: dict | None = None) -> subprocess.Popen:
    """Start the training process for ``run``; its output goes to logs/train.log."""
    run.log.parent.mkdir(parents=True, exist_ok=True)
    run.clear_stop()
    log = open(run.log, "ab")
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    if device is not None and len(requested_gpus(device)) >= 2:
        environment["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, requested_gpus(device)))
    kwargs = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else \
        {"start_new_session": True}
    try:
        return subprocess.Popen(runner_command(run, resume, device), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=environment, **kwargs)
    finally:
        log.close()  # the child holds its own handle


def request_stop(run: RunFolder) -> None:
    """Graceful: the runner sees control/stop after the current batch, validates, saves and ends."""
    run.request_stop()


def kill(run: RunFolder, pid: int) -> None:
    """Hard stop: kill the process (and its DDP workers) and record it in the events."""
    if pid_alive(pid):
        try:
            if os.name == "nt":
                os.kill(pid, signal.SIGTERM)
            else:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    append_event(run.events, "killed", pid=pid)


def current_pid(run: RunFolder) -> int | None:
    """The pid of the run's latest start, from its events."""
    from yolo_studio.training.events import read_events

    starts = [e for e in read_events(run.events) if e["type"] == "run_start"]
    return starts[-1].get("pid") if starts else None


def resume_device(run: RunFolder):
    return run.spec().get("overrides", {}).get("device")

