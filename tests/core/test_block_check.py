"""Checking block files in a child process: each kind of problem is reported with its line."""

import pytest

from yolo_studio.core.block_check import check_file

# file -> (error kind or block problem, line, words)
BAD = {
    "syntax_error.py": ("syntax", 3, "expected ':'"),
    "import_error.py": ("import", 2, "No module named 'not_a_module_anywhere'"),
    "no_blocks.py": ("empty", None, "no torch.nn.Module subclass"),
    "init_raises.py": ("__init__", 7, "ValueError: c1 must be even"),
    "forward_raises.py": ("forward", 10, "expected input[1, 32, 16, 16] to have 64 channels"),
    "mismatch.py": ("mismatch", 4, "rule 'c1' promises 32 output channels"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_problem_is_reported_with_its_line(data_dir, name):
    kind, line, words = BAD[name]
    result = check_file(data_dir / "bad_blocks" / name)
    assert result["ok"] is False
    if kind in ("syntax", "import", "empty"):
        assert (result["error"]["kind"], result["error"]["line"]) == (kind, line)
        assert words in result["error"]["message"]
        return
    block = result["blocks"][0]
    if kind == "mismatch":
        assert block["line"] == line and words in block["mismatch"] and block["declared"]
    else:
        assert (block["error"]["where"], block["error"]["line"]) == (kind, line)
        assert words in block["error"]["message"]


def test_an_infinite_loop_is_stopped_by_the_timeout(data_dir):
    result = check_file(data_dir / "bad_blocks" / "loops.py", timeout=12)
    assert result["error"]["kind"] == "timeout" and "loop forever" in result["error"]["message"]


def test_every_rule_passes_its_smoke_test(data_dir):
    result = check_file(data_dir / "blocks" / "rules.py")
    assert result["ok"] and result["error"] is None
    by = {b["name"]: b for b in result["blocks"]}
    assert by["KeepAttention"]["out_shape"] == [32, 16, 16] and by["KeepAttention"]["rule"] == "c1"
    assert by["StridedConv"]["out_shape"] == [64, 8, 8]
    assert by["StackedConv"]["out_shape"] == [64, 16, 16] and by["StackedConv"]["params"] > 0
    assert by["WeightedFuse"]["out_shape"] == [48, 16, 16] and by["WeightedFuse"]["declared"]
    assert by["Shift"]["rule"] == "passthrough" and by["Shift"]["ok"]
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
