"""Several ranks on one machine, as the studio launches several GPUs, reproduced on the CPU: two ranks
of ``tests/training/ddp_rank.py`` under the real ``torch.distributed.run`` on the gloo backend."""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psutil

from yolo_studio.training import launch
from yolo_studio.training.events import read_events
from yolo_studio.training.run_folder import RunFolder

RANK_SCRIPT = Path(__file__).with_name("ddp_rank.py")


def _start(run: RunFolder, *extra) -> subprocess.Popen:
    """As ``launch.start`` does: the launcher in a session of its own, on a free port."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
               "--master_addr=127.0.0.1", f"--master_port={launch.free_port()}", str(RANK_SCRIPT), str(run.path),
               *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _rank_pids(run: RunFolder, timeout: float = 90) -> list:
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = sorted((run.path / "pids").glob("*")) if (run.path / "pids").is_dir() else []
        if len(pids) == 2 and all(p.read_text() for p in pids):
            return [int(p.read_text()) for p in pids]
        time.sleep(0.2)
    raise AssertionError("the two ranks did not start")


def test_a_stop_requested_at_any_moment_stops_every_rank_after_the_same_batch(tmp_path):
    """Rank 0 decides and tells the others in the same batch. Ranks reading the stop file alone stopped a
    batch apart and waited for each other (here until gloo's 20 s timeout; on GPUs NCCL's 3 hours): 3 of
    5 such stops hung before the fix."""
    for attempt in range(4):
        run = RunFolder(tmp_path / f"r{attempt}")
        run.path.mkdir()
        launcher = _start(run)
        _rank_pids(run)
        time.sleep(random.uniform(0.5, 2.0))
        run.request_stop()
        out, _ = launcher.communicate(timeout=60)
        assert launcher.returncode == 0, out[-3000:]
        batches = {line.rsplit(" ", 1)[1] for line in out.splitlines() if "stopped after batch" in line}
        assert len(batches) == 1, out[-3000:]  # both ranks, the same batch
    epoch = [e for e in read_events(run.events) if e["type"] == "epoch_end"][-1]
    assert len(epoch["memory_gb_per_rank"]) == 2 and all(m > 0 for m in epoch["memory_gb_per_rank"])


def test_kill_ends_every_rank_before_it_is_recorded(tmp_path):
    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    launcher = _start(run, "--forever")
    ranks = _rank_pids(run)
    assert all(psutil.Process(pid).ppid() == launcher.pid for pid in ranks)
    assert all(os.getsid(pid) == pid for pid in ranks)  # each rank leads a session of its own
    launch.kill(run, launcher.pid)
    assert not [pid for pid in ranks if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert [e["type"] for e in read_events(run.events)][-1] == "killed"
    launcher.wait(timeout=10)


def test_a_launcher_that_dies_by_itself_leaves_no_rank_training(tmp_path, qtbot):
    """After a SIGKILL of torch's launcher both ranks trained on unseen (the status said crashed, Kill did
    nothing, Resume was offered): every rank is on record, and the supervisor ends them."""
    import signal

    from yolo_studio.training.events import run_processes
    from yolo_studio.workers.training import RunSupervisor

    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    launcher = _start(run, "--forever")
    ranks = _rank_pids(run)
    qtbot.waitUntil(lambda: len(run_processes(read_events(run.events))) == 3, timeout=30_000)  # launcher + 2 ranks
    supervisor = RunSupervisor(run, launcher)
    ended = []
    supervisor.ended.connect(ended.append)
    supervisor.start()
    os.kill(launcher.pid, signal.SIGKILL)  # the launcher dies by itself
    qtbot.waitUntil(lambda: bool(ended), timeout=60_000)
    supervisor.wait()
    assert not [pid for pid in ranks if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert ended == ["crashed"]


def test_kill_returns_at_once_and_the_run_ends_killed(tmp_path, qtbot):
    """Kill waited on the UI thread for every process to end (up to 15 s)."""
    from yolo_studio.workers.training import RunSupervisor

    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    launcher = _start(run, "--forever")
    ranks = _rank_pids(run)
    qtbot.waitUntil(lambda: any(e["type"] == "run_start" for e in read_events(run.events)), timeout=30_000)
    supervisor = RunSupervisor(run, launcher)
    ended = []
    supervisor.ended.connect(ended.append)
    supervisor.start()
    started = time.perf_counter()
    supervisor.kill()
    assert time.perf_counter() - started < 0.5
    qtbot.waitUntil(lambda: bool(ended), timeout=60_000)
    supervisor.wait()
    assert ended == ["killed"]
    assert not [pid for pid in ranks if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
