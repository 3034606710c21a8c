"""Architectures compared by structure: an insert, a delete, a move or an edited row is just that."""

import copy
import json
import re

import pytest

from helpers import run_cli, shipped_model_yamls
from yolo_studio.core.model.arch_diff import ADDED, CHANGED, MOVED, REMOVED, diff_models
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.model.model_yaml import Row


def test_every_shipped_yaml_against_itself_has_no_change():
    for path in shipped_model_yamls():
        d = ModelDocument.load(path).to_dict()
        assert diff_models(d, copy.deepcopy(d)).unchanged(), path.name


def _demo():
    return ModelDocument.load(__import__("pathlib").Path(__file__).resolve().parents[3] / "resources" / "models"
                              / "yolo11n-demo.yaml")


def test_an_inserted_block_is_one_added_row_and_rewires_only_its_reader():
    doc = _demo()
    before = doc.to_dict()
    doc.insert_row(10, Row(-1, 1, "CBAM", [7]))
    doc.update_row(11, from_=-1)  # C2PSA now reads the new block, as a user wires it
    diff = diff_models(before, doc.to_dict())
    changed = [m for m in diff.matches if m.kind != "same" or m.fields]
    assert [(m.a, m.b, m.kind, m.fields) for m in changed] == [(None, 10, ADDED, ()), (10, 11, "same", ("from",))]
    assert diff.mapping()[23] == 24  # Detect is still Detect, one index later


def test_removed_changed_and_moved_rows():
    doc = _demo()
    before = doc.to_dict()
    doc.update_row(2, args=[128, False, 0.25])  # channels of a C3k2
    doc.delete_rows([9])  # SPPF
    diff = diff_models(before, doc.to_dict())
    kinds = {(m.a, m.b): (m.kind, m.fields) for m in diff.matches if m.kind != "same"}
    assert kinds[(2, 2)] == (CHANGED, ("args",)) and kinds[(9, None)] == (REMOVED, ())
    a = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "SPPF", [32, 5]]], "head": []}
    b = {"backbone": [[-1, 1, "SPPF", [32, 5]], [-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]], "head": []}
    assert any(m.kind == MOVED for m in diff_models(a, b).matches)


def test_the_cli_compares_a_yaml_with_an_edited_copy(tmp_path):
    doc = _demo()
    (tmp_path / "a.yaml").write_text(doc.to_yaml())
    doc.insert_row(10, Row(-1, 1, "CBAM", [7]))
    (tmp_path / "b.yaml").write_text(doc.to_yaml())
    done = run_cli("diff", tmp_path / "a.yaml", tmp_path / "b.yaml")
    assert done.returncode == 0 and "1 added" in done.stdout and "+  10 CBAM [7]" in done.stdout, done.stdout
    sizes = re.search(r"params 2,590,425 -> ([\d,]+) \(\+([\d,]+)\); GFLOPs ([\d.]+) -> ([\d.]+)", done.stdout)
    assert sizes, done.stdout  # the first as inspection counts them; the second has CBAM's too
    assert int(sizes[1].replace(",", "")) - 2_590_425 == int(sizes[2].replace(",", "")) > 0
    assert float(sizes[4]) >= float(sizes[3]) > 0
    done = run_cli("diff", tmp_path / "a.yaml", tmp_path / "b.yaml", "--json")
    out = json.loads(done.stdout)
    assert out["counts"]["added"] == 1 and out["params"][0] == 2_590_425 and out["gflops"][0] > 0
    done = run_cli("diff", tmp_path / "a.yaml", tmp_path)
    assert done.returncode == 1 and "not a run folder" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["yolo11.yaml", "yolov8-p2.yaml", "rtdetr-l.yaml"])
def test_a_deleted_row_does_not_change_the_rows_after_it(name):
    path = next(p for p in shipped_model_yamls() if p.name == name)
    doc = ModelDocument.load(path)
    before = doc.to_dict()
    doc.delete_rows([3])
    diff = diff_models(before, doc.to_dict())
    assert diff.counts()["removed"] == 1 and diff.counts()["changed"] == 0 and diff.counts()["added"] == 0
