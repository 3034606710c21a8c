"""Reading and writing model YAML: byte-identical round trips, comments kept through edits."""

from dataclasses import replace

import pytest
import yaml

from helpers import shipped_model_yamls
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import ModelYamlError

SHIPPED = shipped_model_yamls()


def test_ultralytics_ships_model_yamls():
    assert len(SHIPPED) >= 60


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_load_then_save_is_byte_identical(path):
    text = path.read_text(encoding="utf-8")
    assert ModelDocument.from_text(text, str(path)).to_yaml() == text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_rewritten_rows_are_semantically_identical(path):
    """With every row regenerated (as after edits), Ultralytics reads the same model."""
    text = path.read_text(encoding="utf-8")
    doc = ModelDocument.from_text(text, str(path))
    doc.rows = [replace(r, source=None) for r in doc.rows]
    out = doc.to_yaml()
    assert yaml.safe_load(out) == yaml.safe_load(text)
    rows = [line for line in out.splitlines() if line.lstrip().startswith("- [")]
    assert len(rows) == len(doc.rows)  # one row per line, flow style


def test_comments_survive_edits(resources):
    path = resources / "models" / "yolo11n-demo.yaml"
    doc = ModelDocument.load(path)
    doc.insert_row(3, [-1, 1, "nn.Identity", []])
    doc.set_header("nc", 5)
    out = doc.to_yaml()
    assert out.startswith("# YOLO Studio demo model")
    assert "- [-1, 1, Conv, [64, 3, 2]] # 0-P1/2" in out
    assert "  # [from, repeats, module, args]" in out
    assert "nc: 5 # number of classes in the demo dataset\n" in out  # its comment kept
    assert "n: [0.50, 0.25, 1024]" in out  # untouched header entries keep their spelling
    assert "- [-1, 1, nn.Identity, []]" in out


def test_changed_scale_keeps_sibling_lines(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    scales = dict(doc.header["scales"])
    scales["n"] = [0.33, 0.25, 1024]
    doc.set_header("scales", scales)
    out = doc.to_yaml()
    assert "  n: [0.33, 0.25, 1024]\n" in out and "  s: [0.50, 0.50, 1024]\n" in out
    assert "scales: # [depth, width, max_channels]" in out


def test_flow_style_sections_are_rewritten_one_row_per_line():
    text = "nc: 2\nbackbone: [[-1, 1, Conv, [16, 3, 2]], [-1, 1, Conv, [32, 3, 2]]]\nhead: [[[-1], 1, Detect, [nc]]]\n"
    doc = ModelDocument.from_text(text)
    out = doc.to_yaml()
    assert "  - [-1, 1, Conv, [16, 3, 2]]\n" in out
    assert yaml.safe_load(out) == yaml.safe_load(text)


def test_other_keys_and_values_are_kept():
    text = ("nc: 2\ncustom_key: {a: 1}\nend2end: True\nkpt_shape: [17, 3]\n"
            "backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n  - [[-1], 1, Detect, [nc]]\n")
    doc = ModelDocument.from_text(text)
    assert doc.header == {"nc": 2, "custom_key": {"a": 1}, "end2end": True, "kpt_shape": [17, 3]}
    assert doc.rows[0].module == "Conv" and doc.rows[1].from_ == [-1]
    assert doc.to_yaml() == text


def test_syntax_error_names_file_and_line():
    text = "nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]\nhead:\n  - [-1, 1, Detect, [nc]]\n"
    with pytest.raises(ModelYamlError) as info:
        ModelDocument.from_text(text, "m.yaml")
    assert info.value.file == "m.yaml" and info.value.line in (3, 4)
    assert "m.yaml:" in str(info.value)


def test_a_changed_type_is_written_even_when_python_calls_it_equal():
    text = "nc: 2\nbackbone:\n  - [-1, 1, C2f, [16, True]] # keep\nhead:\n  - [[-1], 1, Detect, [nc]]\n"
    doc = ModelDocument.from_text(text)
    doc.update_row(0, args=[16, 1])
    assert "  - [-1, 1, C2f, [16, 1]] # keep\n" in doc.to_yaml()
    doc.update_row(0, args=[16, True])
    assert doc.to_yaml() == text


def test_block_style_and_multi_line_rows(data_dir):
    path = data_dir / "models" / "block_style_rows.yaml"
    text = path.read_text()
    doc = ModelDocument.load(path)
    assert doc.to_yaml() == text
    assert [r.args for r in doc.rows] == [[16, 3, 2], [32, 3, 2], [64, 3, 2], ["nc"]]
    assert doc.rows[1].comment == "# two-line flow row" and doc.rows[1].leading == "  # between rows\n"
    doc.update_row(1, args=[48, 3, 2])
    assert "  # between rows\n  - [-1, 1, Conv, [48, 3, 2]] # two-line flow row\n  - - -1\n" in doc.to_yaml()
    assert yaml.safe_load(doc.to_yaml())["backbone"][1] == [-1, 1, "Conv", [48, 3, 2]]
