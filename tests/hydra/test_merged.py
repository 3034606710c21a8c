"""Heads run together (hydra/merged.py) give exactly the per-head path's outputs."""

import copy
from pathlib import Path

import pytest
import torch

from yolo_studio.hydra import split as hs
from yolo_studio.hydra.merged import MergedHeads, shape_key

DEMO = Path(__file__).resolve().parents[2] / "resources" / "models" / "yolo11n-demo.yaml"


def _heads(count: int, nc: int = 3, seed: int = 0) -> list:
    """``count`` detectors of one architecture with different weights (as heads trained apart have)."""
    import yaml
    from ultralytics.nn.tasks import DetectionModel

    d = {**yaml.safe_load(DEMO.read_text()), "nc": nc}
    torch.manual_seed(seed)
    base = DetectionModel(copy.deepcopy(d), verbose=False).eval()
    out = []
    for i in range(count):
        model = copy.deepcopy(base)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.01 * (i + 1))
        out.append(model.fuse(verbose=False))
    return out


@pytest.mark.parametrize("count", [1, 3, 12])
def test_merged_heads_equal_the_per_head_path(count):
    models = _heads(count)
    k = hs.default_split(models[0])
    merged = MergedHeads(models, k)
    with torch.no_grad():
        features = hs.run_backbone(models[0], torch.rand(1, 3, 64, 64), k)
        together = merged.run(features)
        apart = [hs.run_head(m, features, k)[0] for m in models]
    assert len(together) == count
    for a, b in zip(together, apart):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_heads_of_other_shapes_are_refused_not_mixed():
    three, five = _heads(1, nc=3)[0], _heads(1, nc=5)[0]
    k = hs.default_split(three)
    assert shape_key(three, k) != shape_key(five, k)
    with pytest.raises(ValueError, match="same names and shapes"):
        MergedHeads([three, five], k)


def test_the_detector_runs_heads_together_in_the_background_and_keeps_the_faster_way(tmp_path, trained_project,
                                                                                     tiny_dataset):
    """Detection never waits for the plan; heads that run together give the same objects; unloading a
    head replans; "auto" measures once per device and image size and remembers the choice."""
    import json

    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.core.home import studio_cache_dir
    from yolo_studio.hydra.merged import CHOICES_FILE
    from yolo_studio.hydra.model import HydraDetector, add_head, extract
    from yolo_studio.hydra.store import HydraStore

    weights = trained_project.runs_dir / "tiny" / "weights" / "best.pt"
    extract(tmp_path, "h", weights, "shapes", imgsz=64)
    store = HydraStore(tmp_path / "h")
    for name in ("more", "other"):
        add_head(store, name, weights, {"precision": 0.5, "recall": 0.5}, ["square", "circle", "triangle"])
    image = images_in(tiny_dataset.parent / "images" / "val")[0]

    def boxes(result, exact=False):  # each head's five best objects, the other side to float rounding
        best = {}
        for o in sorted(result["objects"], key=lambda o: -o["conf"]):
            numbers = [o["conf"], *o["box"]]
            best.setdefault(o["head"], []).append([o["cls"], numbers if exact else pytest.approx(numbers, abs=1e-3)])
        return {head: found[:5] for head, found in best.items()}

    apart = HydraDetector(store, together="never")
    apart.load_active()
    found = apart.detect(image, imgsz=64, conf=0.001)
    assert apart.plan is None and found["objects"]
    reference = boxes(found, exact=True)

    joint = HydraDetector(store, together="always")
    joint.load_active()
    assert boxes(joint.detect(image, imgsz=64, conf=0.001)) == reference  # while the plan is built
    assert joint.wait_for_plan(120) and joint.plan.together() == {"shapes", "more", "other"}
    result = joint.detect(image, imgsz=64, conf=0.001)
    assert joint.plan.shared and boxes(result) == reference
    assert {"head:shapes", "head:more", "head:other"} <= set(result["timing"])
    joint.unload_head("other")
    # the old plan is dropped at once; the new one is built in the background and may already be ready
    assert joint.plan is None or joint.plan.generation == joint.generation
    assert {o["head"] for o in joint.detect(image, imgsz=64)["objects"]} <= {"shapes", "more"}
    assert joint.wait_for_plan(120) and joint.plan.together() == {"shapes", "more"}

    auto = HydraDetector(store)
    auto.load_active()
    auto.detect(image, imgsz=64, conf=0.001)
    assert auto.wait_for_plan(120)
    measured = auto.plan.measured[0]
    record = {k: measured[k] for k in ("separate_ms", "together_ms", "choice")}
    assert record in json.loads((studio_cache_dir() / CHOICES_FILE).read_text()).values()  # remembered
    assert record["separate_ms"] > 0 and record["together_ms"] > 0
    assert record["choice"] == ("together" if record["together_ms"] < record["separate_ms"] else "separate")
