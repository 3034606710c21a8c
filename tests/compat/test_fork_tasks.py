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


FORK_80 = '''# tasks.py of a fork of Ultralytics 8.0 (its parse_model as that version wrote it, with the fork's branch)
import contextlib

import torch.nn as nn

from ultralytics.nn.modules import (C1, C2, C3, C3TR, SPP, SPPF, Bottleneck, BottleneckCSP, C2f, C3Ghost, C3x, Classify,
                                    Concat, Conv, ConvTranspose, Detect, DWConv, DWConvTranspose2d, Ensemble, Focus,
                                    GhostBottleneck, GhostConv, Segment)
from ultralytics.nn.extra_modules import WideConv, ShrinkConv
from ultralytics.yolo.utils import LOGGER, colorstr


def parse_model(d, ch, verbose=True):
    if verbose:
        LOGGER.info(f"{'':>3}{'from':>20}{'n':>3}{'params':>10}  {'module':<45}{'arguments':<30}")
    nc, gd, gw, act = d['nc'], d['depth_multiple'], d['width_multiple'], d.get('activation')
    if act:
        Conv.default_act = eval(act)
    ch = [ch]
    layers, save, c2 = [], [], ch[-1]
    for i, (f, n, m, args) in enumerate(d['backbone'] + d['head']):
        if 'nn.' in m:
            m = getattr(nn, m[3:])
        else:
            m = eval(m) if isinstance(m, str) else m
        for j, a in enumerate(args):
            with contextlib.suppress(NameError):
                args[j] = eval(a) if isinstance(a, str) else a

        n = n_ = max(round(n * gd), 1) if n > 1 else n
        if m in (Classify, Conv, ConvTranspose, GhostConv, Bottleneck, GhostBottleneck, SPP, SPPF, DWConv, Focus,
                 BottleneckCSP, C1, C2, C2f, C3, C3TR, C3Ghost, nn.ConvTranspose2d, DWConvTranspose2d, C3x,
                 WideConv):
            c1, c2 = ch[f], args[0]
            if c2 != nc:
                c2 = make_divisible(c2 * gw, 8)
            args = [c1, c2, *args[1:]]
            if m in (BottleneckCSP, C1, C2, C2f, C3, C3TR, C3Ghost, C3x):
                args.insert(2, n)
                n = 1
        elif m is ShrinkConv:
            c1 = ch[f]
            c2 = make_divisible(args[0] * gw, 8) // 2
            args = [c1, c2]
        elif m is nn.BatchNorm2d:
            args = [ch[f]]
        elif m is Concat:
            c2 = sum(ch[x] for x in f)
        elif m in (Detect, Segment):
            args.append([ch[x] for x in f])
        else:
            c2 = ch[f]

        m_ = nn.Sequential(*(m(*args) for _ in range(n))) if n > 1 else m(*args)
        t = str(m)[8:-2].replace('__main__.', '')
        m.np = sum(x.numel() for x in m_.parameters())
        m_.i, m_.f, m_.type = i, f, t
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)
'''

BLOCKS_80 = '''import torch.nn as nn


class WideConv(nn.Module):
    def __init__(self, c1, c2, k=3):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, 1, k // 2)

    def forward(self, x):
        return self.conv(x)


class ShrinkConv(nn.Module):
    """The fork halves its scaled width in its branch: nothing in this code says so."""

    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 1)

    def forward(self, x):
        return self.conv(x)
'''

MODEL_80 = {"nc": 2, "depth_multiple": 0.33, "width_multiple": 0.25,
            "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "WideConv", [128, 3]], [-1, 1, "ShrinkConv", [256]],
                         [-1, 1, "Conv", [128, 3, 2]]],
            "head": [[[3], 1, "Detect", ["nc"]]]}


def test_a_tasks_py_of_ultralytics_8_0_with_its_gd_gw_and_nested_module_lookup(tmp_path):
    (tmp_path / "blocks.py").write_text(BLOCKS_80, encoding="utf-8")
    (tmp_path / "tasks.py").write_text(FORK_80, encoding="utf-8")
    blocks, errors = load_vetted_blocks(tmp_path)
    assert errors == [] and sorted(blocks) == ["ShrinkConv", "WideConv"]
    _blocks, notes = fork_tasks.apply(tmp_path, dict(blocks))
    assert notes == ["tasks.py: the fork's parse_model builds ShrinkConv, WideConv"]  # every name it reads is known
    report = inspect_dict(copy.deepcopy(MODEL_80), imgsz=64, blocks=blocks)
    assert report.error is None, report.error
    assert report.layers[1].args == [16, 32, 3]  # WideConv in the fork's base set: c2 = 128 * gw
    assert report.layers[2].args == [32, 32]  # ShrinkConv: 256 * gw, halved by the fork's branch
    assert report.layers[2].out_shape[0] == 32


def test_runs_and_bundles_carry_the_forks_tasks_py(tmp_path):
    from yolo_studio.compat import ultralytics_hook
    from yolo_studio.deploy.bundle import write_bundle

    case_id = "jas_detect_lscd"
    patch = copy.deepcopy(reference.load_case(case_id)["patch"])
    patch["branches"] = "elif m in (Detect_LSCD,):\n    args.append([ch[x] for x in f])\n"
    case, folder = _with_fork_tasks(case_id, tmp_path, patch)
    write_bundle(folder / "model.yaml", tmp_path / "bundle", folder)
    assert sorted(p.name for p in (tmp_path / "bundle" / "modules").iterdir()) == ["blocks.py", "tasks.py"]
    d = copy.deepcopy(case["model"])
    d["scale"] = "n"
    with ultralytics_hook.installed(ultralytics_hook.load_block_folder(tmp_path / "bundle" / "modules")) as hook:
        from yolo_studio.core.model.inspection import ultralytics_build
        from yolo_studio.compat.building import model_class

        with ultralytics_build():
            model_class(d)(d, verbose=False)
    assert hook.last_args[len(d["backbone"]) + len(d["head"]) - 1][1] == 256  # as the fork: hidc not scaled
