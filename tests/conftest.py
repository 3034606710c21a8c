"""Test-wide setup: offscreen Qt, a private studio home, and no network.

The network guard is a Python audit hook: any socket connection or name lookup for a host
other than loopback raises, so a test that would download something fails loudly instead.
Subprocesses started by tests get the same guard through ``tests/network_guard.py``.
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = Path(tempfile.mkdtemp(prefix="yolo-studio-test-home-"))
os.environ["YOLO_STUDIO_HOME"] = str(_HOME)  # each test then gets its own (fresh_studio_home below)
os.environ["YOLO_STUDIO_SESSION_HOME"] = str(_HOME)  # where the import-time offline setup put its folders
os.environ["YOLO_STUDIO_CACHE"] = str(_HOME / "cache")  # block check results: shared, they depend on content only
os.environ.pop("YOLO_CONFIG_DIR", None)  # the studio sets its own under the home above

sys.path.insert(0, str(Path(__file__).parent))
import network_guard  # noqa: E402

network_guard.install()

import pytest  # noqa: E402

import yolo_studio  # noqa: E402,F401  (applies the offline environment)

@pytest.fixture(autouse=True)
def fresh_studio_home(tmp_path, monkeypatch):
    """A studio home of its own for every test: settings, recent files, trusted folders and autosaves
    never pass from one test to the next. (Ultralytics' config folder stays the session's: Ultralytics
    reads it once, at import.)"""
    monkeypatch.setenv("YOLO_STUDIO_HOME", str(tmp_path / "studio-home"))


@pytest.fixture
def resources() -> Path:
    return Path(__file__).resolve().parent.parent / "resources"


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A generated detection dataset small enough for 1-2 epoch trainings at imgsz 64."""
    from yolo_studio.core.data.demo_dataset import generate

    return generate(tmp_path_factory.mktemp("shapes"), train=16, val=8, imgsz=64)



@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, tiny_dataset):
    """A project with one completed 2-epoch run, 'tiny', of the demo model with the example custom blocks.

    Shared by the deploy and UI tests (one training for all of them); a test that changes the project
    uses names of its own (registry names, copied runs), never 'tiny' itself.
    """
    from helpers import TINY_RUN, run_cli
    from yolo_studio.core.project.projects import open_project

    resources = Path(__file__).resolve().parent.parent / "resources"
    project = tmp_path_factory.mktemp("trained") / "project"
    done = run_cli("train", "--model", resources / "models" / "yolo11n-se.yaml", "--data", tiny_dataset,
                   "--modules", resources / "modules", "--project", project, "--name", "tiny",
                   *(f"{k}={v}" for k, v in TINY_RUN.items()))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return open_project(project)


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory):
    """A real Ray cluster on 127.0.0.1: a head with no CPUs and a worker node with 2, so every job that
    reserves a CPU runs on a node that is not the head, as on a lab's cluster (``training.local_cluster``:
    usage statistics off, sessions of their own, ended by their own process groups, never a machine-wide
    ``ray stop``); yields its Jobs address. Skipped without the cluster extra."""
    pytest.importorskip("ray", reason="the cluster extra (pip install 'yolo-studio[cluster]') is not installed")
    from yolo_studio.training.local_cluster import LocalCluster

    with LocalCluster(cpus=0, workers=1, worker_cpus=2, log_dir=tmp_path_factory.mktemp("ray")) as cluster:
        yield cluster.address
