"""Argument layouts: what the signature suggests, and what a real build on real inputs decides."""

import textwrap

import pytest

from yolo_studio.compat import block_layouts
from yolo_studio.compat.block_layouts import Row, call_for, candidates
from yolo_studio.core.blocks.custom_blocks import load_blocks
from yolo_studio.core.errors import BuildError
from yolo_studio.core.model.inspection import inspect_dict


def _cls(signature: str):
    namespace = {}
    exec(f"class Block:\n    def __init__(self, {signature}):\n        pass\n", namespace)
    return namespace["Block"]


@pytest.mark.parametrize("signature, row, first", [
    ("c1, c2, n=1, shortcut=False", Row(64, [128, True], n=2), ["repeat", [64, 128, 2, True]]),
    ("in_channels, out_channels, kernel_size=3", Row(64, [256]), ["base", [64, 256]]),
    ("channels, factor=32", Row(64, [8]), ["c1", [64, 8]]),
    ("channel, reduction=16", Row(64, [1024], width=0.0625), ["c1-replace", [64]]),  # a width written in the YAML
    ("e_lambda=1e-4", Row(64, []), ["verbatim", []]),
    ("inc, channel", Row([32, 64, 128], [256], width=0.5), ["inputs-base", [[32, 64, 128], 128]]),
    ("length", Row([32, 32], []), ["inputs-count", [2]]),
])
def test_the_first_call_tried_follows_the_parameter_names(signature, row, first):
    tier, layout = candidates(_cls(signature), row)[0]
    assert tier == 1 and [layout, call_for(layout, row)] == first


def test_several_inputs_try_each_input_for_c1_and_other_layouts_only_in_tier_two():
    tried = candidates(_cls("in_features"), Row([64, 128, 64], []))
    assert [layout for tier, layout in tried if tier == 1][:3] == ["inputs", "c1", "c1-replace"]
    assert ("c1[1]" in [layout for tier, layout in tried if tier == 1])
    assert all(tier == 2 for tier, layout in tried if layout.startswith("base"))


def test_widths_scale_as_ultralytics_scales_conv():
    row = Row(16, [1024, 3], width=0.25, max_channels=512)
    assert call_for("base", row) == [16, 128, 3]
    assert block_layouts.is_layout("c1[2]") and block_layouts.is_layout("concat") and not block_layouts.is_layout("wide")


MODEL = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "Conv", [64, 3, 2]]],
         "head": [[[1, 2], 1, "PLACEHOLDER", []], [[-1], 1, "Detect", ["nc"]]]}


def _model(module: str, args: list, from_=(1, 2)) -> dict:
    head = [[list(from_), 1, module, args], [[-1], 1, "Detect", ["nc"]]]
    return {**MODEL, "head": head}


def _blocks(tmp_path, source: str) -> dict:
    (tmp_path / "fuse.py").write_text(textwrap.dedent(source))
    return load_blocks(tmp_path)


FUSE = """
    import torch.nn as nn
    import torch.nn.functional as F

    class Fuse(nn.Module):
        def __init__(self, a, b=2):
            super().__init__()
            self.conv = nn.Conv2d(a, a, 1)
            self.b = b

        def forward(self, x):
            return self.conv(x[0]) if x[0].shape[1] == self.conv.in_channels else self.conv(x[1])
    """


def test_several_calls_that_run_make_the_layer_ambiguous_with_the_lines_to_choose(tmp_path):
    blocks = _blocks(tmp_path, FUSE)
    with pytest.raises(BuildError) as info:
        inspect_dict(_model("Fuse", [2]), imgsz=64, blocks=blocks)
    message = info.value.message
    assert info.value.layer == 3 and "nothing in its code says which one" in message
    assert message.count("channel_rule") == 2, "calls that build the same layer are one choice"
    assert 'channel_rule = "c1"  ->  Fuse(32, 2)' in message and 'channel_rule = "c1[1]"  ->  Fuse(64, 2)' in message


def test_the_declared_line_settles_it(tmp_path):
    blocks = _blocks(tmp_path, FUSE.replace("class Fuse(nn.Module):\n", "class Fuse(nn.Module):\n        channel_rule = \"c1[1]\"\n"))
    report = inspect_dict(_model("Fuse", [2]), imgsz=64, blocks=blocks)
    fuse = report.layers[3]
    assert fuse.args == [64, 2] and fuse.out_shape[0] == 64 and fuse.layout.startswith("c1[1] (declared")


def test_a_block_that_no_call_fits_names_the_layer_the_calls_and_the_declaration(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch.nn as nn

        class Needs(nn.Module):
            def __init__(self, c1, k):
                super().__init__()
                assert k in (3, 5), "k must be 3 or 5"
                self.conv = nn.Conv2d(c1, c1, k, padding=k // 2)

            def forward(self, x):
                return self.conv(x)
        """)
    model = {**MODEL, "head": [[-1, 1, "Needs", [7]], [[-1], 1, "Detect", ["nc"]]]}
    with pytest.raises(BuildError) as info:
        inspect_dict(model, imgsz=64, blocks=blocks)
    assert info.value.layer == 3
    assert "Needs could not be built on its 64 input channels: AssertionError: k must be 3 or 5" in info.value.message
    assert "c1: Needs(64, 7)" in info.value.message
    assert 'channel_rule = "<layout>"' in info.value.hint and "yaml_args(cls, row)" in info.value.hint


def test_a_call_the_names_do_not_suggest_is_used_with_a_note(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch.nn as nn

        class Odd(nn.Module):
            def __init__(self, q):
                super().__init__()
                self.conv = nn.Conv2d(q, 2 * q, 1)

            def forward(self, x):
                return self.conv(x)
        """)
    model = {**MODEL, "head": [[-1, 1, "Odd", []], [[-1], 1, "Detect", ["nc"]]]}
    report = inspect_dict(model, imgsz=64, blocks=blocks)
    assert report.layers[3].args == [64] and report.layers[3].out_shape[0] == 128, "measured, not promised"
    assert any('channel_rule = "c1"' in note for note in report.notes)


def test_a_yaml_args_classmethod_writes_the_call(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch
        import torch.nn as nn

        class Mix(nn.Module):
            @classmethod
            def yaml_args(cls, row):
                return [sum(row.c_in), row.channels(row.args[0])]

            def __init__(self, total, out):
                super().__init__()
                self.conv = nn.Conv2d(total, out, 1)

            def forward(self, xs):
                size = xs[-1].shape[2:]
                return self.conv(torch.cat([nn.functional.interpolate(x, size=size) for x in xs], 1))
        """)
    report = inspect_dict(_model("Mix", [40]), imgsz=64, blocks=blocks)
    assert report.layers[3].args == [96, 40] and report.layers[3].out_shape[0] == 40


def test_a_local_helper_named_like_an_ultralytics_block_does_not_replace_it(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch.nn as nn

        class Conv(nn.Module):
            def __init__(self, c1, c2, k=1, s=1):
                super().__init__()
                self.conv = nn.Conv2d(c1, c2, k, s, k // 2)

            def forward(self, x):
                return self.conv(x)

        class UsesConv(nn.Module):
            def __init__(self, c1):
                super().__init__()
                self.cv = Conv(c1, c1, 3)

            def forward(self, x):
                return self.cv(x)
        """)
    assert set(blocks) == {"UsesConv"}
    model = {**MODEL, "head": [[-1, 1, "UsesConv", []], [[-1], 1, "Detect", ["nc"]]]}
    report = inspect_dict(model, imgsz=64, blocks=blocks)
    assert report.layers[0].params == 464, "the YAML's Conv rows are Ultralytics' Conv (conv + batch norm)"


def test_a_block_returning_several_feature_maps_feeds_index_rows(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch.nn as nn

        class Pyramid(nn.Module):
            def __init__(self, c1):
                super().__init__()
                self.down = nn.Conv2d(c1, 2 * c1, 3, 2, 1)

            def forward(self, x):
                return [x, self.down(x)]
        """)
    model = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Pyramid", []],
                                   [1, 1, "Index", [16, 0]], [1, 1, "Index", [32, 1]]],
             "head": [[[2, 3], 1, "Detect", ["nc"]]]}
    report = inspect_dict(model, imgsz=64, blocks=blocks)
    assert report.layers[1].out_shape == [[16, 32, 32], [32, 16, 16]]
    assert report.layers[3].out_shape == [32, 16, 16]


def test_a_torch_layer_a_repository_added_to_base_modules_is_placed_like_a_block():
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.validation import needs_build, validate

    model = {"nc": 2, "scales": {"n": [0.5, 0.25, 1024]},
             "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "nn.Conv2d", [256, 1]], [-1, 1, "nn.Conv2d", [64, 64, 1]]],
             "head": [[[-1], 1, "Detect", ["nc"]]]}
    report = inspect_dict(model, imgsz=64)
    assert report.layers[1].args == [16, 64, 1] and report.layers[1].out_shape[0] == 64, "c1 and the width-scaled c2"
    assert report.layers[2].args == [64, 64, 1], "a torch row whose arguments fit is Ultralytics' business"
    import yaml

    doc = ModelDocument.from_text(yaml.safe_dump(model))
    problems = validate(doc)
    assert [(p.severity, p.layer) for p in problems] == [("warning", 1)] and needs_build(doc) == [1]


def test_declared_layouts_pass_validation_on_the_rows_they_are_for(tmp_path):
    """The lines the studio proposes must not be refused by its own validation."""
    import yaml

    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.validation import validate

    (tmp_path / "b.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Pick(nn.Module):
            channel_rule = "c1[1]"

            def __init__(self, a, b=2):
                super().__init__()
                self.conv = nn.Conv2d(a, a, 1)

            def forward(self, x):
                return self.conv(x[1])

        class Drop(nn.Module):
            channel_rule = "c1-only"

            def __init__(self, channels, factor=32):
                super().__init__()
                self.conv = nn.Conv2d(channels, channels, 1)

            def forward(self, x):
                return self.conv(x)
        """))
    model = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
             "head": [[[0, 1], 1, "Pick", [2]], [-1, 1, "Drop", [1024, 8]], [[-1], 1, "Detect", ["nc"]]]}
    catalog, errors = catalog_with_blocks(tmp_path)
    assert errors == [] and validate(ModelDocument.from_text(yaml.safe_dump(model)), catalog) == []
    report = inspect_dict(model, imgsz=64, blocks=load_blocks(tmp_path))
    assert report.layers[2].args == [32, 2] and report.layers[3].args == [32]


def test_a_suffixed_layout_found_as_a_last_resort_gets_its_note(tmp_path):
    blocks = _blocks(tmp_path, """
        import torch.nn as nn

        class Second(nn.Module):
            def __init__(self, q):
                super().__init__()
                self.conv = nn.Conv2d(q, q, 1)

            def forward(self, x):
                return self.conv(x[1])
        """)
    report = inspect_dict(_model("Second", []), imgsz=64, blocks=blocks)
    assert report.layers[3].args == [64]
    assert any('channel_rule = "c1[1]"' in note for note in report.notes)


def test_a_single_input_block_reading_its_shape_is_not_taken_for_a_fusion(tmp_path):
    import importlib.util

    from yolo_studio.core.blocks.block_check import forward_inputs

    (tmp_path / "shapes.py").write_text(textwrap.dedent("""
        class Plain:
            def forward(self, x):
                return [x[:, i] for i in range(x.shape[1])] and len(x.shape)

        class Fusion:
            def forward(self, xs):
                return sum(t for t in xs)
        """))
    spec = importlib.util.spec_from_file_location("shapes_for_forward_inputs", tmp_path / "shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert forward_inputs(module.Plain) == 1 and forward_inputs(module.Fusion) == 2
