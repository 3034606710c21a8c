"""Projects on disk, the studio's recent list, and the generated demo project."""

import hashlib

import pytest

from yolo_studio.core.project import projects
from yolo_studio.core.data.dataset_check import check_dataset
from yolo_studio.training.demo_project import CUSTOM_MODEL, DATA, MODEL, PRESET, create_demo, ensure_demo
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.training.train_config import load_preset
from yolo_studio.core.project.trust import TrustStore


def test_a_created_project_opens_again_with_its_folders_and_state(tmp_path):
    project = projects.create_project(tmp_path / "p", "Birds")
    assert all((project.root / f).is_dir() for f in projects.FOLDERS)
    project.remember(model="models/a.yaml")
    again = projects.open_project(tmp_path / "p")
    assert again.name == "Birds" and again.state == {"model": "models/a.yaml"}
    assert again.relative(again.root / "models" / "a.yaml") == "models/a.yaml"
    assert again.relative(tmp_path / "elsewhere.yaml") == str((tmp_path / "elsewhere.yaml").resolve())


@pytest.mark.parametrize("setup, message", [
    (lambda root: None, "is not a YOLO Studio project (no project.yaml)"),
    (lambda root: (root / "project.yaml").write_text("name: a\n\tstate: {}\n"), "project.yaml:2: not valid YAML"),
    (lambda root: (root / "project.yaml").write_text("- a list\n"), "a project file is a mapping"),
])
def test_a_broken_project_is_refused_with_the_file_and_what_to_do(tmp_path, setup, message):
    root = tmp_path / "p"
    root.mkdir()
    setup(root)
    with pytest.raises(ValueError) as error:
        projects.open_project(root)
    assert message in str(error.value)


def test_a_project_is_not_created_over_files(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty"):
        projects.create_project(tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    projects.create_project(tmp_path / "ok")
    with pytest.raises(ValueError, match="already a project"):
        projects.create_project(tmp_path / "ok")


def test_recent_projects_are_newest_first_and_forget_deleted_ones(tmp_path):
    a = projects.create_project(tmp_path / "a")
    b = projects.create_project(tmp_path / "b")
    projects.add_recent(a)
    projects.add_recent(b)
    projects.add_recent(a)
    recent = projects.recent_projects()
    assert recent[:2] == [a.root, b.root]
    (b.root / "project.yaml").unlink()
    assert b.root not in projects.recent_projects()


def _hashes(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_demo_project_is_identical_every_time_and_ready_to_train(tmp_path):
    first = create_demo(tmp_path / "one")
    second = create_demo(tmp_path / "two")
    hashes = _hashes(first.root)
    assert hashes == _hashes(second.root)
    assert sum(name.startswith("datasets/shapes/images/train/") for name in hashes) == 256
    assert sum(name.startswith("datasets/shapes/images/val/") for name in hashes) == 64
    report = check_dataset(first.resolve(DATA))
    assert report.errors == [] and report.names == ["square", "circle", "triangle"]
    assert ModelDocument.load(first.resolve(MODEL)).header["nc"] == 3
    assert ModelDocument.load(first.resolve(CUSTOM_MODEL)).header["nc"] == 3
    assert load_preset(PRESET, first.root)["imgsz"] == 128
    assert TrustStore().decision(first.root) is True  # the studio wrote its blocks
    assert ensure_demo(tmp_path).root == (tmp_path / "demo").resolve()
    assert ensure_demo(tmp_path).root == (tmp_path / "demo").resolve()  # opened, not generated again


def test_the_demo_offers_a_dataset_of_every_task(tmp_path):
    from yolo_studio.core.project.dataset_import import list_datasets
    from yolo_studio.training.demo_project import TASK_DATASETS

    demo = create_demo(tmp_path / "demo")
    entries = {e.name: e for e in list_datasets(demo)}
    assert list(entries)[0] == "shapes"  # the detection one first: the tab selects it
    for task, (folder, model) in TASK_DATASETS.items():
        report = check_dataset(entries[folder].data)
        assert report.errors == [] and report.task == task, (task, report.errors)
        assert model.startswith("yolo11n-")


def test_the_workspace_is_the_users_choice(tmp_path):
    default = projects.workspace_dir()
    projects.save_settings(workspace=str(tmp_path / "elsewhere"))
    try:
        assert projects.workspace_dir() == tmp_path / "elsewhere"
    finally:
        projects.save_settings(workspace=None)
    assert projects.workspace_dir() == default


def test_saved_files_get_the_users_normal_permissions_and_keep_their_own(tmp_path):
    import os
    import stat

    from yolo_studio.core.atomic import write_text_atomic

    umask = os.umask(0o022)
    os.umask(umask)
    new = write_text_atomic(tmp_path / "new.yaml", "nc: 3\n")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    kept = tmp_path / "shared.yaml"
    kept.write_text("nc: 1\n")
    kept.chmod(0o664)
    write_text_atomic(kept, "nc: 2\n")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o664 and kept.read_text() == "nc: 2\n"
