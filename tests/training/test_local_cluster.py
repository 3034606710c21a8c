"""``LocalCluster``: a second cluster on the same computer keeps its jobs to itself."""

import time

import pytest

pytest.importorskip("ray", reason="the cluster extra (pip install 'yolo-studio[cluster]') is not installed")

from ray.job_submission import JobStatus, JobSubmissionClient  # noqa: E402

from yolo_studio.training.local_cluster import LocalCluster  # noqa: E402

PRINT_ADDRESS = "python -c \"import os; print('joins', os.environ['RAY_ADDRESS'])\""


def _port(address: str) -> str:
    return address.rsplit(":", 1)[1]


def _joined_port(address: str) -> str:
    client = JobSubmissionClient(address)
    job = client.submit_job(entrypoint=PRINT_ADDRESS, entrypoint_num_cpus=0,
                            runtime_env={"env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}})
    deadline = time.monotonic() + 120
    while client.get_job_status(job) not in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
        assert time.monotonic() < deadline, "the one-line job did not end"
        time.sleep(0.5)
    logs = client.get_job_logs(job)
    return _port(next(line.split()[1] for line in logs.splitlines() if line.startswith("joins ")))


def test_a_job_joins_its_own_cluster_when_another_started_later(ray_head):
    """Ray's default temp folder is shared: its ``ray_current_cluster`` names the cluster started last, and
    a job's driver (``RAY_ADDRESS=auto``) joined that one: a graceful stop was written to one cluster and
    read from the other. Each LocalCluster has a temp folder of its own."""
    with LocalCluster(cpus=1) as later:
        assert _joined_port(later.address) == _port(later.gcs_address)
        assert _joined_port(ray_head) != _port(later.gcs_address)
    assert later.temp_dir is None  # removed with its nodes


def test_the_command_ends_every_node_when_it_is_ended():
    """``python -m yolo_studio.training.local_cluster``: the address, then SIGTERM (or Ctrl+C) ends the nodes
    too, which run in sessions of their own (found by hand: a script's end left them running)."""
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    command = subprocess.Popen([sys.executable, "-m", "yolo_studio.training.local_cluster", "--cpus", "1"],
                               stdout=subprocess.PIPE, text=True)
    line = command.stdout.readline()
    assert line.startswith("Ray Jobs address: http://127.0.0.1:"), line
    address = line.split()[3]
    with urllib.request.urlopen(f"{address}/api/version", timeout=30) as answer:
        assert answer.status == 200
    command.send_signal(signal.SIGTERM)
    assert command.wait(timeout=60) == 0
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"{address}/api/version", timeout=5)
