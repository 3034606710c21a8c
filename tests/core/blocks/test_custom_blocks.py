"""Custom blocks: discovery without torch, channel rules in real Ultralytics builds, the guard,
and checkpoints that load again in a fresh process."""

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from yolo_studio.compat.block_layouts import infer_layout
from yolo_studio.core.blocks.custom_blocks import BlockFileError, load_blocks, scan_blocks, scan_file
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import BuildError, CustomBlocksUnsupported
from yolo_studio.core.model.inspection import inspect_dict

TESTS = Path(__file__).resolve().parents[2]


@pytest.fixture
def blocks_dir(data_dir):
    return data_dir / "blocks"


@pytest.fixture
def rules_doc(data_dir):
    return ModelDocument.load(data_dir / "models" / "all_rules.yaml")


@pytest.mark.parametrize("names, rule", [
    (["c1", "c2", "n", "shortcut"], "repeat"), (["c1", "c2"], "base"), (["c1", "k"], "c1"),
    (["c1"], "c1"), (["dim"], "c1"), ([], "verbatim"), (["c2", "c1"], "verbatim"),
    (["in_channels", "out_channels", "num_blocks"], "repeat"), (["inc", "ouc"], "base"), (["inp", "oup", "reduction"], "base"),
    (["channels", "factor"], "c1"), (["channel", "reduction"], "c1"), (["e_lambda"], "verbatim"), (["dimension"], "verbatim"),
])
def test_layout_inference_from_constructor_names(names, rule):
    assert infer_layout(names) == rule


def test_scan_reads_rules_without_importing(blocks_dir):
    blocks, errors = scan_blocks(blocks_dir)
    assert errors == []
    rules = {b.info.name: b.info.rule for b in blocks}
    assert rules == {"KeepAttention": "c1", "StridedConv": "base", "StackedConv": "repeat",
                     "WeightedFuse": "concat", "Shift": "verbatim", "DeclaredBase": "base"}
    fuse = next(b for b in blocks if b.info.name == "WeightedFuse")
    assert fuse.declared_rule == "concat" and fuse.info.multi_input and fuse.info.category == "custom"
    assert next(b for b in blocks if b.info.name == "StackedConv").info.yaml_arg_range() == (1, 2)


def test_scan_reports_syntax_errors_with_line(tmp_path):
    (tmp_path / "bad.py").write_text("import torch.nn as nn\n\nclass A(nn.Module)\n    pass\n")
    with pytest.raises(BlockFileError) as info:
        scan_file(tmp_path / "bad.py")
    assert info.value.line == 3 and "syntax error" in info.value.message


def test_unknown_declared_rule_is_reported(tmp_path):
    (tmp_path / "b.py").write_text("import torch.nn as nn\nclass B(nn.Module):\n    channel_rule = 'wide'\n")
    _, errors = scan_blocks(tmp_path)
    assert len(errors) == 1 and "unknown channel_rule 'wide'" in str(errors[0]) and errors[0].line == 2


def test_import_errors_point_at_the_raising_line(tmp_path):
    (tmp_path / "boom.py").write_text("import torch.nn as nn\n\nx = 1 / 0\n")
    with pytest.raises(BlockFileError) as info:
        load_blocks(tmp_path)
    assert info.value.line == 3 and "ZeroDivisionError" in info.value.message


def _width(c, w, max_c=1024):
    import math

    return int(math.ceil(min(c, max_c) * w / 8) * 8)


@pytest.mark.parametrize("scale", ["n", "s", "m"])
def test_every_rule_builds_and_runs_at_several_scales(rules_doc, blocks_dir, scale):
    depth, width, max_c = rules_doc.header["scales"][scale]
    report = inspect_dict(rules_doc.to_dict(), scale=scale, imgsz=64, blocks=load_blocks(blocks_dir))
    assert report.error is None
    by = {layer.index: layer for layer in report.layers}
    c0, c1, c4, c6 = (_width(c, width, max_c) for c in (64, 128, 256, 512))
    n2 = max(round(3 * depth), 1)
    assert by[1].args == [c0, c1]  # base: c1 injected, c2 scaled
    assert by[2].args == [c1, c1, n2] and by[2].repeats == n2  # repeat: c1, c2, n
    assert by[3].args == [c1, 4] and by[3].out_shape == [c1, 16, 16]  # c1: input channels first
    assert by[4].args == [c1, c4, 3] and by[4].out_shape == [c4, 8, 8]
    assert by[5].args == [0.5] and by[5].out_shape == [c4, 8, 8]  # passthrough
    assert by[7].args == [c6, c6]  # declared base
    assert by[9].args == [1] and by[9].out_shape == [c6 + c4, 8, 8]  # concat: sum of inputs
    assert by[10].args == [c6 + c4]
    assert by[11].args[-1] == [c6 + c4, c6]  # Detect sees the right channels
    assert report.params == sum(layer.params for layer in report.layers)


def test_custom_blocks_without_the_hook_would_be_wrong(rules_doc, blocks_dir):
    """Plain Ultralytics gives unknown modules their args verbatim: the reason the hook exists."""
    from ultralytics.nn import tasks

    d = rules_doc.to_dict(scale="n")
    blocks = load_blocks(blocks_dir)
    for name, (cls, _) in blocks.items():
        setattr(tasks, name, cls)
    try:
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'c2'"):
            tasks.DetectionModel(d, verbose=False)
    finally:
        for name in blocks:
            delattr(tasks, name)


def test_inspection_leaves_ultralytics_as_it_was(rules_doc, blocks_dir):
    from ultralytics.nn import tasks
    from ultralytics.nn.modules import Conv, Detect

    logger = logging.getLogger("ultralytics")
    before = (tasks.parse_model, Conv.default_act, Detect.__dict__.get("legacy"), list(logger.handlers),
              sorted(vars(tasks)))
    d = rules_doc.to_dict()
    d["activation"] = "nn.ReLU()"
    inspect_dict(d, scale="n", imgsz=32, blocks=load_blocks(blocks_dir))
    after = (tasks.parse_model, Conv.default_act, Detect.__dict__.get("legacy"), list(logger.handlers),
             sorted(vars(tasks)))
    assert after == before


def test_build_errors_name_the_layer(rules_doc, blocks_dir, tmp_path):
    (tmp_path / "broken.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Broken(nn.Module):
            def __init__(self, c1, c2):
                super().__init__()
                raise ValueError("cannot build with these channels")
        """))
    doc = rules_doc
    doc.update_row(6, module="Broken", args=[512])
    with pytest.raises(BuildError) as info:
        inspect_dict(doc.to_dict(), scale="n", imgsz=32, blocks={**load_blocks(blocks_dir), **load_blocks(tmp_path)})
    assert info.value.layer == 6 and "cannot build with these channels" in info.value.message


def test_forward_errors_name_the_layer(rules_doc, blocks_dir):
    doc = rules_doc
    doc.update_row(9, module="Concat")  # Concat of 16x16 and 8x8 maps cannot run
    doc.update_row(8, module="nn.Identity", args=[])
    with pytest.raises(BuildError) as info:
        inspect_dict(doc.to_dict(), scale="n", imgsz=64, blocks=load_blocks(blocks_dir))
    assert info.value.layer == 9 and "joins maps of different sizes" in info.value.message


def test_guard_says_plainly_when_ultralytics_changed(rules_doc, blocks_dir, monkeypatch):
    from ultralytics.nn import tasks

    def parse_model(cfg, channels, verbose=True):  # a future Ultralytics with another signature
        raise AssertionError("must not be called")

    monkeypatch.setattr(tasks, "parse_model", parse_model)
    with pytest.raises(CustomBlocksUnsupported) as info:
        inspect_dict(rules_doc.to_dict(), scale="n", imgsz=32, blocks=load_blocks(blocks_dir))
    assert "changed parse_model's signature" in str(info.value) and "8.4" in str(info.value)


def test_checkpoint_trained_with_custom_blocks_loads_in_a_fresh_process(data_dir, blocks_dir, tmp_path):
    """A real (tiny) training with custom blocks, then its checkpoint loads in a new process."""
    from yolo_studio.core.data.demo_dataset import generate

    data = generate(tmp_path / "data", train=16, val=8, imgsz=64, seed=1)
    model = data_dir / "models" / "all_rules.yaml"
    train = f"""
        import network_guard; network_guard.install()
        import yolo_studio
        from yolo_studio.compat import ultralytics_hook
        from yolo_studio.core.blocks.custom_blocks import load_blocks
        ultralytics_hook.install(load_blocks({str(blocks_dir)!r}))
        from ultralytics import YOLO
        YOLO({str(model)!r}).train(data={str(data)!r}, epochs=1, imgsz=64, batch=8, workers=0, device="cpu",
                                   project={str(tmp_path / "runs")!r}, name="t", plots=False, amp=False,
                                   exist_ok=True, verbose=False)
        """
    subprocess.run([sys.executable, "-c", textwrap.dedent(train)], check=True, cwd=TESTS, capture_output=True)
    weights = tmp_path / "runs" / "t" / "weights" / "last.pt"
    assert weights.exists()
    load = f"""
        import network_guard; network_guard.install()
        import yolo_studio, torch
        from yolo_studio.core.blocks.custom_blocks import register_modules_dir
        register_modules_dir({str(blocks_dir)!r})
        from ultralytics import YOLO
        model = YOLO({str(weights)!r}).model.float().eval()
        kinds = sorted({{type(m).__module__ for m in model.modules() if type(m).__module__.startswith("yolo_studio_blocks")}})
        print(kinds)
        with torch.no_grad():
            out = model(torch.zeros(1, 3, 64, 64))
        print(tuple(out[0].shape))
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(load)], check=True, cwd=TESTS,
                            capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "['yolo_studio_blocks.rules']"
    assert lines[-1] == "(1, 7, 80)"  # 4 box + 3 classes, anchors of the P3 and P4 maps at 64 px


def test_ultralytics_blocks_unknown_to_parse_model_are_built_by_the_studio(data_dir):
    """CBAM and friends are exported by ultralytics.nn.modules but parse_model cannot resolve them."""
    from yolo_studio.core.model.validation import validate

    doc = ModelDocument.load(data_dir / "models" / "ultralytics_extras.yaml")
    problems = validate(doc)
    assert [(p.severity, p.layer) for p in problems] == [("warning", 2), ("warning", 3)]
    assert "reads its call from its signature" in problems[0].message
    report = inspect_dict(doc.to_dict(), scale="n", imgsz=64)
    cbam, transformer = report.layers[2], report.layers[3]
    assert cbam.args == [32, 7] and cbam.out_shape == [32, 16, 16]
    assert transformer.args == [32, 32, 4, 1] and transformer.out_shape == [32, 16, 16]


def test_a_file_of_the_same_name_in_another_folder_is_loaded_as_itself(tmp_path):
    from yolo_studio.core.blocks.custom_blocks import load_block_file

    for folder, cls in (("one", "First"), ("two", "Second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "blocks.py").write_text(
            f"import torch.nn as nn\n\nclass {cls}(nn.Module):\n    def __init__(self, c1):\n        super().__init__()\n")
    assert list(load_block_file(tmp_path / "one" / "blocks.py")) == ["First"]
    assert list(load_block_file(tmp_path / "two" / "blocks.py")) == ["Second"]
    assert list(load_blocks(tmp_path / "one")) == ["First"]


def test_a_file_pasted_from_a_fork_keeps_its_relative_imports(tmp_path):
    """Blocks copied out of a fork's ultralytics/nn/modules/ import Ultralytics relatively."""
    (tmp_path / "helpers.py").write_text("import torch.nn as nn\n\nclass Gate(nn.Module):\n"
                                         "    def forward(self, x):\n        return x.sigmoid() * x\n")
    (tmp_path / "block.py").write_text(textwrap.dedent("""
        import torch.nn as nn
        from .conv import Conv, autopad
        from ..modules.block import C2f
        from ...utils import LOGGER
        from .helpers import Gate

        class C2fGated(C2f):
            def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
                super().__init__(c1, c2, n, shortcut, g, e)
                self.gate = Gate()

            def forward(self, x):
                return self.gate(super().forward(x))

        class SameConv(nn.Module):
            def __init__(self, c1, c2, k=3):
                super().__init__()
                self.conv = Conv(c1, c2, k, 1, autopad(k))

            def forward(self, x):
                return self.conv(x)
        """))
    blocks = load_blocks(tmp_path)
    assert {"C2fGated", "SameConv", "Gate"} <= set(blocks)
    model = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 2, "C2fGated", [32]], [-1, 1, "SameConv", [48]]],
             "head": [[[-1], 1, "Detect", ["nc"]]]}
    report = inspect_dict(model, imgsz=64, blocks=blocks)
    assert [layer.out_shape[0] for layer in report.layers[:3]] == [16, 32, 48]
    assert report.layers[1].args[:3] == [16, 32, 2], "a C2f subclass gets the repeats, as C2f does"
