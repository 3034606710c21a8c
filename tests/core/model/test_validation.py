"""Validation: a corpus of malformed model YAMLs, each with its own specific message."""

import subprocess
import sys

import pytest

from helpers import shipped_model_yamls
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import ModelYamlError
from yolo_studio.core.model.validation import validate

# file -> (words the message must contain, line, layer)
CORPUS = {
    "bad_indentation.yaml": ("indented differently", 4, None),
    "tab_indentation.yaml": ("tab", 3, None),
    "unknown_module.yaml": ("unknown module 'Convv'", 4, 1),
    "forward_reference.yaml": ("not above layer 1", 4, 1),
    "wrong_arg_count.yaml": ("Conv takes 1 to 7 arguments here, got 9", 3, 0),
    "missing_head.yaml": ("no 'head' section", None, None),
    "non_list_row.yaml": ("must be a list of 4 items, got 'Conv'", 4, None),
    "short_row.yaml": ("a list of 3 items", 4, None),
    "missing_nc.yaml": ("'nc' (number of classes) is missing", None, None),
    "bad_scales.yaml": ("scale 'n' must be [depth, width, max_channels]", None, None),
    "head_not_last.yaml": ("not an output module", 5, 1),
    "not_a_mapping.yaml": ("must be a mapping", 1, None),
    "empty.yaml": ("must be a mapping", None, None),
    "two_inputs_to_conv.yaml": ("Conv takes one input", 4, 1),
    "duplicate_key.yaml": ("'nc' appears twice", 2, None),
    "zero_repeats.yaml": ("'repeats' must be a whole number", 4, None),
    "concat_single_input.yaml": ("Concat merges several inputs", 5, 1),
    "extra_bracket.yaml": ("one ']' more than it opens", 4, None),
}


def first_error(path):
    """(message, line, layer) of the first problem, whether from loading or validating."""
    try:
        doc = ModelDocument.load(path)
    except ModelYamlError as exc:
        return f"{exc.message} {exc.hint}", exc.line, None
    errors = [p for p in validate(doc) if p.severity == "error"]
    assert errors, f"{path.name} passed validation"
    return f"{errors[0].message} {errors[0].hint}", errors[0].line, errors[0].layer


def test_corpus_covers_every_file(data_dir):
    assert sorted(p.name for p in (data_dir / "malformed").glob("*.yaml")) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_malformed_yaml_gets_its_specific_message(data_dir, name):
    words, line, layer = CORPUS[name]
    message, got_line, got_layer = first_error(data_dir / "malformed" / name)
    assert words in message
    if line is not None:
        assert got_line == line
    assert got_layer == layer


def test_unknown_module_suggests_close_names(data_dir):
    message, _, _ = first_error(data_dir / "malformed" / "unknown_module.yaml")
    assert "Did you mean Conv" in message


@pytest.mark.parametrize("path", shipped_model_yamls(), ids=lambda p: p.name)
def test_shipped_models_have_no_problems(path):
    assert validate(ModelDocument.load(path)) == []


def test_validation_never_imports_torch(resources):
    code = ("import sys; from yolo_studio.core.model.document import ModelDocument;"
            "from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks;"
            "from yolo_studio.core.model.validation import validate;"
            f"cat, errs = catalog_with_blocks({str(resources / 'modules')!r});"
            f"doc = ModelDocument.load({str(resources / 'models' / 'yolo11n-se.yaml')!r});"
            "assert validate(doc, cat) == [], validate(doc, cat);"
            "assert 'torch' not in sys.modules and 'ultralytics' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_deleted_reference_is_an_error_on_its_layer(resources):
    doc = ModelDocument.load(resources / "models" / "yolo11n-demo.yaml")
    doc.delete_rows([6])
    problems = [p for p in validate(doc) if p.layer == 11]
    assert problems and "not connected" in problems[0].message


def test_custom_blocks_are_known_only_with_their_folder(resources):
    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks

    doc = ModelDocument.load(resources / "models" / "yolo11n-se.yaml")
    assert any("unknown module 'SEAttention'" in p.message for p in validate(doc))
    catalog, errors = catalog_with_blocks(resources / "modules")
    assert errors == [] and validate(doc, catalog) == []


def test_torch_nn_prefix_is_refused_like_ultralytics_does():
    text = "nc: 2\nbackbone:\n  - [-1, 1, torch.nn.Identity, []]\nhead:\n  - [[-1], 1, Detect, [nc]]\n"
    problems = validate(ModelDocument.from_text(text))
    assert problems[0].layer == 0 and "unknown module 'torch.nn.Identity'" in problems[0].message
