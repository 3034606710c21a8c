"""A finished run stays finished; Resume only continues a checkpoint that can resume; best.pt is only ever
validated weights. Real tiny trainings, killed at each phase boundary of their end (the runner waits there
when YOLO_STUDIO_PAUSE_AT names the phase)."""

import time

import pytest

from helpers import TINY_RUN
from yolo_studio.training import headless, launch
from yolo_studio.training.events import read_events, run_status
from yolo_studio.training.run_folder import prepare_run

MODEL = "yolo11n-demo.yaml"


def _run(tmp_path, tiny_dataset, resources, name, **overrides):
    return prepare_run(resources / "models" / MODEL, tiny_dataset, tmp_path / "runs", name,
                       {**TINY_RUN, **overrides})


def _wait_for(predicate, timeout=240, what="the run"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not get there in {timeout} s")


def _start_paused(run, phase):
    process = launch.start(run, env={"YOLO_STUDIO_PAUSE_AT": phase})
    _wait_for(lambda: (run.path / "control" / f"paused-{phase}").exists() or process.poll() is not None,
              what=f"the pause at {phase}")
    assert process.poll() is None, run.log.read_text()[-3000:]
    return process


def _kill(run, process):
    pid, started = launch.current_process(run)
    launch.kill(run, pid, started)
    process.wait(timeout=30)


def test_killed_after_the_last_batch_the_run_resumes_and_completes(tmp_path, tiny_dataset, resources):
    run = _run(tmp_path, tiny_dataset, resources, "last-batch")
    _kill(run, _start_paused(run, "last_batch"))
    assert run_status(read_events(run.events)) == "killed"  # the last epoch was not saved: resumable
    assert headless.train_resume(run.path, out=lambda _line: None) == 0
    events = read_events(run.events)
    assert run_status(events) == "completed"
    assert sorted({e["epoch"] for e in events if e["type"] == "epoch_end"}) == [1, 2]


@pytest.mark.parametrize("phase", ["final_validation", "plotting"])
def test_killed_after_the_final_checkpoint_the_run_stays_completed_and_resume_changes_nothing(
        phase, tmp_path, tiny_dataset, resources):
    run = _run(tmp_path, tiny_dataset, resources, phase)
    process = _start_paused(run, phase)
    if phase == "final_validation":  # Stop cannot make the run end sooner there: it says so
        run.request_stop()
        (run.path / "control" / f"paused-{phase}").unlink()  # let one more validation batch run
        _wait_for(lambda: any(e["type"] == "note" for e in read_events(run.events)) or process.poll() is not None,
                  what="the stop note")
        assert any("validation of best.pt finishes first" in e.get("message", "")
                   for e in read_events(run.events) if e["type"] == "note") or process.poll() == 0
    _kill(run, process)
    events = read_events(run.events)
    assert run_status(events) == "completed", [e["type"] for e in events]
    results = (run.path / "results.csv").read_bytes()
    said = []
    assert headless.train_resume(run.path, out=said.append) == 1  # it trained afresh over the results before
    assert "finished training" in said[-1] and "nothing to resume" in said[-1]
    assert (run.path / "results.csv").read_bytes() == results
    assert run_status(read_events(run.events)) == "completed"


def test_a_stop_in_the_middle_of_an_epoch_never_makes_its_weights_best(tmp_path, resources):
    """The partial epoch reused the last epoch's fitness, so Ultralytics wrote its unvalidated weights as
    best.pt and called it the best epoch."""
    from yolo_studio.core.data.demo_dataset import generate
    from yolo_studio.core.model.checkpoints import read_checkpoint

    data = generate(tmp_path / "data", train=48, val=4, imgsz=64, seed=5)
    run = prepare_run(resources / "models" / MODEL, data, tmp_path / "runs", "stop", {**TINY_RUN, "batch": 2,
                                                                                        "epochs": 3})
    process = launch.start(run)
    _wait_for(lambda: any(e["type"] == "checkpoint" for e in read_events(run.events)) or process.poll() is not None,
              what="epoch 1's checkpoint")
    run.request_stop()  # epoch 2 has 24 batches: the stop lands in the middle of it
    process.wait(timeout=240)
    events = read_events(run.events)
    end = next(e for e in events if e["type"] == "run_end")
    assert end["status"] == "stopped" and end["epochs_done"] == 2, end
    assert end["best_epoch"] == 1, end
    assert read_checkpoint(run.path / "weights" / "best.pt").epoch == 0  # written at epoch 1, never since
    partial = [e for e in events if e["type"] == "epoch_end" and e.get("partial")]
    assert partial and partial[-1]["fitness"] is None  # not the last epoch's
