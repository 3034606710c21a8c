"""Importing annotation exports into a project from the command line: the preview first (--dry-run writes
nothing), a JSON is never registered as a data YAML, the same export is found again, a ZIP of an export is
extracted and converted, and mistakes get a clear message."""

import json
import zipfile

from PIL import Image

from helpers import run_cli
from yolo_studio.core.project.dataset_import import import_dataset, list_datasets
from yolo_studio.core.project.projects import open_or_create_project


def _labelme(folder, n=6):
    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (60, 30)).save(folder / f"shot{i}.jpg")
        shapes = [{"label": "leaf" if i % 2 else "stem", "points": [[5, 5], [40, 5], [40, 25]], "group_id": None,
                   "shape_type": "polygon", "flags": {}},
                  {"label": "__ignore__", "points": [[0, 0], [3, 3]], "shape_type": "rectangle"}]
        (folder / f"shot{i}.json").write_text(json.dumps({"version": "5.4.1", "flags": {}, "shapes": shapes,
                                                          "imagePath": f"shot{i}.jpg", "imageData": None,
                                                          "imageHeight": 30, "imageWidth": 60}))
    return folder


def _zip(folder, archive):
    """A ZIP of ``folder`` with one top-level folder, as tools and users pack exports."""
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"labels/{f.name}")
    return archive


def test_dry_run_previews_and_writes_nothing_then_import_writes_once(tmp_path):
    export = _labelme(tmp_path / "export")
    project = tmp_path / "project"
    out = run_cli("dataset", "import", export, "--project", project, "--dry-run", "--rename", "leaf=plant",
                  "--rename", "stem=plant")
    assert out.returncode == 0, out.stderr
    assert "format: LabelMe JSON    task: segment" in out.stdout and "0  plant  6  <- leaf, stem" in out.stdout
    assert "skipped 6 regions labelled to be ignored" in out.stdout and not project.exists()
    open_or_create_project(project)
    out = run_cli("dataset", "import", export, "--project", project, "--split", "train=0.5,val=0.5", "--seed", "4")
    assert out.returncode == 0 and "imported labelme export" in out.stdout, out.stdout + out.stderr
    entry = list_datasets(open_or_create_project(project))[0]
    assert entry.task == "segment" and entry.data.name == "data.yaml"
    again = run_cli("dataset", "import", export, "--project", project)
    assert again.returncode == 0 and "imported before: dataset 'export'" in again.stdout
    assert len(list_datasets(open_or_create_project(project))) == 1


def test_a_json_that_is_no_export_is_refused_saying_what_it_looks_like(tmp_path):
    package = tmp_path / "package.json"
    package.write_text(json.dumps({"name": "x", "version": "1.0.0", "scripts": {}}))
    open_or_create_project(tmp_path / "p")
    out = run_cli("dataset", "import", package, "--project", tmp_path / "p")
    assert out.returncode == 1 and "npm package.json" in out.stdout + out.stderr
    assert "registered" not in out.stdout and "Traceback" not in out.stderr
    out = run_cli("dataset", "import", _labelme(tmp_path / "e"), "--project", tmp_path / "p", "--drop", "tree")
    assert out.returncode == 1 and "no class named tree" in out.stdout + out.stderr and "leaf, stem" in \
        out.stdout + out.stderr


def test_a_zip_of_an_export_is_extracted_and_converted_inside_the_project(tmp_path):
    export = _labelme(tmp_path / "export")
    archive = _zip(export, tmp_path / "labels.zip")
    project = open_or_create_project(tmp_path / "project")
    result = import_dataset(archive, project)
    assert result.entry.data == project.datasets_dir / "labels" / "yolo" / "data.yaml"
    assert result.entry.data.is_file() and "extracted labels.zip" in result.message
    assert import_dataset(archive, project).already  # the same archive again: found, not extracted twice


def test_a_split_without_val_or_with_a_typo_is_refused_before_anything_is_written(tmp_path):
    export = _labelme(tmp_path / "export")
    for split, said in (("train=1.0", "train and val each need a ratio above 0"),
                        ("train=0.8,valid=0.2", "the splits are train, val and test (not 'valid')"),
                        ("train=0.8,val=x", "'x' is not a number")):
        out = run_cli("dataset", "import", export, "--project", tmp_path / "p", "--split", split, "--dry-run")
        assert out.returncode == 1 and said in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_the_same_export_again_under_another_name_is_a_second_dataset_and_names_stay_unique(tmp_path):
    from yolo_studio.core.project.dataset_import import plan_import, remove_dataset

    export = _labelme(tmp_path / "export")
    project = open_or_create_project(tmp_path / "project")
    first = import_dataset(export, project)
    assert import_dataset(export, project).already  # found, not written twice
    assert plan_import(export, project=project).earlier == first.entry.name  # the preview says so
    second = import_dataset(export, project, "leaves-v2")
    assert not second.already and second.entry.data.parent.name == "leaves-v2"
    try:
        import_dataset(export, project, "leaves-v2")
    except ValueError as exc:
        assert "already has a dataset named 'leaves-v2'" in str(exc)
    else:
        raise AssertionError("a taken name was accepted")
    remove_dataset(project, "leaves-v2")  # forgotten, its files kept: not listed again as a generated one
    assert [e.name for e in list_datasets(open_or_create_project(project.root))] == [first.entry.name]
    assert (project.datasets_dir / "leaves-v2" / "data.yaml").is_file()


def test_objects_on_images_that_are_absent_are_counted_as_skipped(tmp_path):
    from yolo_studio.core.project.dataset_import import plan_import

    export = _labelme(tmp_path / "export")
    (export / "shot0.jpg").unlink()
    preview = plan_import(export).preview()
    assert preview["missing"] == ["shot0.jpg"] and preview["skipped"]["missing_image"]["count"] == 1


def test_a_cancelled_zip_import_leaves_nothing(tmp_path):
    import pytest

    from yolo_studio.core.data.exports.write import Cancelled

    export = _labelme(tmp_path / "export")
    archive = _zip(export, tmp_path / "labels.zip")
    project = open_or_create_project(tmp_path / "project")
    with pytest.raises(Cancelled):
        import_dataset(archive, project, cancelled=lambda: True)
    assert list(project.datasets_dir.iterdir()) == [] and list_datasets(project) == []
