"""A process is known by its pid and its start time: a pid the system gave again to another process
does not make a dead run look alive, nor a crashed studio's autosave look in use."""

import os
import subprocess
import sys

from yolo_studio.core.processes import pid_alive, started_at, this_process
from yolo_studio.core.project.recovery import RecoveryArea
from yolo_studio.training import launch
from yolo_studio.training.events import read_events, run_status
from yolo_studio.training.run_folder import RunFolder


def test_a_pid_with_another_start_time_is_another_process():
    me = this_process()
    assert me["pid"] == os.getpid() and pid_alive(me["pid"], me["started"])
    assert pid_alive(me["pid"])  # an old record without a start time: the pid alone, as before
    assert not pid_alive(me["pid"], me["started"] - 3600)  # the same number, an hour earlier: not us
    assert started_at(None) is None and not pid_alive(None)


def test_run_status_is_pure_given_whether_the_process_lives_and_a_reused_pid_is_not_alive():
    me = this_process()
    start = {"type": "run_start", "pid": me["pid"], "started": me["started"]}
    assert run_status([start], alive=True) == "running" and run_status([start], alive=False) == "crashed"
    assert run_status([start]) == "running"  # asked of the system: this very process
    reused = {**start, "started": me["started"] - 3600}  # a run that died, its pid given to this process since
    assert run_status([reused]) == "crashed"


def test_kill_leaves_a_process_that_only_shares_the_pid_alone(tmp_path):
    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        launch.kill(run, stranger.pid, started_at(stranger.pid) - 3600)  # the run's process was another
        assert stranger.poll() is None and read_events(run.events) == []
        launch.kill(run, stranger.pid, started_at(stranger.pid))
        assert stranger.wait(timeout=10) is not None
        assert [e["type"] for e in read_events(run.events)] == ["killed"]
    finally:
        stranger.kill()


def test_an_autosave_of_a_crashed_studio_whose_pid_is_reused_is_offered_back(tmp_path):
    area = RecoveryArea(tmp_path)
    area.save("mine", "model", None, "nc: 1\n")
    assert area.orphaned() == []  # this studio's own work is not a crash's leftover
    record = (tmp_path / "mine.json").read_text().replace(f'"started": {this_process()["started"]}',
                                                          f'"started": {this_process()["started"] - 3600}')
    (tmp_path / "mine.json").write_text(record)
    assert [e.key for e in area.orphaned()] == ["mine"]
