"""The demo project trains: a short run of its "CPU quick" preset improves mAP (a real training)."""

from helpers import run_cli
from yolo_studio.training.demo_project import DATA, MODEL, PRESET, create_demo
from yolo_studio.training.events import epoch_history, read_events

EPOCHS = 7  # mAP50 is 0 for the first epochs and about 0.3 at epoch 7 (0.9 at the preset's 15)


def test_a_short_training_of_the_demo_improves_map(tmp_path):
    project = create_demo(tmp_path / "demo")
    done = run_cli("train", "--project", project.root, "--model", project.resolve(MODEL), "--data",
                   project.resolve(DATA), "--preset", PRESET, "--name", "short", f"epochs={EPOCHS}", "workers=0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    history = epoch_history(read_events(project.runs_dir / "short" / "events.jsonl"))
    maps = [e["metrics"]["metrics/mAP50(B)"] for e in history]
    losses = [e["metrics"]["train/box_loss"] for e in history]
    assert len(maps) == EPOCHS
    assert maps[-1] > maps[0] + 0.1, maps
    assert losses[-1] < losses[0] * 0.6, losses
