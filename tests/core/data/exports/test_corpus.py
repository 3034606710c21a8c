"""Real exports (tests/data/exports: each case written by hand after an annotation tool's or a public project's
own fixture, named in its README) read as their independently counted expected.yaml says; COCO cases are also
counted with pycocotools, the COCO reference implementation."""

from pathlib import Path

import pytest
import yaml

from yolo_studio.core.data.exports import NotAnExport, read_export
from yolo_studio.core.data.exports.model import split_name
from yolo_studio.core.data.exports.plan import ImportPlan

CORPUS = Path(__file__).parents[3] / "data" / "exports"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "expected.yaml").is_file()) if CORPUS.is_dir() else []


def expected(case: Path) -> dict:
    return yaml.safe_load((case / "expected.yaml").read_text())


def test_the_corpus_covers_every_format_with_at_least_12_cases():
    formats = {expected(c)["format"] for c in CASES}
    assert len(CASES) >= 12 and formats >= {"coco", "voc", "cvat", "labelme", "label_studio", "darknet",
                                            "yolo_folder", "dota", "class_folders", "refuse"}, formats
    assert all((c / "README.md").is_file() for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_real_export_reads_as_counted_by_hand(case):
    want = expected(case)
    pick = case / "export" / str(want.get("pick") or ".")
    if want["format"] == "refuse":
        with pytest.raises(NotAnExport) as refused:
            read_export(pick)
        assert str(pick.name) in str(refused.value) and "Traceback" not in str(refused.value)
        return
    plan = ImportPlan(read_export(pick))
    preview = plan.preview()
    assert (preview["format"], preview["task"]) == (want["format"], want["task"])
    assert preview["images"] == want["images"] and len(preview["missing"]) == want.get("missing_images", 0)
    found = {c["name"]: c["objects"] for c in preview["classes"] if c["objects"]}
    assert found == {k: v for k, v in (want.get("objects") or {}).items() if v}
    skipped = {r: s["count"] for r, s in preview["skipped"].items() if r != "missing_image"}
    assert skipped == {k: v for k, v in (want.get("skipped") or {}).items() if v and k != "missing_image"}
    own = sorted({split_name(s) for s in want.get("splits") or []})
    assert sorted(plan.export.splits) == (own if len(own) > 1 else [])  # a train list alone is no split
    if want["task"] == "pose":
        assert plan.export.kpt_shape == want["kpt_shape"]


COCO_CASES = [c for c in CASES if expected(c)["format"] == "coco"]


@pytest.mark.parametrize("case", COCO_CASES, ids=lambda c: c.name)
def test_coco_counts_agree_with_pycocotools(case):
    coco_api = pytest.importorskip("pycocotools.coco")
    want = expected(case)
    pick = case / "export" / str(want.get("pick") or ".")
    files = [pick] if pick.is_file() else sorted(pick.rglob("*.json"))
    counted: dict = {}
    for f in files:
        api = coco_api.COCO(str(f))
        for ann in api.loadAnns(api.getAnnIds(iscrowd=False)):
            if "keypoints" in ann and not ann.get("num_keypoints"):
                continue
            name = api.loadCats(ann["category_id"])[0]["name"]
            counted[name] = counted.get(name, 0) + 1
    preview = ImportPlan(read_export(pick)).preview()
    listed_but_absent = set(preview["missing"])
    if not listed_but_absent:
        assert {c["name"]: c["objects"] for c in preview["classes"] if c["objects"]} == counted
