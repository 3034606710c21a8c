"""Checkpoints read without running their code: metadata, stored YAML and every tensor."""

import subprocess
import sys
import textwrap

import pytest
import torch

from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint


def _best(trained_project):
    return trained_project.runs_dir / "tiny" / "weights" / "best.pt"


def test_a_run_checkpoint_names_its_task_classes_size_version_and_yaml(trained_project):
    info = read_checkpoint(_best(trained_project))
    assert info.task == "detect" and info.nc == 3 and info.imgsz == 64
    assert info.version and info.version.startswith("8.")
    assert [r[2] for r in info.model_yaml["backbone"]][:2] == ["Conv", "DownsampleConv"]
    assert "detect, 3 classes, trained at imgsz 64, written by Ultralytics" in info.summary()


def test_its_tensors_are_exactly_those_ultralytics_loads(trained_project):
    from yolo_studio.training.run_folder import load_run_checkpoint

    info = read_checkpoint(_best(trained_project))
    real = load_run_checkpoint(_best(trained_project)).model.state_dict()
    assert info.state.keys() == real.keys()
    assert all(torch.equal(info.state[k].float(), real[k].float()) for k in real)


def test_reading_runs_no_code_from_the_file(tmp_path, trained_project):
    """Neither Ultralytics nor the model's custom block files are imported, and a pickle that would
    run a command when loaded the usual way runs nothing."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(marker)],))

    evil = tmp_path / "evil.pt"
    torch.save({"model": Payload(), "epoch": 3}, evil)
    script = textwrap.dedent(f"""
        import sys
        from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint
        info = read_checkpoint({str(_best(trained_project))!r})
        try:
            read_checkpoint({str(evil)!r})
        except CheckpointError as exc:
            print("refused:", exc)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("ultralytics", "yolo_studio_blocks")))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not marker.exists()
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("content, says", [
    (b"not a checkpoint at all", "not a PyTorch checkpoint"),
    (None, "the file is damaged"),  # a truncated copy
    ("tensor", "not an Ultralytics checkpoint"),
])
def test_a_file_that_is_not_a_checkpoint_gets_a_clear_message(tmp_path, trained_project, content, says):
    path = tmp_path / "weights.pt"
    if content is None:
        data = _best(trained_project).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content == "tensor":
        torch.save(torch.zeros(3), path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=says) as caught:
        read_checkpoint(path)
    assert "hint:" in str(caught.value)
