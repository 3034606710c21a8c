"""Hydra models: exact extraction, heads trained on the frozen backbone, the promotion rule,
rollback, cleanup, crash safety, and one backbone pass for several heads."""

import json
import os
from pathlib import Path

import pytest

from helpers import TINY_RUN, run_cli
from yolo_studio.core.data.dataset_check import images_in
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.deploy.predict import predict
from yolo_studio.hydra import split as hs
from yolo_studio.hydra.model import HydraDetector, add_head, add_trained_head, extract, load_detector, \
    prepare_head_run, sample_inputs
from yolo_studio.hydra.store import HydraStore
from yolo_studio.training import launch


@pytest.fixture
def weights(trained_project):
    return trained_project.runs_dir / "tiny" / "weights" / "best.pt"


def test_extraction_reproduces_the_model_exactly_and_the_blocks_travel(tmp_path, weights):
    result = extract(tmp_path, "se", weights, "shapes", imgsz=64)
    model = load_detector(weights)
    assert result["split"] == hs.default_split(model) and result["difference"] == 0.0
    store = HydraStore(tmp_path / "se")
    assert (store.root / "backbone" / "modules" / "attention.py").is_file()  # the SE blocks travel
    for k in (result["split"], 5):  # the default split and a deeper cut into the backbone
        assert hs.equivalent(model, k, sample_inputs(64, 3)) == 0.0
    with pytest.raises(ValueError, match="leaves nothing on one side"):
        extract(tmp_path, "bad", weights, "shapes", split=0)
    with pytest.raises(ValueError, match="exists already"):
        extract(tmp_path, "se", weights, "shapes")


def test_a_head_trained_elsewhere_is_refused_by_its_backbone_hash(tmp_path, weights):
    import torch

    extract(tmp_path, "se", weights, "shapes", imgsz=64)
    checkpoint = torch.load(weights, weights_only=False)
    net = checkpoint.get("ema") or checkpoint["model"]
    with torch.no_grad():
        next(net.model[0].parameters()).add_(0.5)  # another backbone
    other = tmp_path / "other" / "weights" / "best.pt"
    other.parent.mkdir(parents=True)
    torch.save(checkpoint, other)
    store = HydraStore(tmp_path / "se")
    with pytest.raises(ValueError, match=r"was not trained on the backbone of 'se' .* train the head with the "
                                         r"backbone frozen"):
        add_head(store, "intruder", other, {}, ["a"])
    assert set(store.heads()) == {"shapes"}  # nothing stored


def test_a_head_trained_with_the_backbone_frozen_is_accepted_and_detect_runs_every_head(tmp_path, weights):
    extract(tmp_path / "hydra", "se", weights, "shapes", imgsz=64)
    store = HydraStore(tmp_path / "hydra" / "se")
    data = generate(tmp_path / "other-data", train=16, val=8, imgsz=64, seed=7)
    run = prepare_head_run(store, "second", data, tmp_path / "runs", "head", {**TINY_RUN, "epochs": 1})
    process = launch.start(run)  # the studio's training process, as the Train tab starts it
    assert process.wait(timeout=300) == 0, run.log.read_text()[-2000:]
    trained = load_detector(run.best)
    k = store.load()["split"]
    assert hs.layer_hash(trained, k) == store.load()["backbone"]["hash"]  # freeze kept the backbone
    version, promoted, _reason = add_trained_head(store, "second", run)
    assert version.version == 1 and promoted and version.classes == ["square", "circle", "triangle"]
    from yolo_studio.hydra.store import training_imgsz

    assert training_imgsz(store) == TINY_RUN["imgsz"]  # inference defaults to the heads' training size
    add_head(store, "third", weights, {"precision": 0.5, "recall": 0.5}, ["square", "circle", "triangle"])
    detector = HydraDetector(store)
    assert [v.head for v in detector.load_active()] == ["second", "shapes", "third"]
    image = images_in(data.parent / "images" / "val")[0]
    result = detector.detect(image, imgsz=64, conf=0.001)
    assert {o["head"] for o in result["objects"]} == {"second", "shapes", "third"}
    assert set(result["timing"]) == {"preprocess", "backbone", "head:second", "head:shapes", "head:third",
                                     "postprocess"}
    alone = [o for o in result["objects"] if o["head"] == "shapes"]  # the extracted head = the original model
    reference = predict(weights, [image], conf=0.001, imgsz=64)[0].objects
    assert [o["cls"] for o in alone][:5] == [o["cls"] for o in reference][:5]
    assert alone[0]["conf"] == pytest.approx(reference[0]["conf"], abs=1e-3)
    detector.unload_head("third")
    assert "head:third" not in detector.detect(image, imgsz=64)["timing"]


def _store_with(tmp_path, metric="f1"):
    source = tmp_path / "source.pt"
    source.write_bytes(b"weights")
    store = HydraStore(tmp_path / "h")
    store.create(source, 11, "abc", metric=metric)
    return store, source


@pytest.mark.parametrize("gain, promoted", [(1.019, False), (1.021, True)])
def test_the_promotion_rule_needs_more_than_two_percent(tmp_path, gain, promoted):
    store, source = _store_with(tmp_path, metric="mAP50-95")
    first, auto, _ = store.add_version("cars", source, {"mAP50-95": 0.5}, ["car"])
    assert auto and store.load()["heads"]["cars"]["active"] == 1  # the first version is promoted
    second, auto, reason = store.add_version("cars", source, {"mAP50-95": 0.5 * gain}, ["car"])
    assert auto is promoted, reason
    assert store.load()["heads"]["cars"]["active"] == (2 if promoted else 1)
    if not promoted:
        assert "+1.9%" in reason and "promote it by hand" in reason


def test_f1_is_the_default_metric(tmp_path):
    store, source = _store_with(tmp_path)
    store.add_version("cars", source, {"precision": 0.5, "recall": 0.5}, ["car"])  # F1 0.5
    _v, auto, _ = store.add_version("cars", source, {"precision": 0.6, "recall": 0.44}, ["car"])  # F1 0.5077
    assert not auto
    _v, auto, _ = store.add_version("cars", source, {"precision": 0.6, "recall": 0.6}, ["car"])
    assert auto and store.history("cars")[2].metrics["f1"] == 0.6


def test_rollback_and_cleanup_keep_the_active_version(tmp_path):
    store, source = _store_with(tmp_path, metric="mAP50-95")
    for value in (0.5, 0.6, 0.7, 0.705, 0.71):  # v1..v3 promoted, v4 and v5 wait (within 2%)
        store.add_version("cars", source, {"mAP50-95": value}, ["car"])
    assert store.load()["heads"]["cars"]["active"] == 3
    assert store.rollback("cars") == 2 and store.rollback("cars") == 1
    with pytest.raises(ValueError, match="no earlier active version"):
        store.rollback("cars")
    deleted = store.cleanup("cars", keep=2)
    assert deleted == [3, 2] and [v.version for v in store.history("cars")] == [1, 4, 5]  # v1 is active
    assert not (store.root / "heads" / "cars" / "v2").exists() and (store.root / "heads" / "cars" / "v1").exists()


def test_a_crash_during_promotion_leaves_the_previous_consistent_state(tmp_path, monkeypatch):
    store, source = _store_with(tmp_path, metric="mAP50-95")
    store.add_version("cars", source, {"mAP50-95": 0.5}, ["car"])
    store.add_version("cars", source, {"mAP50-95": 0.5}, ["car"])
    before = store.registry_file.read_text()

    def crash(*_args):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)  # the registry's atomic rename never happens
    with pytest.raises(OSError, match="power cut"):
        store.promote("cars", 2)
    monkeypatch.undo()
    assert store.registry_file.read_text() == before and store.load()["heads"]["cars"]["active"] == 1
    assert [p.name for p in store.root.iterdir() if p.name.endswith(".tmp")] == []
    store.promote("cars", 2)
    assert store.load()["heads"]["cars"]["active"] == 2


def test_the_cli_lists_promotes_rolls_back_and_detects(trained_project, tiny_dataset):
    root = trained_project.root
    done = run_cli("hydra", "extract", "cli", "shapes", "tiny", "--project", root, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["difference"] == 0.0
    run_cli("hydra", "extract", "cli", "shapes", "tiny", "--project", root)  # exists: refused
    listed = json.loads(run_cli("hydra", "list", "--project", root, "--json").stdout)
    assert [(r["head"], r["version"], r["active"]) for r in listed if r["hydra"] == "cli"] == [("shapes", 1, True)]
    refused = run_cli("hydra", "promote", "cli", "shapes", "7", "--project", root)
    assert refused.returncode == 1 and "no v7" in refused.stderr
    image = images_in(tiny_dataset.parent / "images" / "val")[0]
    done = run_cli("hydra", "detect", "cli", image, "--project", root, "--json", "--conf", "0.001")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[0])
    assert result["source"] == str(image) and all(o["head"] == "shapes" for o in result["objects"])
    done = run_cli("val", "--model", "hydra:cli/shapes", "--data", tiny_dataset, "--project", root, "--json")
    assert done.returncode == 0, done.stderr[-2000:]  # a head version evaluated as the model it is
    evaluated = json.loads(done.stdout.strip().splitlines()[-1])
    assert "metrics/mAP50-95(B)" in evaluated and Path(evaluated["folder"]).parent == Path(root) / "evaluations"
    refused = run_cli("val", "--model", "hydra:cli/birds", "--data", tiny_dataset, "--project", root)
    assert refused.returncode == 1 and "no active version" in refused.stderr


def test_the_cli_lists_the_splits_with_what_a_head_costs(trained_project):
    root = trained_project.root
    done = run_cli("hydra", "splits", "tiny", "--project", root, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    options = json.loads(done.stdout)["splits"]
    model = load_detector(trained_project.runs_dir / "tiny" / "weights" / "best.pt")
    assert [o["split"] for o in options] == list(range(1, len(model.model)))
    default = next(o for o in options if o["default"])
    assert default["split"] == hs.default_split(model)
    shares = [o["head_share"] for o in options]
    assert shares == sorted(shares, reverse=True) and 0 < shares[-1] < shares[0] < 1
    assert default["heads_12"] == pytest.approx(1 + 11 * default["head_share"], abs=0.01)
    text = run_cli("hydra", "splits", "tiny", "--project", root, "--imgsz", "128").stdout
    assert f"\n  {default['split']}: after " in text and "(default: heads keep their bottom-up path)" in text
    assert f"\n  {hs.backbone_end(model)}: after " in text and "(end of the YAML backbone)" in text
    assert "12 heads ~" in text
