"""The start-up probe (compat/probe.py): silent on the installed Ultralytics, one clear message per
assumption a changed Ultralytics breaks. The changes are made to the real ``ultralytics.nn.tasks``
and trainer for the length of a test."""

import json

import pytest

from yolo_studio.compat import model_dict, probe


@pytest.fixture
def tasks():
    from ultralytics.nn import tasks

    return tasks


def test_every_assumption_holds_for_the_installed_ultralytics(capsys):
    assert probe.probe() == []
    from yolo_studio.cli import main

    assert main(["probe", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["mismatches"] == [] and answer["ultralytics"] == model_dict.version()


def test_a_parse_model_that_scales_differently_is_named_with_the_channels_it_gave(tasks, monkeypatch):
    original = tasks.parse_model

    def parse_model(d, ch, verbose=True):  # a release that reads the width from elsewhere
        d = {**d, "scales": {name: [depth, width * 2, top] for name, (depth, width, top) in d["scales"].items()}}
        return original(d, ch, verbose)

    monkeypatch.setattr(tasks, "parse_model", parse_model)
    found = probe.probe()
    assert [m.subject for m in found] == ["parse_model", "parse_model's log lines"]
    text = probe.report(found)
    assert f"Ultralytics {model_dict.version()} changed parse_model: Conv [64] at width 0.25 no longer has 16 " \
           "output channels (it has 32)" in text
    assert tasks.parse_model is parse_model  # the probe put back what it found


def test_a_changed_signature_and_a_changed_task_guess_are_both_reported(tasks, monkeypatch):
    def parse_model(cfg, channels, verbose=True):
        raise AssertionError("never called: the signature is checked first")

    monkeypatch.setattr(tasks, "parse_model", parse_model)
    monkeypatch.setattr(tasks, "guess_model_task", lambda model: "segment")
    found = probe.probe()
    subjects = [m.subject for m in found]
    assert "parse_model" in subjects and "guess_model_task" in subjects
    assert any("changed parse_model's signature to (cfg, channels, verbose)" in m.what for m in found)
    assert any(m.what == "a model ending in Detect is segment, not detect" for m in found)
    text = probe.report(found)  # every head disagrees: the dialog names two and counts the rest
    heads = sum(m.subject == "guess_model_task" for m in found)
    assert text.count("changed guess_model_task") == 2 and f"and {heads - 2} more like it" in text
    assert probe.report(found, per_subject=None).count("changed guess_model_task") == heads


def test_a_trainer_without_the_private_memory_reader_is_reported(monkeypatch):
    from ultralytics.engine import trainer

    monkeypatch.delattr(trainer.BaseTrainer, "_get_memory")
    found = probe.probe()
    assert [m.describe() for m in found] == [
        f"Ultralytics {model_dict.version()} changed the trainer: BaseTrainer no longer has _get_memory"]
    assert "install that version" in probe.report(found) or "please report it" in probe.report(found)


def test_the_task_guess_needs_no_torch_and_agrees_with_ultralytics_on_every_shipped_model(tasks):
    from yolo_studio.core.model.document import ModelDocument
    from helpers import shipped_model_yamls

    for path in shipped_model_yamls():
        d = ModelDocument.load(path).to_dict()
        assert model_dict.guess_task(d) == (tasks.guess_model_task(d) or "detect"), path.name
