"""Starting, stopping and killing the training process of a run folder.

One command line for every way a run starts (studio, ``yolo-studio train``, resume): the runner
module in a fresh Python, its output appended to ``logs/train.log``, in a session of its own so a
Ctrl+C in a terminal or the studio closing does not kill it. Several CUDA devices run under
PyTorch's distributed launcher (``torch.distributed.run``) on a free local port, one runner per
device; rank 0 writes the events (any rank writes its own error).

The launcher starts every rank in a session of its own, so ending the launcher's process group
would leave the ranks training: ``kill`` ends the whole process tree, then records it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from yolo_studio.core.devices import requested_gpus
from yolo_studio.training.events import append_event, read_events, run_processes
from yolo_studio.training.run_folder import RunFolder

RUNNER = "yolo_studio.training.runner"


def runner_command(run: RunFolder, resume: bool = False, device=None, python: str = sys.executable,
                   master_port: int | None = None) -> list:
    """The argv that trains ``run``: the runner alone, or under torch.distributed.run for 2+ GPUs (on
    ``master_port``, by default a free one: a second multi-GPU run at the same time needs its own)."""
    tail = [str(run.path)] + (["--resume"] if resume else [])
    gpus = requested_gpus(device)
    if len(gpus) < 2:
        return [python, "-m", RUNNER, *tail]
    return [python, "-m", "torch.distributed.run", f"--nproc_per_node={len(gpus)}", "--nnodes=1",
            "--master_addr=127.0.0.1", f"--master_port={master_port or free_port()}", "-m", RUNNER, *tail]


def free_port() -> int:
    """A TCP port free on this machine now (the system picks it), as Ultralytics' own DDP launch does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(run: RunFolder, resume: bool = False, device=None, env: dict | None = None) -> subprocess.Popen:
    """Start the training process for ``run``; its output goes to logs/train.log."""
    run.log.parent.mkdir(parents=True, exist_ok=True)
    run.clear_stop()
    log = open(run.log, "ab")
    # CUDA_VISIBLE_DEVICES is left as it is: device indices are torch's, under whatever restriction the
    # studio itself runs with, and each rank pins its own device (Ultralytics' _setup_ddp)
    # CUDA_DEVICE_ORDER=PCI_BUS_ID (the order the studio lists GPUs in) is in os.environ: core/offline.py
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
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


def kill(run: RunFolder, pid: int, started: float | None = None, timeout: float = 15.0) -> None:
    """Hard stop: kill the process, every process under it (torch's launcher starts each rank in a session
    of its own) and every rank the run recorded (one whose launcher died is under no one), wait until they
    have ended, then record it in the events. With ``started`` (its start time), a process that now has
    that pid but started at another time is someone else's: it is left alone, and when none of the run's
    processes lives nothing is recorded (the run had already ended)."""
    from yolo_studio.core.processes import pid_alive

    ranks = [p for p in run_processes(read_events(run.events)) if pid_alive(*p)]
    if not (pid_alive(pid, started) or ranks):
        return
    end_processes([(pid, started)] + ranks, timeout)
    append_event(run.events, "killed", pid=pid)


def end_processes(identities: list, timeout: float = 15.0) -> None:
    """Kill each (pid, start time) still alive and its descendants, and wait until all have ended (a zombie
    counts as ended: the parent that would reap it may be the caller, waiting here)."""
    import time

    import psutil

    from yolo_studio.core.processes import pid_alive

    processes = []
    for pid, started in identities:
        if pid_alive(pid, started):
            processes += _tree(pid)  # found before any dies: an orphaned rank has no launcher as parent
    for process in processes:
        with _gone():
            process.kill()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for process in processes:
            with _gone():
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
        if not alive:
            return
        time.sleep(0.05)


def _tree(pid: int) -> list:
    """The process ``pid`` and its descendants, deepest first (none if it has ended)."""
    import psutil

    with _gone():
        root = psutil.Process(pid)
        return [*reversed(root.children(recursive=True)), root]
    return []


def _gone():
    import contextlib

    import psutil

    return contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied)


def current_process(run: RunFolder) -> tuple:
    """(pid, start time) of the process training the run, from its events (``events.training_process``)."""
    from yolo_studio.training.events import read_events, training_process

    return training_process(read_events(run.events))


def resume_device(run: RunFolder):
    return run.spec().get("overrides", {}).get("device")

