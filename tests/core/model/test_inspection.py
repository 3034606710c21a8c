"""Inspection equals Ultralytics' own build for every shipped model YAML (two scales of each)."""

import re

import pytest

from helpers import shipped_model_yamls
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import BuildError
from yolo_studio.core.model.inspection import inspect_dict


def _cases():
    """Every shipped YAML at its smallest scale, and each larger scale letter of a family (yolo11, yolov8, ...)
    once, on the family's YAMLs in turn: every scale of every family is built, without building each YAML
    five times (the x scales alone took two minutes of the suite; one larger scale of every YAML, two and a
    half)."""
    wanted: dict = {}  # family -> larger scale letters not built yet
    for path in shipped_model_yamls():
        doc = ModelDocument.load(path)
        scales = doc.scales() or [None]
        family = re.match(r"[a-z]+\d*", path.stem).group(0)
        left = wanted.setdefault(family, [])
        left += [s for s in scales[1:] if s not in left and s not in wanted.get(family + " done", [])]
        larger = next((s for s in left if s in scales[1:]), None)
        if larger is not None:
            left.remove(larger)
            wanted.setdefault(family + " done", []).append(larger)
        for scale in [scales[0]] + ([larger] if larger is not None else []):
            yield pytest.param(path, scale, id=f"{path.stem}-{scale or 'default'}")


def _ultralytics_params(path, scale, tmp_path):
    """Build with plain Ultralytics the way a user would: YOLO('yolo11n-seg.yaml') / RTDETR(...)."""
    from ultralytics import RTDETR, YOLO

    text = path.read_text()
    if "TorchVision" in text:  # the reference must not download pretrained weights either
        text = re.sub(r"(TorchVision, \[[^,]+, [^,]+, )DEFAULT", r"\1None", text)
    doc = ModelDocument.from_text(text)
    stem = path.stem
    if scale is not None and len(doc.scales()) > 1:
        stem = re.sub(r"^(.*?\d+)", rf"\g<1>{scale}", stem, count=1)  # yolo11-seg -> yolo11n-seg
    copy = tmp_path / f"{stem}.yaml"
    copy.write_text(text)
    model = RTDETR(str(copy)) if "rtdetr" in stem else YOLO(str(copy), verbose=False)
    return sum(p.numel() for p in model.model.parameters()), model.task, type(model.model).__name__


@pytest.mark.parametrize("path, scale", list(_cases()))
def test_inspection_matches_ultralytics(path, scale, tmp_path):
    report = inspect_dict(ModelDocument.load(path).to_dict(), scale=scale, imgsz=64)
    assert report.error is None
    params, task, model_class = _ultralytics_params(path, scale, tmp_path)
    assert report.params == params
    assert (report.task, report.model_class) == (task, model_class)
    assert sum(layer.params for layer in report.layers) == params
    assert all(layer.out_shape is not None for layer in report.layers)
    assert report.gflops > 0


def test_yolo11n_report_details(resources):
    report = inspect_dict(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml").to_dict(), scale="n",
                          imgsz=640)
    first, c3k2, concat, detect = report.layers[0], report.layers[2], report.layers[12], report.layers[-1]
    assert (first.args, first.out_shape, first.params) == ([3, 16, 3, 2], [16, 320, 320], 464)
    assert c3k2.repeats == 1 and c3k2.args == [32, 64, 1, False, 0.25]  # depth 0.5 x 2 repeats
    assert concat.from_ == [-1, 6] and concat.out_shape == [384, 40, 40]
    assert detect.args == [3, 16, None, [64, 128, 256]]
    assert report.model_class == "DetectionModel" and report.layers[0].section == "backbone"
    assert 6.0 < report.gflops < 7.0


def test_pretrained_torchvision_is_built_without_weights():
    path = next(p for p in shipped_model_yamls() if p.name == "yolo11-cls-resnet18.yaml")
    report = inspect_dict(ModelDocument.load(path).to_dict(), imgsz=64)  # the network guard would fail a download
    assert any("without its pretrained weights" in note for note in report.notes)
    assert report.task == "classify"


def test_unknown_scale_is_refused(resources):
    with pytest.raises(BuildError) as info:
        inspect_dict(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml").to_dict(), scale="q")
    assert "scale 'q' is not defined" in info.value.message


def test_bad_arguments_are_mapped_to_their_layer(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    doc.update_row(3, args=[256, 3, "two"])
    with pytest.raises(BuildError) as info:
        inspect_dict(doc.to_dict(), scale="n", imgsz=64)
    assert info.value.layer == 3


def test_channels_header_sets_the_input_channels(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    doc.set_header("channels", 1)
    report = inspect_dict(doc.to_dict(), scale="n", imgsz=64)
    assert report.layers[0].args[0] == 1 and report.error is None


def test_a_concat_of_maps_of_different_sizes_names_the_sizes_the_nodes_show():
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.errors import BuildError

    doc = ModelDocument.from_text(
        "nc: 3\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [32, 3, 2]]\n"
        "  - [-1, 1, Conv, [64, 3, 2]]\n  - [-1, 1, Conv, [64, 3, 2]]\n"
        "head:\n  - [[-1, 2], 1, Concat, [1]]\n  - [[-1], 1, Detect, [nc]]\n", "m.yaml")
    for imgsz, small, large in ((640, "40×40", "80×80"), (320, "20×20", "40×40")):
        with pytest.raises(BuildError) as caught:
            inspect_dict(doc.to_dict(), imgsz=imgsz)
        assert caught.value.layer == 4
        assert f"input 0 (layer 3) is {small} but input 1 (layer 2) is {large} at imgsz {imgsz}" in caught.value.message


def test_shapes_are_handed_over_before_the_flops_are_counted(resources):
    """A designer shows shapes from the early report; the final one adds GFLOPs and changes nothing else."""
    early = []
    report = inspect_dict(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml").to_dict(), scale="n",
                          imgsz=640, on_shapes=early.append)
    (first,) = early
    assert first is not report and not first.flops_counted and report.flops_counted
    assert first.gflops == 0 and 6.0 < report.gflops < 7.0
    assert [layer.out_shape for layer in first.layers] == [layer.out_shape for layer in report.layers]
    assert first.layers[12].out_shape == [384, 40, 40] and first.params == report.params



def test_counting_stops_when_told_to_and_the_shapes_were_handed_over(resources):
    from yolo_studio.core.model.inspection import InspectionStopped

    early, asked = [], []
    with pytest.raises(InspectionStopped):
        inspect_dict(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml").to_dict(), scale="n", imgsz=640,
                     on_shapes=early.append, keep_going=lambda: not asked.append(1) and len(asked) < 3)
    assert len(early) == 1 and early[0].layers[0].out_shape == [16, 320, 320] and len(asked) == 3
    report = inspect_dict(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml").to_dict(), scale="n",
                          imgsz=640)  # Ultralytics and the studio are left as they were
    assert 6.0 < report.gflops < 7.0


def test_a_block_that_needs_contiguous_memory_is_inspected_without_a_false_error(tmp_path):
    """Shapes are measured with channels-last memory (faster on a CPU); a block whose ``view`` needs the
    usual layout, as many papers' blocks do, is measured again in it instead of reported broken."""
    import torch.nn as nn

    class Flatten2d(nn.Module):  # reshapes with view(), which refuses a channels-last input
        def __init__(self, c1):
            super().__init__()
            self.proj = nn.Conv2d(c1, c1, 1)

        def forward(self, x):
            b, c, h, w = x.shape
            y = self.proj(x).view(b, c * h * w).softmax(-1).view(b, c, h, w)
            return x * y

    d = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Flatten2d", []], [-1, 1, "Conv", [32, 3, 2]]],
         "head": [[[1, 2], 1, "Detect", ["nc"]]]}
    import torch

    with pytest.raises(RuntimeError, match="view"):  # the premise: this block refuses channels-last input
        Flatten2d(4)(torch.zeros(1, 4, 8, 8).contiguous(memory_format=torch.channels_last))
    report = inspect_dict(d, imgsz=128, blocks={"Flatten2d": (Flatten2d, None)})
    assert report.error is None and report.layers[1].out_shape == [16, 64, 64] and report.gflops > 0


def test_models_built_from_two_threads_at_once_are_right_and_ultralytics_is_restored():
    """The designer's inspection, preflight and the transfer report may build at the same moment; builds
    set class attributes (Detect.legacy ...) that a build on another thread must neither see nor keep."""
    import threading

    from ultralytics.nn import modules

    from yolo_studio.core.model.transfer import target_shapes

    paths = {p.name: p for p in shipped_model_yamls()}
    models = [ModelDocument.load(paths[name]).to_dict() for name in ("yolo11.yaml", "yolo11-seg.yaml", "yolov8-cls.yaml")]
    alone = [inspect_dict(m, imgsz=64).params for m in models]
    shapes_alone = target_shapes(models[1], "n")
    before = {cls: dict(vars(cls)) for cls in vars(modules).values() if isinstance(cls, type)}
    results, errors = {}, []

    def work(k: int) -> None:
        try:
            for _ in range(3):
                results.setdefault(k, []).append(inspect_dict(models[k], imgsz=64).params)
                results.setdefault("shapes", []).append(target_shapes(models[1], "n") == shapes_alone)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [] and all(results[k] == [alone[k]] * 3 for k in range(3)) and all(results["shapes"])
    after = {cls: dict(vars(cls)) for cls in vars(modules).values() if isinstance(cls, type)}
    assert {cls: {k for k in before[cls] if before[cls][k] is not after[cls].get(k)} for cls in before} == \
        {cls: set() for cls in before}
