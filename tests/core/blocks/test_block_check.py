"""Checking block files in a child process: each kind of problem is reported with its line; a class
that cannot be built alone is a warning, never a refusal of its file."""

import textwrap

import pytest

from yolo_studio.core.blocks.block_check import check_file

# file -> (error kind or block problem, line, words)
BAD = {
    "syntax_error.py": ("syntax", 3, "expected ':'"),
    "import_error.py": ("import", 2, "No module named 'not_a_module_anywhere'"),
    "no_blocks.py": ("empty", None, "no torch.nn.Module subclass"),
    "init_raises.py": ("__init__", 7, "ValueError: c1 must be even"),
    "forward_raises.py": ("forward", 10, "expected input[1, 32, 16, 16] to have 64 channels"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_problem_is_reported_with_its_line(data_dir, name):
    kind, line, words = BAD[name]
    result = check_file(data_dir / "bad_blocks" / name)
    if kind in ("syntax", "import", "empty"):
        assert result["ok"] is False
        assert (result["error"]["kind"], result["error"]["line"]) == (kind, line)
        assert words in result["error"]["message"]
        return
    assert result["ok"] is True, "a class that fails alone does not refuse its file: a model may never use it"
    block = result["blocks"][0]
    assert block["ok"] is False and block["error"]["warning"]
    assert (block["error"]["where"], block["error"]["line"]) == (kind, line)
    assert words in block["error"]["message"]


def test_output_channels_are_measured_not_promised(tmp_path):
    (tmp_path / "widen.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Widen(nn.Module):
            channel_rule = "c1"

            def __init__(self, c1):
                super().__init__()
                self.conv = nn.Conv2d(c1, c1 * 2, 1)

            def forward(self, x):
                return self.conv(x)
        """))
    block = check_file(tmp_path / "widen.py")["blocks"][0]
    assert block["ok"] and block["declared"] and block["out_shape"] == [64, 16, 16] and block["args"] == [32]


def test_blocks_meet_channels_last_memory_and_mixed_precision_before_a_gpu_training(tmp_path):
    """A block calling .view() on its input, or adding a float32 tensor it makes to half-precision
    activations, passed every check and failed at the first batch of a GPU training."""
    (tmp_path / "gpu_traps.py").write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn

        class Flattens(nn.Module):
            def __init__(self, c1, c2):
                super().__init__()
                self.conv = nn.Conv2d(c1, c2, 1)

            def forward(self, x):
                b, c, h, w = x.shape
                t = x.view(b, c * h * w)
                return self.conv(t.softmax(1).view(b, c, h, w))

        class FixedBias(nn.Module):
            def __init__(self, c1, c2):
                super().__init__()
                self.conv = nn.Conv2d(c1, c2, 1)

            def forward(self, x):
                y = self.conv(x)
                base = torch.ones(y.shape, dtype=torch.float32)
                return torch.lerp(base, y, 0.5)

        class Fine(nn.Module):
            def __init__(self, c1, c2):
                super().__init__()
                self.conv = nn.Conv2d(c1, c2, 1)

            def forward(self, x):
                return self.conv(x).flatten(2).reshape(x.shape[0], -1, *x.shape[2:])
        """))
    by = {b["name"]: b for b in check_file(tmp_path / "gpu_traps.py")["blocks"]}
    assert all(b["ok"] for b in by.values())  # warnings: a CPU build in plain memory works
    view = by["Flattens"]["training"]
    assert [p["when"] for p in view] == ["channels-last"] and view[0]["line"] == 12 and ".reshape(" in view[0]["advice"]
    amp = by["FixedBias"]["training"]
    assert [p["when"] for p in amp] == ["mixed precision"] and amp[0]["line"] == 23 and "x.dtype" in amp[0]["advice"]
    assert by["Fine"]["training"] == []


def test_helpers_are_named_and_multi_input_blocks_get_their_inputs(tmp_path):
    (tmp_path / "cbam.py").write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn

        class ChannelGate(nn.Module):
            def __init__(self, gate_channels, reduction_ratio, pool_types):
                super().__init__()
                self.mlp = nn.Linear(gate_channels, gate_channels // reduction_ratio)

            def forward(self, x):
                return x

        class CBAMLike(nn.Module):
            def __init__(self, c1, reduction=16):
                super().__init__()
                self.gate = ChannelGate(c1, reduction, ["avg"])

            def forward(self, x):
                return self.gate(x)

        class Fuse3(nn.Module):
            def __init__(self, dimension=1):
                super().__init__()
                self.d = dimension

            def forward(self, x):
                return torch.cat([x[0], x[1], x[2]], self.d)
        """))
    result = check_file(tmp_path / "cbam.py")
    by = {b["name"]: b for b in result["blocks"]}
    assert result["ok"] and by["CBAMLike"]["ok"]
    assert not by["ChannelGate"]["ok"] and by["ChannelGate"]["helper"] == "CBAMLike"
    assert by["Fuse3"]["ok"] and by["Fuse3"]["out_shape"] == [3 * 32, 16, 16], "three inputs, as forward reads"


def test_an_infinite_loop_is_stopped_by_the_timeout(data_dir):
    result = check_file(data_dir / "bad_blocks" / "loops.py", timeout=8)
    assert result["error"]["kind"] == "timeout" and "loop forever" in result["error"]["message"]


def test_every_rule_passes_its_smoke_test(data_dir):
    result = check_file(data_dir / "blocks" / "rules.py")
    assert result["ok"] and result["error"] is None
    by = {b["name"]: b for b in result["blocks"]}
    assert by["KeepAttention"]["out_shape"] == [32, 16, 16] and by["KeepAttention"]["rule"] == "c1"
    assert by["StridedConv"]["out_shape"] == [64, 8, 8]
    assert by["StackedConv"]["out_shape"] == [64, 16, 16] and by["StackedConv"]["params"] > 0
    assert by["WeightedFuse"]["out_shape"] == [64, 16, 16] and by["WeightedFuse"]["declared"]
    assert by["Shift"]["rule"] == "verbatim" and by["Shift"]["ok"]
    assert by["DeclaredBase"]["out_shape"] == [64, 16, 16]
    assert all(b["ms"] is not None for b in result["blocks"])


def test_onnx_check_exports_every_rule(data_dir):
    result = check_file(data_dir / "blocks" / "rules.py", onnx=True)
    assert result["ok"]
    assert all(b["onnx"]["ok"] for b in result["blocks"]), [b["onnx"] for b in result["blocks"]]


def test_onnx_check_names_the_unsupported_operator_without_failing_the_block(data_dir):
    result = check_file(data_dir / "bad_blocks" / "not_onnx.py", onnx=True)
    by = {b["name"]: b for b in result["blocks"]}
    assert result["ok"], "an ONNX failure is reported, not a check failure"
    assert by["SpectralGate"]["onnx"]["ok"] is False
    assert by["SpectralGate"]["onnx"]["unsupported"] == ["aten::fft_fft2"]
    assert by["Plain"]["onnx"]["ok"] is True


def test_onnx_check_is_off_by_default(data_dir):
    result = check_file(data_dir / "bad_blocks" / "not_onnx.py")
    assert all("onnx" not in b for b in result["blocks"])
