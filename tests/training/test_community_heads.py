"""Custom heads from papers' repositories (tests/data/community_heads): each builds layer by layer as its
repository's patched ``parse_model`` builds it, trains 2 epochs with finite losses on a generated dataset of
its task, predicts, and exports to ONNX that matches PyTorch.

The reference is the repository's ``parse_model`` branch on 8.0-8.3's head constructors
(``community_reference.build_head_reference``); the studio builds with today's Ultralytics and adapts the head.
"""

import json
import math

import pytest

import community_reference as reference
from yolo_studio.core.blocks.block_check import load_vetted_blocks
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.model.inspection import inspect_dict

CASES = reference.cases(reference.HEADS)
TRAIN = ["epochs=2", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False"]
PARTS = {"detect": {"boxes", "class scores"}, "segment": {"boxes", "class scores", "mask coefficients", "mask prototypes"},
         "obb": {"boxes", "class scores", "angles"}, "pose": {"boxes", "class scores", "keypoints", "keypoint visibility"}}


def test_the_corpus_covers_every_task_with_heads_that_subclass_nothing_and_ultralytics_heads():
    cases = [reference.load_case(c) for c in CASES]
    assert len(cases) >= 10 and len({c["follows"] for c in cases}) >= 5
    tasks = [c["task"] for c in cases]
    assert all(tasks.count(t) >= 2 for t in ("detect", "segment", "pose", "obb")), tasks
    assert sum(c["subclasses"].startswith("nn.Module") for c in cases) >= 2
    assert any(not c["subclasses"].startswith("nn.Module") for c in cases)


def _studio_table(case) -> list:
    blocks, errors = load_vetted_blocks(case["folder"])
    assert errors == [], errors
    report = inspect_dict(case["model"], imgsz=reference.PROBE, blocks=blocks)
    assert report.error is None, report.error
    assert report.task == case["task"]
    last = len(report.layers) - 1
    return report, [(layer.index, layer.params, None if layer.index == last else layer.out_shape)
                    for layer in report.layers]


@pytest.mark.parametrize("case_id", CASES)
def test_the_studio_builds_each_head_as_its_repository_does(case_id):
    case = reference.load_case(case_id)
    scale = reference.scales_of(case["model"])[0]
    if scale is not None:
        case["model"]["scale"] = scale
    report, studio = _studio_table(case)
    assert studio == [tuple(row) for row in reference.build_head_reference(case_id, scale)]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("head-data")
    return {task: generate(root / task, train=16, val=8, imgsz=64, seed=1, task=task) for task in PARTS}


@pytest.mark.parametrize("case_id", CASES)
def test_each_head_trains_predicts_and_exports_verified_onnx(case_id, datasets, tmp_path, capsys, monkeypatch):
    from yolo_studio.cli import main

    monkeypatch.setenv("YOLO_VERBOSE", "false")
    case = reference.load_case(case_id)
    data = datasets[case["task"]]
    code = main(["train", "--model", str(case["folder"] / "model.yaml"), "--data", str(data), "--modules",
                 str(case["folder"]), "--project", str(tmp_path), "--name", case_id, *TRAIN])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    adapted = case.get("adapted", True)  # False: a head that inherits today's forward
    assert ("head written for Ultralytics 8.0-8.3: adapted" in out) is adapted  # said in preflight
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2
    losses = [float(part.split("=")[1]) for line in epochs for part in line.split(":", 1)[1].split()
              if "_loss=" in part]
    assert losses and all(math.isfinite(v) for v in losses), epochs
    run = tmp_path / "runs" / case_id
    images = sorted((data.parent / "images" / "val").iterdir())[:2]
    assert main(["predict", str(run), *map(str, images), "--conf", "0.001", "--json"]) == 0
    predictions = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(predictions) == 2 and all(p["objects"] for p in predictions)
    drawn = {"segment": "polygon", "pose": "keypoints", "obb": "polygon"}.get(case["task"])
    assert drawn is None or all(drawn in o for p in predictions for o in p["objects"])
    assert main(["export", str(run), "--format", "onnx", "--verify", *map(str, images), "--json"]) == 0
    verification = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["verification"]
    assert verification["ok"], verification
    assert {p["kind"] for p in verification["parts"]} == PARTS[case["task"]]


BUNDLE_TRAIN = r"""
import json, runpy, sys
from pathlib import Path
bundle, data, project = (Path(a) for a in sys.argv[1:4])
runpy.run_path(str(bundle / "train.py"), run_name="bundle")["main"](
    ["--data", str(data), "--epochs", "1", "--imgsz", "64", "batch=4", "workers=0", "device=cpu", "plots=False",
     f"project={project}", "name=bundle", "exist_ok=True"])
print(json.dumps({"studio": any(m.split(".")[0] == "yolo_studio" for m in sys.modules)}))
"""


def test_a_bundle_trains_an_adapted_head_with_plain_ultralytics_and_the_studio_predicts_with_it(
        datasets, tmp_path, capsys):
    """The checkpoint names the head's own class; the studio loads what plain Ultralytics wrote."""
    import subprocess
    import sys

    from yolo_studio.cli import main
    from yolo_studio.deploy.bundle import write_bundle

    case = reference.load_case("wheat_segment_lscd")
    write_bundle(case["folder"] / "model.yaml", tmp_path / "bundle", case["folder"])
    done = subprocess.run([sys.executable, "-c", BUNDLE_TRAIN, str(tmp_path / "bundle"), str(datasets["segment"]),
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "YOLO_OFFLINE": "1", "YOLO_VERBOSE": "false",
                                             "YOLO_CONFIG_DIR": str(tmp_path / "config")})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"studio": False}
    best = tmp_path / "bundle" / "best.pt"  # beside the bundle's modules/, where the studio finds the blocks
    (tmp_path / "runs" / "bundle" / "weights" / "best.pt").rename(best)
    assert b"LegacyHead" not in best.read_bytes()
    image = sorted((datasets["segment"].parent / "images" / "val").iterdir())[0]
    assert main(["predict", str(best), str(image), "--conf", "0.001", "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # one epoch: objects or none
    assert predicted["source"] == str(image) and all("polygon" in o for o in predicted["objects"])
    from yolo_studio.compat import heads
    from yolo_studio.training.run_folder import load_run_checkpoint

    head = load_run_checkpoint(best).model.model[-1]
    assert heads.is_adapted(head) and type(head).__name__ == "Segment_LSCD"
