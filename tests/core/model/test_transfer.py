"""Which weights of a checkpoint a model to train gets, per layer: the studio's match by structure
against plain Ultralytics' match by key."""

import torch

from helpers import run_cli
from yolo_studio.core.model.checkpoints import read_checkpoint
from yolo_studio.core.blocks.block_check import load_vetted_blocks
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.model_yaml import Row
from yolo_studio.core.model.transfer import FULL, NONE, PARTIAL, plan_transfer, target_shapes


def _setup(trained_project, resources):
    info = read_checkpoint(trained_project.runs_dir / "tiny" / "weights" / "best.pt")
    blocks, errors = load_vetted_blocks(resources / "modules")
    assert errors == []
    return info, blocks, ModelDocument.load(resources / "models" / "yolo11n-se.yaml")


def test_the_same_architecture_transfers_every_tensor(trained_project, resources):
    info, blocks, doc = _setup(trained_project, resources)
    report, remapped = plan_transfer(info.state, info.model_yaml, doc.to_dict(), target_shapes(doc.to_dict(), "n", blocks))
    assert report.loaded == report.plain == report.total == len(info.state)
    assert all(layer.state in (FULL, "no weights") for layer in report.layers)


def test_an_inserted_block_keeps_every_other_layer_pretrained(trained_project, resources):
    info, blocks, doc = _setup(trained_project, resources)
    doc.insert_row(6, Row(-1, 1, "CBAM", [7]))
    model = doc.to_dict()
    report, remapped = plan_transfer(info.state, info.model_yaml, model, target_shapes(model, "n", blocks))
    cbam = report.layers[6]
    assert cbam.module == "CBAM" and cbam.state == NONE and cbam.source is None
    assert report.loaded == report.total - cbam.tensors  # every unchanged layer keeps its weights
    assert report.plain < report.loaded / 2  # plain Ultralytics loses the layers after the insert
    for layer in report.layers:  # each transferred tensor is its matched layer's
        for key, tensor in remapped.items():
            if key.startswith(f"model.{layer.layer}."):
                source = key.replace(f"model.{layer.layer}.", f"model.{layer.source}.", 1)
                assert torch.equal(tensor, info.state[source])

    from yolo_studio.compat.building import preserved_state
    from yolo_studio.core.model.inspection import build_model

    with preserved_state():  # the remapped tensors load into the real model, all of them
        built, _, _ = build_model({**model, "scale": "n"}, blocks)
    missing, unexpected = built.load_state_dict({k: v.float() for k, v in remapped.items()}, strict=False)
    assert unexpected == [] and len(built.state_dict()) - len(missing) == report.loaded


def test_different_classes_leave_the_head_partly_pretrained(trained_project, resources):
    info, blocks, doc = _setup(trained_project, resources)
    doc.set_header("nc", 7)
    model = doc.to_dict()
    report, _ = plan_transfer(info.state, info.model_yaml, model, target_shapes(model, "n", blocks))
    head = report.layers[-1]
    assert head.state == PARTIAL and any("cv3" in name for name, _here, _there in head.differing)
    assert "in the checkpoint" in head.describe()


def test_the_cli_prints_the_report(trained_project, resources, tmp_path):
    _info, _blocks, doc = _setup(trained_project, resources)
    doc.insert_row(6, Row(-1, 1, "CBAM", [7]))
    edited = tmp_path / "yolo11n-se-cbam.yaml"
    edited.write_text(doc.to_yaml())
    done = run_cli("transfer", edited, trained_project.runs_dir / "tiny" / "weights" / "best.pt",
                   "--modules", resources / "modules")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "plain Ultralytics would transfer" in done.stdout and "layer 6 CBAM: 0/" in done.stdout


def test_a_run_folder_and_its_checkpoint_have_the_same_architecture(trained_project):
    run = trained_project.runs_dir / "tiny"
    done = run_cli("diff", run, run / "weights" / "best.pt")
    assert done.returncode == 0 and "(the same architecture)" in done.stdout, done.stdout + done.stderr
    from yolo_studio.core.model.arch_diff import load_architecture

    assert load_architecture(run / "weights" / "best.pt")[1] == "tiny/best.pt"  # which run's best.pt
    assert load_architecture(run / "args.yaml")[1] == load_architecture(run)[1] == "tiny/yolo11n-se.yaml"
