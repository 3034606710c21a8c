"""A Ray cluster on this computer only: a head and optional worker nodes on 127.0.0.1.

For trying cluster runs without a lab, for the test suite and for ``benchmarks/bench_cluster.py``.
Every node is ``ray start --block`` in a session of its own, with usage statistics off, every port
chosen free and a Ray temp folder of its own (so a Ray the user runs is left alone), and is ended by its
own process group, never by a machine-wide ``ray stop``. The nodes run jobs with this Python (its PyTorch and Ultralytics).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Each node's shared-memory object store; Ray's default (30 % of the memory, per node) for three nodes on one
# machine left too little for a training to load PyTorch. The studio's jobs pass only small objects.
OBJECT_STORE = 256 * 2**20
AGENT_PORTS = ("dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port",
               "runtime-env-agent-port")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """``LocalCluster(cpus=2).start()``; ``address`` is its Jobs API; ``stop()`` ends every node."""

    def __init__(self, cpus: int = 2, workers: int = 0, worker_cpus: int = 1, log_dir: str | Path | None = None):
        self.cpus, self.workers, self.worker_cpus = cpus, workers, worker_cpus
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="yolo-studio-ray-"))
        self.nodes: list = []
        self.address = ""  # the Jobs API (dashboard)
        self.gcs_address = ""  # what drivers and nodes join
        self.temp_dir: Path | None = None

    def _private_temp_dir(self) -> Path:
        """Ray temp folders of this cluster's own, one per node (``_share_logs``). Clusters sharing Ray's
        default one take their jobs' address from its ``ray_current_cluster`` file, which the cluster started
        last overwrites: a job's driver then joins the other cluster (its stop request read from the wrong
        store). Short, for Ray's socket paths."""
        short = "/tmp" if os.name == "posix" and os.path.isdir("/tmp") else None
        return Path(tempfile.mkdtemp(prefix="ysray-", dir=short))

    def _start_node(self, name: str, arguments: list) -> subprocess.Popen:
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        env.pop("YOLO_STUDIO_HOME", None)  # jobs make their own in their working directory
        ports = [f"--{port}={free_port()}" for port in AGENT_PORTS]
        log = open(self.log_dir / f"{name}.log", "w")
        try:
            return subprocess.Popen([str(bin_dir / "ray"), "start", "--block", "--disable-usage-stats",
                                     "--node-ip-address=127.0.0.1", f"--object-store-memory={OBJECT_STORE}",
                                     f"--temp-dir={self.temp_dir / name}", *ports,
                                     *arguments], stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True)
        finally:
            log.close()

    def start(self, timeout: float = 120.0) -> LocalCluster:
        gcs, dashboard = free_port(), free_port()
        self.temp_dir = self._private_temp_dir()
        atexit.register(self.stop)  # nodes run in sessions of their own: never left behind by this process
        self.nodes.append(self._start_node("head", [
            "--head", f"--port={gcs}", "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
            f"--ray-client-server-port={free_port()}", f"--num-cpus={self.cpus}", "--num-gpus=0",
            "--include-dashboard=true"]))
        self.address, self.gcs_address = f"http://127.0.0.1:{dashboard}", f"127.0.0.1:{gcs}"
        self._wait_for_nodes(1, timeout)
        for i in range(self.workers):  # one at a time: three nodes starting at once overload two cores
            self._share_logs(f"worker-{i + 1}")
            self.nodes.append(self._start_node(f"worker-{i + 1}", [
                f"--address=127.0.0.1:{gcs}", f"--num-cpus={self.worker_cpus}", "--num-gpus=0"]))
            self._wait_for_nodes(i + 2, timeout)
        return self

    def _share_logs(self, name: str) -> None:
        """A worker node's log folder is the head's. The nodes' other files stay apart (on one computer,
        nodes sharing them delete a job's working directory under it), but a node's agent reads a job's
        log where the head's path says, as on separate computers where that path is the node's own."""
        session = (self.temp_dir / "head" / "session_latest").resolve()
        node_session = self.temp_dir / name / session.name
        node_session.mkdir(parents=True)
        (node_session / "logs").symlink_to(session / "logs", target_is_directory=True)

    def _wait_for_nodes(self, count: int, timeout: float) -> None:
        from yolo_studio.training import cluster

        deadline = time.monotonic() + timeout
        while True:
            try:
                if len(cluster.describe(cluster.Cluster("local", self.address))["nodes"]) >= count:
                    return
            except ValueError:
                pass
            if time.monotonic() > deadline or any(node.poll() is not None for node in self.nodes):
                names = ["head", *(f"worker-{i + 1}" for i in range(len(self.nodes) - 1))]
                logs = "".join((self.log_dir / f"{name}.log").read_text()[-1500:] for name in names)
                self.stop()
                raise RuntimeError(f"the local Ray cluster did not start:\n{logs}")
            time.sleep(1.0)

    def stop(self) -> None:
        """End every node's process group: asked first, then killed."""
        for node in reversed(self.nodes):
            _signal_group(node.pid, signal.SIGTERM)
        for node in reversed(self.nodes):
            try:
                node.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(node.pid, signal.SIGKILL)
            node.wait()
        self.nodes = []
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def _signal_group(pgid: int, sig) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def main(argv=None) -> int:
    """``python -m yolo_studio.training.local_cluster [--cpus N] [--workers N] [--worker-cpus N]``: start a
    cluster, print its address, keep it until Ctrl+C (or SIGTERM), then end every node."""
    parser = argparse.ArgumentParser(prog="python -m yolo_studio.training.local_cluster",
                                     description="A Ray cluster on this computer only, for trying cluster runs.")
    parser.add_argument("--cpus", type=int, default=2, help="the head's CPUs (0: jobs run on the workers)")
    parser.add_argument("--workers", type=int, default=0, help="worker nodes")
    parser.add_argument("--worker-cpus", type=int, default=1, help="CPUs of each worker node")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # ends through stop(), as Ctrl+C does
    cluster = LocalCluster(args.cpus, args.workers, args.worker_cpus)
    try:
        cluster.start()
        print(f"Ray Jobs address: {cluster.address} (Settings > Clusters; Ctrl+C ends the cluster)", flush=True)
        while all(node.poll() is None for node in cluster.nodes):
            time.sleep(1.0)
        print("a node ended: stopping the cluster", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
