"""``yolo-studio dataset check|import``: the same reports and imports as the studio, from a shell."""

import contextlib
import io
import json

from helpers import plant_defects, zip_folder
from yolo_studio.core.data.dataset_validate import validate
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.project.projects import create_project


def _shapes(tmp_path):
    return generate(tmp_path / "shapes", train=12, val=4, imgsz=64).parent


def test_the_cli_reports_the_same_findings(tmp_path):
    from yolo_studio.cli import main

    clean = _shapes(tmp_path)
    planted = plant_defects(clean)
    assert main(["dataset", "check", str(clean / "data.yaml")]) == 1
    report = validate(clean / "data.yaml")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["dataset", "check", str(clean), "--json"]) == 1
    data = json.loads(out.getvalue())
    assert {f["kind"] for f in data["findings"]} == {f.kind for f in report.findings}
    assert any(f["file"] == str(planted["class"][0]) and f["line"] == 1 for f in data["findings"])
    assert data["splits"]["train"]["images"] == 13 and not data["clean"]


def test_the_cli_imports_into_a_project(tmp_path, capsys):
    from yolo_studio.cli import main

    project, shapes = create_project(tmp_path / "project"), _shapes(tmp_path)
    archive = zip_folder(shapes, tmp_path / "v2.zip")
    assert main(["dataset", "import", str(archive), "--project", str(project.root)]) == 0
    assert main(["dataset", "import", str(archive), "--project", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "extracted v2.zip" in out and "already extracted" in out
    assert main(["dataset", "import", str(tmp_path / "nope"), "--project", str(project.root)]) == 1
    assert "does not exist" in capsys.readouterr().err



def test_twelve_imports_run_four_at_a_time_into_one_project_keep_all_twelve(tmp_path):
    """Each command reads, merges and writes project.yaml under its lock (3 to 4 of 12 were lost before)."""
    import os
    import subprocess
    import sys

    from yolo_studio.core.project.dataset_import import list_datasets
    from yolo_studio.core.project.projects import open_project

    project, shapes = create_project(tmp_path / "project"), _shapes(tmp_path)
    command = [sys.executable, "-m", "yolo_studio", "dataset", "import", str(shapes / "data.yaml"),
               "--project", str(project.root), "--name"]
    for wave in range(3):
        children = [subprocess.Popen(command + [f"set{wave * 4 + k}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=os.environ.copy()) for k in range(4)]
        for child in children:
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err.decode()[-1500:]
    names = sorted(e.name for e in list_datasets(open_project(project.root)))
    assert names == sorted(f"set{k}" for k in range(12))
