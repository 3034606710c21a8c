"""Training from weights: fine-tuning a checkpoint, and a YAML model starting from a checkpoint's
weights with each layer matched by structure (tiny real trainings)."""

import json

import torch

from helpers import TINY_RUN, run_cli
from yolo_studio.core.model.checkpoints import read_checkpoint
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.model_yaml import Row
from yolo_studio.training.headless import plan_and_check

ONE_EPOCH = [f"{k}={v}" for k, v in {**TINY_RUN, "epochs": 1}.items()]


def _best(trained_project):
    return trained_project.runs_dir / "tiny" / "weights" / "best.pt"


def test_fine_tuning_a_run_checkpoint_finds_its_blocks_and_keeps_every_weight(trained_project, tiny_dataset, tmp_path):
    done = run_cli("train", "--model", _best(trained_project), "--data", tiny_dataset, "--project", tmp_path,
                   "--name", "ft", *ONE_EPOCH)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "a checkpoint is a Python pickle" in done.stdout
    total = len(read_checkpoint(_best(trained_project)).state)
    assert f"Transferred {total}/{total} items" in done.stdout + done.stderr
    assert (tmp_path / "runs" / "ft" / "weights" / "best.pt").is_file()


def test_an_inserted_block_starts_from_scratch_and_every_other_layer_from_its_weights(trained_project, tiny_dataset,
                                                                                      resources, tmp_path):
    doc = ModelDocument.load(resources / "models" / "yolo11n-se.yaml")
    doc.insert_row(6, Row(-1, 1, "CBAM", [7]))
    model = tmp_path / "yolo11n-se-cbam.yaml"
    model.write_text(doc.to_yaml())
    done = run_cli("train", "--model", model, "--weights", _best(trained_project), "--modules", resources / "modules",
                   "--data", tiny_dataset, "--project", tmp_path, "--name", "cbam", *ONE_EPOCH)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    artifacts = tmp_path / "runs" / "cbam" / "artifacts"
    report = json.loads((artifacts / "transfer.json").read_text())
    cbam = report["layers"][6]
    assert cbam["module"] == "CBAM" and cbam["state"] == "none"
    assert report["loaded"] == report["total"] - cbam["tensors"] and report["plain"] < report["loaded"] / 2
    assert f"weights from best.pt: The studio transfers {report['loaded']}/{report['total']}" in done.stdout
    assert f"Transferred {report['total']}/{report['total']} items" in done.stdout + done.stderr
    source, started = read_checkpoint(_best(trained_project)).state, read_checkpoint(artifacts / "transferred.pt").state
    equal = 0  # what the run started from: every tensor of every unchanged layer is the checkpoint's
    for layer in report["layers"]:
        for key in (k for k in started if k.startswith(f"model.{layer['layer']}.")):
            if layer["source"] is not None:
                theirs = source[key.replace(f"model.{layer['layer']}.", f"model.{layer['source']}.", 1)]
                assert torch.equal(started[key].float(), theirs.float()), key
                equal += 1
    assert equal == report["loaded"]


def test_preflight_says_what_happens_when_the_classes_differ(trained_project, tiny_dataset, tmp_path):
    four = tmp_path / "four.yaml"
    four.write_text(tiny_dataset.read_text().replace("  2: triangle", "  2: triangle\n  3: star")
                    .replace("train: images/train", f"path: {tiny_dataset.parent}\ntrain: images/train"))
    _plan, _resolved, result = plan_and_check(_best(trained_project), four, tmp_path, "x", dict(TINY_RUN))
    warning = next(c.message for c in result.warnings if c.topic == "model")
    assert "was trained on 3 classes (square, circle, triangle) but four.yaml has 4" in warning
    assert "start from scratch for the new classes" in warning


def test_preflight_refuses_a_file_that_is_not_a_checkpoint_and_a_checkpoint_without_its_blocks(
        trained_project, tiny_dataset, tmp_path):
    bad = tmp_path / "weights.pt"
    bad.write_text("not weights")
    _plan, _resolved, result = plan_and_check(bad, tiny_dataset, tmp_path, "x", dict(TINY_RUN))
    assert any("not a PyTorch checkpoint" in c.message for c in result.errors)
    copied = tmp_path / "elsewhere.pt"  # away from its run folder: its custom blocks are not beside it
    copied.write_bytes(_best(trained_project).read_bytes())
    _plan, _resolved, result = plan_and_check(copied, tiny_dataset, tmp_path, "x", dict(TINY_RUN))
    assert any("DownsampleConv, SEAttention" in c.message and "--modules" in c.message for c in result.errors)
    _plan, _resolved, result = plan_and_check(_best(trained_project), tiny_dataset, tmp_path, "x", dict(TINY_RUN),
                                              weights=_best(trained_project))  # found in a walkthrough: it crashed
    refusal = next(c for c in result.errors if "is a checkpoint: it starts from its own weights" in c.message)
    assert refusal.fix == ("clear_weights", None)


def test_a_run_that_failed_before_it_started_is_failed_not_new():
    from yolo_studio.training.events import run_status

    assert run_status([]) == "new"
    assert run_status([{"type": "transfer"}, {"type": "error", "message": "x"}]) == "failed"


def test_only_a_finished_run_of_the_studio_can_be_continued(trained_project, tmp_path):
    """Continuing itself (a training) is tested from the Runs tab; here what is refused, and why."""
    refused = run_cli("train", "--continue", trained_project.runs_dir)
    assert refused.returncode == 1 and "not a YOLO Studio run folder" in refused.stdout + refused.stderr
    import shutil

    stopped = tmp_path / "runs" / "stopped"
    shutil.copytree(trained_project.runs_dir / "tiny", stopped)
    events = (stopped / "events.jsonl").read_text().splitlines()
    (stopped / "events.jsonl").write_text("\n".join(e for e in events if '"run_end"' not in e
                                                    and '"trained"' not in e) + "\n")  # ended before its last save
    refused = run_cli("train", "--continue", stopped)
    assert refused.returncode == 1 and "resume it instead (--resume" in refused.stdout + refused.stderr
