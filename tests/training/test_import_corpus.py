"""Every real export of the corpus (tests/data/exports) imported through the command line as a user does,
checked by the dataset check, and trained for one epoch by the model of its task: the import is only done
when Ultralytics trains on what it wrote."""

from pathlib import Path

import pytest
import yaml

from yolo_studio.core.project.dataset_import import list_datasets
from yolo_studio.core.project.projects import create_project, open_project

CORPUS = Path(__file__).parents[1] / "data" / "exports"
CASES = [c for c in sorted(CORPUS.iterdir()) if (c / "expected.yaml").is_file()
         and yaml.safe_load((c / "expected.yaml").read_text())["format"] != "refuse"]
MODELS = {"detect": "yolo11n.yaml", "segment": "yolo11n-seg.yaml", "pose": "yolo11n-pose.yaml",
          "obb": "yolo11n-obb.yaml", "classify": "yolo11n-cls.yaml"}
TINY = ["epochs=1", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_real_export_imports_checks_and_trains_one_epoch(case, tmp_path, capsys, monkeypatch):
    from yolo_studio.cli import main
    from yolo_studio.core.data.dataset_check import check_dataset

    monkeypatch.setenv("YOLO_VERBOSE", "false")
    want = yaml.safe_load((case / "expected.yaml").read_text())
    project = create_project(tmp_path / "project")
    assert main(["dataset", "import", str(case / "export" / str(want.get("pick") or ".")),
                 "--project", str(project.root), "--name", case.name]) == 0, capsys.readouterr()
    entry = list_datasets(open_project(project.root))[0]
    report = check_dataset(entry.data)
    assert report.errors == [] and report.task == want["task"], (report.errors, report.label_kinds)
    code = main(["train", "--model", MODELS[want["task"]], "--data", str(entry.data), "--project",
                 str(tmp_path / "runs"), "--name", "one", *TINY])
    out = capsys.readouterr()
    assert code == 0 and "Traceback" not in out.err, out.out[-3000:] + out.err[-3000:]
    assert next((tmp_path / "runs").rglob("results.csv")).read_text().count("\n") >= 2  # one epoch written
