"""Real tiny trainings (imgsz 64, 1-2 epochs) through the run folder, the runner and its events."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import TINY_RUN
from helpers import run_cli as cli
from yolo_studio.core.devices import requested_gpus
from yolo_studio.training import launch
from yolo_studio.training.events import EventTail, epoch_history, read_events, run_status
from yolo_studio.training.run_folder import RunFolder, prepare_run

TESTS = Path(__file__).resolve().parents[1]
AUDIT = '''
import sys
_LOCAL = ("localhost", "127.0.0.1", "::1", "", None)
def _hook(event, args):
    host = None
    if event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
    if event in ("socket.connect", "socket.getaddrinfo") and host not in _LOCAL and not str(host).startswith("127."):
        with open({log!r}, "a") as f:
            f.write(f"{{event}} {{host}}\\n")
sys.addaudithook(_hook)
'''


def wait_for(run: RunFolder, kind: str, timeout: float = 120) -> list:
    tail, seen, deadline = EventTail(run.events), [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += tail.read()
        if any(e["type"] == kind for e in seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event in {timeout} s: {[e['type'] for e in seen]}")


def test_headless_run_with_custom_blocks_is_offline_and_its_events_match_results_csv(tmp_path, tiny_dataset,
                                                                                     resources):
    audit_dir, attempts = tmp_path / "audit", tmp_path / "network.log"
    audit_dir.mkdir()
    (audit_dir / "sitecustomize.py").write_text(AUDIT.format(log=str(attempts)))
    done = cli("train", "--model", resources / "models" / "yolo11n-se.yaml", "--data", tiny_dataset,
               "--modules", resources / "modules", "--project", tmp_path / "project", "--name", "se",
               *(f"{k}={v}" for k, v in TINY_RUN.items()), env={"PYTHONPATH": str(audit_dir)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "epoch 2/2:" in done.stdout and "Run completed" in done.stdout
    assert not attempts.exists(), attempts.read_text()  # no connection or name lookup, ever
    run = RunFolder(tmp_path / "project" / "runs" / "se")
    assert (tmp_path / "project" / "project.yaml").is_file()  # the studio can open the folder and list the run
    for path in (run.best, run.last, run.log, run.results_csv, run.artifacts / "resolved.yaml",
                 run.artifacts / "command.txt", run.artifacts / "yolo11n-se.yaml", run.modules / "attention.py"):
        assert path.is_file(), path
    assert "Ultralytics" in run.log.read_text() and "yolo detect train" in (run.artifacts / "command.txt").read_text()
    events = read_events(run.events)
    assert run_status(events) == "completed"
    assert [e["type"] for e in events].count("final") == 1  # the extra on_fit_epoch_end is not an epoch
    rows = list(csv.DictReader(run.results_csv.open()))
    history = epoch_history(events)
    assert len(rows) == len(history) == 2
    for row, event in zip(rows, history):
        assert int(row["epoch"]) == event["epoch"]
        for key, value in event["metrics"].items():
            assert float(row[key]) == pytest.approx(value, rel=1e-4, abs=1e-6), key

    # The block source travels with the run: the checkpoint loads in a fresh process, without --modules.
    code = ("import sys; from yolo_studio.training.run_folder import load_run_checkpoint; "
            "m = load_run_checkpoint(sys.argv[1]); "
            "print(sorted({type(x).__name__ for x in m.model.model if type(x).__module__.startswith('yolo_studio_blocks')}), "
            "m.task)")
    loaded = subprocess.run([sys.executable, "-c", code, str(run.best)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip().splitlines()[-1] == "['DownsampleConv', 'SEAttention'] detect"


def test_stop_mid_epoch_leaves_a_resumable_run_that_completes(tmp_path, tiny_dataset, resources):
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "stop",
                      {**TINY_RUN, "epochs": 3, "batch": 2})
    process = launch.start(run)
    wait_for(run, "batch")
    launch.request_stop(run)
    assert process.wait(timeout=300) == 0
    events = read_events(run.events)
    assert run_status(events) == "stopped"
    assert epoch_history(events)[-1]["partial"] is True and run.last.is_file()
    lines = run.log.read_text().replace("\r", "\n").splitlines()  # as the Monitor's log shows them
    assert any(line.startswith("YOLO Studio: stop requested; stopping after batch") for line in lines)
    resumed = launch.start(run, resume=True)
    assert resumed.wait(timeout=300) == 0, run.log.read_text()[-2000:]
    events = read_events(run.events)
    assert run_status(events) == "completed"
    assert [e["epoch"] for e in epoch_history(events)] == [1, 2, 3]
    assert "Resuming training" in run.log.read_text()


def test_a_killed_run_is_reported_and_resumes_from_its_last_epoch(tmp_path, tiny_dataset, resources):
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "kill",
                      {**TINY_RUN, "epochs": 2, "batch": 2})
    process = launch.start(run)
    wait_for(run, "checkpoint")
    launch.kill(run, process.pid)
    process.wait(timeout=60)
    assert run_status(read_events(run.events)) == "killed"
    assert launch.start(run, resume=True).wait(timeout=300) == 0
    assert run_status(read_events(run.events)) == "completed"


def test_a_crash_is_reported_with_an_actionable_message(tmp_path, tiny_dataset, resources):
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "crash", TINY_RUN)
    Path(tiny_dataset).parent.joinpath("missing").mkdir(exist_ok=True)
    spec = (run.artifacts / "run.yaml").read_text().replace(str(Path(tiny_dataset).resolve()),
                                                              str(tmp_path / "gone" / "data.yaml"))
    (run.artifacts / "run.yaml").write_text(spec)
    assert launch.start(run).wait(timeout=300) == 1
    events = read_events(run.events)
    assert run_status(events) == "failed"
    error = events[-1]
    assert error["type"] == "error" and "gone" in error["message"] + error["detail"]


def test_resume_without_a_checkpoint_says_so(tmp_path, tiny_dataset, resources):
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "new", TINY_RUN)
    done = cli("train", "--resume", run.path)
    assert done.returncode == 1 and "saved no checkpoint to resume from" in done.stdout


def test_preflight_errors_stop_the_headless_command(tmp_path, tiny_dataset, resources):
    done = cli("train", "--model", resources / "models" / "yolo11n-demo.yaml", "--data", tiny_dataset,
               "--project", tmp_path, "epcohs=2")
    assert done.returncode == 1
    assert "'epcohs' is not a valid YOLO training argument. Did you mean 'epochs'" in done.stdout
    assert not (tmp_path / "runs" / "train").exists()


def test_launch_commands_single_process_and_distributed(tmp_path):
    run = RunFolder(tmp_path / "r")
    assert launch.runner_command(run, python="py") == ["py", "-m", "yolo_studio.training.runner", str(run.path)]
    assert launch.runner_command(run, resume=True, device="cpu", python="py")[-1] == "--resume"
    ddp = launch.runner_command(run, device="0,1", python="py")
    assert ddp[:3] == ["py", "-m", "torch.distributed.run"] and "--nproc_per_node=2" in ddp
    assert ddp[-3:] == ["-m", "yolo_studio.training.runner", str(run.path)]
    four = launch.runner_command(run, device=[0, 1, 2, 3], python="py", master_port=29600)
    assert {"--nproc_per_node=4", "--nnodes=1", "--master_addr=127.0.0.1", "--master_port=29600"} <= set(four)
    ports = {next(a for a in launch.runner_command(run, device="0,1") if a.startswith("--master_port="))
             for _ in range(2)}
    assert "--master_port=29500" not in ports  # a free port each time: two multi-GPU runs at once do not collide
    for device, count in (("[0,1]", 2), ("-1,-1", 2), ("cuda:0,1", 2), ((0, 1, 2), 3), ("0", 1), ("cpu", 0)):
        assert len(requested_gpus(device)) == count, device


def test_events_tail_reads_complete_lines_only(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read() == []
    path.write_text(json.dumps({"type": "a"}) + "\n" + '{"type": "b"')
    assert [e["type"] for e in tail.read()] == ["a"]
    with path.open("a") as f:
        f.write("}\nnot json\n")
    assert [e["type"] for e in tail.read()] == ["b"]


def test_tensorboard_logging_is_chosen_per_run_and_writes_into_the_run_folder(tmp_path, tiny_dataset, resources,
                                                                            monkeypatch):
    # Ultralytics turns its loggers off when it sees pytest in the environment; the training
    # process must see what it sees for a user.
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    logged = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "tb",
                         {**TINY_RUN, "epochs": 1}, logging={"tensorboard": True})
    plain = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "plain",
                        {**TINY_RUN, "epochs": 1})
    for run in (logged, plain):
        process = launch.start(run)
        assert process.wait(timeout=300) == 0, run.log.read_text()[-2000:]
    assert list(logged.path.glob("events.out.tfevents.*")), sorted(p.name for p in logged.path.iterdir())
    assert not list(plain.path.glob("events.out.tfevents.*"))  # the setting does not leak into the next run
    assert logged.spec()["logging"] == {"tensorboard": True, "mlflow": False}


def test_a_logger_that_is_not_installed_is_refused_before_the_run(tmp_path, tiny_dataset, resources, monkeypatch):
    from yolo_studio.training import run_folder

    monkeypatch.setitem(run_folder.LOGGERS, "mlflow", "a_package_that_is_not_installed")
    with pytest.raises(ValueError, match="mlflow logging needs the a_package_that_is_not_installed package"):
        prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, tmp_path / "runs", "x", TINY_RUN,
                    logging={"mlflow": True})
    assert not (tmp_path / "runs" / "x").exists()


def test_mlflow_logging_writes_a_local_store_in_the_project(tmp_path, tiny_dataset, resources, monkeypatch):
    pytest.importorskip("mlflow", reason="MLflow is optional: pip install 'yolo-studio[logging]'")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # as for TensorBoard above
    project = tmp_path / "project"
    run = prepare_run(resources / "models" / "yolo11n-demo.yaml", tiny_dataset, project / "runs", "ml",
                      {**TINY_RUN, "epochs": 1}, logging={"mlflow": True})
    process = launch.start(run)
    assert process.wait(timeout=300) == 0, run.log.read_text()[-2000:]
    metas = list((project / "mlruns").rglob("meta.yaml"))
    assert any("run_name: ml" in m.read_text() for m in metas), [str(m) for m in metas]
    assert "results logged to file://" in run.log.read_text()


def test_metric_groups_come_from_the_keys_of_any_task():
    from yolo_studio.training.events import metric_group

    assert metric_group("train/box_loss") == ("box_loss", "train", False)
    assert metric_group("val/box_loss") == ("box_loss", "val", True)
    assert metric_group("metrics/mAP50-95(M)") == ("mAP (M)", "mAP50-95", False)
    assert metric_group("metrics/precision(B)") == ("precision / recall (B)", "P", False)
    assert metric_group("metrics/accuracy_top5") == ("accuracy", "top5", False)
    assert metric_group("lr/pg2") == ("learning rate", "pg2", False)
    assert metric_group("fitness") == ("fitness", "fitness", False)
