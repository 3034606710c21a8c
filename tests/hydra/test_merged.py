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
