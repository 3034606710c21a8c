"""Block templates and editing a class's declared channel rule in its source."""

import ast

import pytest

from yolo_studio.core.blocks.block_check import check_file
from yolo_studio.core.blocks.block_source import TEMPLATES, set_channel_rule, template_text
from yolo_studio.core.blocks.custom_blocks import scan_file


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_passes_the_check_for_its_rule(kind, tmp_path):
    text, name = template_text(kind)
    path = tmp_path / "block.py"
    path.write_text(text)
    expected_rule = kind.split("rule ")[1].rstrip(")")
    assert scan_file(path)[0].info.rule == expected_rule
    result = check_file(path)
    assert result["ok"], result
    assert result["blocks"][0]["name"] == name


def test_declare_change_and_remove_a_rule_keeps_the_rest():
    source, name = template_text("conv-like (sets channels, rule base)")
    declared = set_channel_rule(source, name, "c1")
    assert 'channel_rule = "c1"' in declared
    cls = next(n for n in ast.parse(declared).body if isinstance(n, ast.ClassDef))
    assert isinstance(cls.body[0], ast.Expr)  # the docstring stays first
    changed = set_channel_rule(declared, name, "base")
    assert 'channel_rule = "base"' in changed and 'channel_rule = "c1"' not in changed
    assert set_channel_rule(changed, name, None) == source


def test_class_without_docstring_and_unknown_class():
    source = "import torch.nn as nn\n\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    out = set_channel_rule(source, "A", "passthrough")
    assert out.splitlines()[3] == '    channel_rule = "passthrough"'
    ast.parse(out)
    assert set_channel_rule(out, "A", None) == source
    with pytest.raises(KeyError):
        set_channel_rule(source, "B", "c1")
