"""The parameter-free layers right after the split run once for every head, with the same outputs."""

from pathlib import Path

import torch

from yolo_studio.hydra import split as hs

DEMO = Path(__file__).resolve().parents[2] / "resources" / "models" / "yolo11n-demo.yaml"


def _model(yaml=DEMO):
    from ultralytics.nn.tasks import DetectionModel

    return DetectionModel(str(yaml), verbose=False).eval()


def test_the_default_split_keeps_each_heads_bottom_up_path_read_from_the_graph(tmp_path):
    import yaml

    model = _model()
    assert hs.backbone_end(model) == 11 and hs.default_split(model) == 17  # after P3 (layer 16), Detect reads 16, 19, 22
    assert type(model.model[16]).__name__ == "C3k2" and type(model.model[17]).__name__ == "Conv"
    longer = yaml.safe_load(DEMO.read_text())  # two more layers in the top-down path: the split follows the graph
    longer["head"][5:5] = [[-1, 1, "Conv", [256, 1, 1]], [-1, 1, "Conv", [256, 1, 1]]]
    for row in longer["head"]:  # renumber what reads the moved layers
        row[0] = [j + 2 if isinstance(j, int) and j >= 16 else j for j in row[0]] if isinstance(row[0], list) else row[0]
    longer["head"][-1][0] = [18, 21, 24]
    path = tmp_path / "longer.yaml"
    path.write_text(yaml.safe_dump(longer))
    assert hs.default_split(_model(path)) == 19
    single = yaml.safe_load(DEMO.read_text())
    single["head"][-1][0] = [22]  # an output reading one map: the end of the backbone
    path.write_text(yaml.safe_dump(single))
    assert hs.default_split(_model(path)) == 11


def test_upsample_and_concat_after_the_split_are_shared_and_change_nothing():
    model = _model()
    k = hs.backbone_end(model)
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
    k = hs.backbone_end(model)
    shared = hs.shared_prefix(model, k)
    assert hs.same_layers(model, _model(), k, shared)
    assert not hs.same_layers(model, _model(path), k, shared)
