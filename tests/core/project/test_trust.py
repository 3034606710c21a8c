"""Remembered trust decisions for block folders."""

from yolo_studio.core.home import studio_data_dir
from yolo_studio.core.project.trust import RESOURCES, TrustStore


def test_unknown_folders_are_asked_and_answers_remembered(tmp_path):
    store = TrustStore(tmp_path / "trust.json")
    folder = tmp_path / "someone-elses-modules"
    assert store.decision(folder) is None
    store.remember(folder, False)
    assert TrustStore(tmp_path / "trust.json").decision(folder) is False
    store.remember(folder, True)
    assert TrustStore(tmp_path / "trust.json").decision(folder / ".." / folder.name) is True


def test_the_studios_example_blocks_are_trusted_but_a_project_copied_into_its_folder_is_asked_about(tmp_path):
    store = TrustStore(tmp_path / "trust.json")
    assert store.decision(RESOURCES / "modules") is True
    assert store.decision(studio_data_dir() / "projects" / "copied-from-a-stranger") is None
    assert (RESOURCES / "modules" / "attention.py").exists()
