"""A fork's own tasks.py in the block folder: read, never imported, and its parse_model replayed for the blocks it
names, so rows whose repository contradicts their code build as the fork builds them.

The tasks.py files are generated from each case's patch (``community_reference.fork_tasks_source``): the fork's
imports name its own module paths, which the installed Ultralytics lacks, as a real copied file does."""

import copy
import shutil

import pytest

import community_reference as reference
from yolo_studio.compat import fork_tasks
from yolo_studio.core.blocks.block_check import load_vetted_blocks
from yolo_studio.core.blocks.custom_blocks import block_files, catalog_with_blocks
from yolo_studio.core.model.inspection import inspect_dict

CONTRADICTING = [c for c in reference.cases(reference.HOLDOUT) if reference.load_case(c).get("studio_declaration")]


def _with_fork_tasks(case_id, tmp_path, patch=None):
    case = reference.load_case(case_id)
    folder = tmp_path / case_id
    shutil.copytree(case["folder"], folder)
    (folder / "tasks.py").write_text(reference.fork_tasks_source(patch or case["patch"]), encoding="utf-8")
    return case, folder


def _table(folder, model, scale):
    blocks, errors = load_vetted_blocks(folder)
    assert errors == [], errors
    d = copy.deepcopy(model)
    d["scale"] = scale
    report = inspect_dict(d, imgsz=reference.PROBE, blocks=blocks)
    assert report.error is None, report.error
    return report, [[layer.index, layer.params, layer.out_shape] for layer in report.layers]


def test_a_forks_tasks_py_loads_beside_the_blocks_and_is_never_imported(tmp_path):
    case, folder = _with_fork_tasks(CONTRADICTING[0], tmp_path)
    assert fork_tasks.is_tasks_file(folder / "tasks.py")
    assert [p.name for p in block_files(folder)] == ["blocks.py"]
    catalog, errors = catalog_with_blocks(folder)
    assert errors == [] and catalog.get("parse_model") is None
    blocks, errors = load_vetted_blocks(folder)  # 'ultralytics.nn.extra_modules' does not exist: never imported
    assert errors == [] and blocks
    _blocks, notes = fork_tasks.apply(folder, dict(blocks))
    assert any(n.startswith("tasks.py: the fork's parse_model builds ") for n in notes), notes


@pytest.mark.parametrize("case_id", CONTRADICTING)
def test_rows_whose_repository_contradicts_their_code_build_as_the_fork_once_its_tasks_py_is_there(case_id, tmp_path):
    """The held-out cases that needed a declared line: the fork's tasks.py instead, the block file untouched."""
    case, folder = _with_fork_tasks(case_id, tmp_path)
    for scale in reference.scales_of(case["model"])[:2]:
        report, studio = _table(folder, case["model"], scale)
        assert studio == [list(row) for row in reference.build_reference(case_id, scale)], scale
        ruled = [layer for layer in report.layers if layer.layout and layer.layout.startswith("fork")]
        assert ruled and all("as the fork's tasks.py builds it" in layer.layout for layer in ruled)


def test_a_forks_tasks_py_overrules_the_studios_own_rule_for_a_head(tmp_path):
    """A fork that passes its head's hidc unscaled (the studio scales a hidden width, as most forks do)."""
    case_id = "jas_detect_lscd"
    patch = copy.deepcopy(reference.load_case(case_id)["patch"])
    patch["branches"] = "elif m in (Detect_LSCD,):\n    args.append([ch[x] for x in f])\n"
    case, folder = _with_fork_tasks(case_id, tmp_path, patch)
    scale = reference.scales_of(case["model"])[0]
    report, studio = _table(folder, case["model"], scale)
    assert report.layers[-1].args[1] == 256 and report.task == "detect"  # as the fork writes it: not scaled
    assert "as the fork's tasks.py builds it" in report.layers[-1].layout
    (folder / "tasks.py").unlink()
    report, scaled = _table(folder, case["model"], scale)
    assert report.layers[-1].args[1] == 64 and scaled[-1][1] < studio[-1][1]  # without it: scaled by the width


def test_names_the_forks_code_reads_that_nothing_defines_are_reported_not_fatal(tmp_path):
    case, folder = _with_fork_tasks("eeml_segment_lscd", tmp_path)
    blocks, errors = load_vetted_blocks(folder)
    assert errors == []
    _blocks, notes = fork_tasks.apply(folder, dict(blocks))
    missing = next(n for n in notes if "names what neither the block files nor the installed Ultralytics define" in n)
    assert "Detect_AFPN_P2345" in missing and "Segment_LSCD" not in missing and "more" in missing
    scale = reference.scales_of(case["model"])[0]
    _report, studio = _table(folder, case["model"], scale)
    assert [row[:2] for row in studio] == [list(row[:2]) for row in reference.build_head_reference("eeml_segment_lscd", scale)]
