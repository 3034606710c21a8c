"""The parameter-free layers right after the split run once for every head, with the same outputs."""

from pathlib import Path

import torch

from yolo_studio.hydra import split as hs

DEMO = Path(__file__).resolve().parents[2] / "resources" / "models" / "yolo11n-demo.yaml"


def _model(yaml=DEMO):
    from ultralytics.nn.tasks import DetectionModel

    return DetectionModel(str(yaml), verbose=False).eval()


def test_upsample_and_concat_after_the_split_are_shared_and_change_nothing():
    model = _model()
    k = hs.default_split(model)
    shared = hs.shared_prefix(model, k)
    assert [type(m).__name__ for m in model.model[k:shared]] == ["Upsample", "Concat"]
    assert hs.shared_prefix(model, shared) == shared  # a layer with weights ends the prefix
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        features = hs.run_backbone(model, x, k)
        from_split = hs.run_head(model, features, k)
        from_prefix = hs.run_head(model, hs.run_shared(model, features, k, shared), shared)
    assert torch.equal(from_split[0], from_prefix[0])


def test_a_head_with_other_layers_after_the_split_is_not_given_the_shared_outputs(tmp_path):
    import yaml

    other = yaml.safe_load(DEMO.read_text())
    other["head"][0] = [-1, 1, "nn.Upsample", [None, 2, "bilinear"]]  # same shapes, other values
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(other))
    model = _model()
    k = hs.default_split(model)
    shared = hs.shared_prefix(model, k)
    assert hs.same_layers(model, _model(), k, shared)
    assert not hs.same_layers(model, _model(path), k, shared)
