"""One truth for the model across tabs: the Train tab asks the window's register about unsaved edits."""

import shutil

import pytest

from helpers import close_discarding

PREFLIGHT_TIMEOUT = 120_000


@pytest.fixture
def window(qtbot, tmp_path, resources):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow(project_dir=tmp_path / "project")
    w.model_tab.live_inspection = False
    w.show()
    yield w
    close_discarding(w)


def _preflight(train, qtbot):
    with qtbot.waitSignal(train.preflight_done, timeout=PREFLIGHT_TIMEOUT) as done:
        train.run_preflight()
    return done.args[0]


def test_unsaved_model_edits_are_not_trained_silently_and_the_nc_fix_is_an_undoable_edit(window, qtbot, tmp_path,
                                                                                        resources, tiny_dataset):
    model = window.project.models_dir / "m.yaml"
    shutil.copy(resources / "models" / "yolo11n-demo.yaml", model)
    text = model.read_text().replace("nc: 3 ", "nc: 5 ")
    model.write_text(text)
    window.open_path(model)
    train = window.train_tab
    train.model_path.setText(str(model))
    train.data_path.setText(str(tiny_dataset))

    result = _preflight(train, qtbot)  # saved model, nc 5 vs 3 classes: the fix edits the open document
    assert train.pages.currentIndex() == 1  # Preflight shows its page
    nc_fix = next(f for c in result.checks for f in c.fixes if f[0] == "set_nc")
    button = next(b for b in train.fix_buttons() if b.text() == "Set nc: 3 in the model")
    with qtbot.waitSignal(train.preflight_done, timeout=PREFLIGHT_TIMEOUT) as done:
        button.click()
    assert nc_fix == ("set_nc", 3)
    assert window.model_tab.doc.header["nc"] == 3 and model.read_text() == text  # the file behind is untouched
    assert window.model_tab.is_modified() and window.windowTitle().startswith("m.yaml*")

    errors = [c for c in done.args[0].checks if "unsaved edits" in c.message]
    assert errors and errors[0].severity == "error" and "the Model tab" in errors[0].message
    assert {b.text() for b in train.fix_buttons()} >= {"Save the model", "Train the saved file"}

    window.model_tab.undo_stack.undo()  # the fix was an edit on the Model tab's stack
    assert window.model_tab.doc.header["nc"] == 5 and not window.model_tab.is_modified()
    window.model_tab.undo_stack.redo()

    with qtbot.waitSignal(train.preflight_done, timeout=PREFLIGHT_TIMEOUT) as done:
        next(b for b in train.fix_buttons() if b.text() == "Train the saved file").click()
    assert any("training the saved file" in c.message and c.severity == "warning" for c in done.args[0].checks)

    train._train_saved = None  # as if the user had not chosen; now "Save the model"
    _preflight(train, qtbot)
    with qtbot.waitSignal(train.preflight_done, timeout=PREFLIGHT_TIMEOUT) as done:
        next(b for b in train.fix_buttons() if b.text() == "Save the model").click()
    assert "nc: 3" in model.read_text() and not window.model_tab.is_modified()
    assert not any("unsaved" in c.message or c.fix == ("set_nc", 3) for c in done.args[0].checks)
