"""Importing datasets into a project: folders, YAMLs, release ZIPs (extracted once), removal."""

import zipfile

import pytest

from helpers import zip_folder

from yolo_studio.core.project.dataset_import import extraction_folder, import_dataset, list_datasets, remove_dataset
from yolo_studio.core.data.dataset_validate import validate
from yolo_studio.core.data.demo_dataset import generate
from yolo_studio.core.project.projects import create_project, open_project


@pytest.fixture
def project(tmp_path):
    return create_project(tmp_path / "project")


@pytest.fixture
def shapes(tmp_path):
    return generate(tmp_path / "shapes", train=6, val=2, imgsz=64).parent


def test_a_release_zip_is_extracted_once_and_its_extraction_can_be_deleted(project, shapes, tmp_path):
    archive = zip_folder(shapes, tmp_path / "shapes-v1.zip")
    first = import_dataset(archive, project)
    assert not first.already and first.entry.extracted
    assert first.entry.data == project.datasets_dir / "shapes-v1" / "release-1" / "data.yaml"
    assert validate(first.entry.data).clean
    again = import_dataset(archive, open_project(project.root))
    assert again.already and "already extracted" in again.message
    assert sorted(p.name for p in project.datasets_dir.iterdir()) == ["shapes-v1"]  # not extracted twice
    assert [e.name for e in list_datasets(open_project(project.root))] == ["shapes-v1"]
    assert extraction_folder(first.entry, project) == project.datasets_dir / "shapes-v1"
    remove_dataset(project, "shapes-v1", delete_files=True)
    assert not (project.datasets_dir / "shapes-v1").exists() and list_datasets(project) == []


def test_a_folder_or_yaml_stays_where_it_is_and_removing_it_deletes_nothing(project, shapes):
    result = import_dataset(shapes / "data.yaml", project, "outside")
    assert result.entry.data == (shapes / "data.yaml").resolve() and not result.entry.extracted
    assert extraction_folder(result.entry, project) is None
    remove_dataset(project, "outside", delete_files=True)
    assert (shapes / "data.yaml").is_file() and list_datasets(project) == []


def test_a_folder_without_a_data_yaml_gets_one_in_the_project(project, shapes):
    (shapes / "data.yaml").unlink()
    (shapes / "classes.txt").write_text("square\ncircle\ntriangle\n")
    entry = import_dataset(shapes, project).entry
    assert entry.data == project.datasets_dir / "shapes" / "data.yaml"
    report = validate(entry.data)
    assert report.clean and report.names == ["square", "circle", "triangle"]
    assert not (shapes / "data.yaml").exists()  # nothing written into the user's folder


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated"), "not a readable ZIP archive"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("../escape.txt", "x"), "would be written outside"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("notes/readme.txt", "x"),
     r"bad.zip: no annotations the studio reads \(0 images"),
])
def test_a_bad_archive_is_refused_and_leaves_nothing_behind(project, tmp_path, make, message):
    archive = tmp_path / "bad.zip"
    make(archive)
    with pytest.raises(ValueError, match=message):
        import_dataset(archive, project)
    assert list(project.datasets_dir.iterdir()) == [] and not (tmp_path / "escape.txt").exists()
