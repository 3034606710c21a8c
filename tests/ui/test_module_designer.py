"""The Module Designer: templates, save and check, markers, rules, and hot reload into the Model tab."""

import shutil

import pytest

from helpers import close_discarding
from yolo_studio.core.model.document import ModelDocument

CHECK_TIMEOUT = 90_000  # a check is a child process that imports torch


@pytest.fixture
def window(qtbot, tmp_path):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow(modules_dir=tmp_path / "modules")
    w.model_tab.live_inspection = False
    w.show()
    yield w
    close_discarding(w)


def test_a_block_saved_in_the_editor_is_placed_on_the_canvas_and_inspects_at_two_scales(window, qtbot, resources):
    modules, model = window.modules_tab, window.model_tab
    model.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    path = modules.new_from_template("attention (keeps channels, rule c1)")
    assert path.name == "attention.py" and modules.files.topLevelItem(0).child(0).text(0) == "Attention"
    with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT) as checked:
        modules.save()
    assert checked.args[0]["ok"]
    assert model.catalog.get("Attention") is not None  # hot reloaded, no restart
    model.insert_block("Attention", 5)
    assert model.problems == []
    model.live_inspection = True
    for scale, channels in (("n", 128), ("s", 256)):
        with qtbot.waitSignal(model.inspected, timeout=60_000):
            model.scale.setCurrentText(scale)
            model.start_inspection()
        assert model.report is not None, model.build_error
        layer = model.report.layers[5]
        assert layer.module == "Attention" and layer.args[0] == channels and layer.out_shape[0] == channels


def test_errors_are_marked_on_their_lines(window, qtbot, data_dir, tmp_path):
    modules = window.modules_tab
    for name, line, loads in (("syntax_error.py", 3, False), ("forward_raises.py", 10, True)):
        target = modules.modules_dir / name
        shutil.copy(data_dir / "bad_blocks" / name, target)
        modules.refresh_files()
        modules.open_file(target)
        with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT) as checked:
            modules.check()
        assert checked.args[0]["ok"] is loads, "a class failing alone is marked, but its file still loads"
        assert modules.editor.marked_lines() == [line]
        assert modules.results.topLevelItemCount() >= 1


def test_channel_rule_form_writes_the_class_attribute(window):
    modules = window.modules_tab
    modules.new_from_template("conv-like (sets channels, rule base)")
    modules.rule_class.setCurrentText("ConvBlock")
    modules.rule.setCurrentText("c1")
    modules._on_apply_rule_clicked()
    assert 'channel_rule = "c1"' in modules.editor.text()
    modules.editor.undo()
    assert "channel_rule" not in modules.editor.text()


def test_deleting_a_block_file_names_the_layers_that_use_it(window, resources, qtbot):
    modules, model = window.modules_tab, window.model_tab
    shutil.copy(resources / "modules" / "attention.py", modules.modules_dir / "attention.py")
    modules.refresh_files()
    model.reload_blocks()
    model.open_document(ModelDocument.load(resources / "models" / "yolo11n-se.yaml"))
    modules.open_file(modules.modules_dir / "attention.py")
    warning = modules.usage_warning()
    assert "layer 1 (DownsampleConv)" in warning and "layer 5 (SEAttention)" in warning
    with qtbot.waitSignal(modules.blocks_changed):
        modules.delete_file()
    assert not (modules.modules_dir / "attention.py").exists()
    assert any("unknown module 'SEAttention'" in p.message for p in model.problems)


def test_ctrl_z_in_the_editor_undoes_typing_not_the_model(window, resources, qtbot):
    from PySide6 import QtGui, QtTest, QtWidgets

    window.model_tab.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    window.model_tab.update_row(0, args=[32, 3, 2])  # something the model could undo
    modules = window.modules_tab
    window.tabs.setCurrentWidget(modules)
    modules.new_from_template("multi-input fusion (rule concat)")
    original = modules.editor.text()
    window.activateWindow()
    QtWidgets.QWidget.setFocus(modules.editor)  # ScintillaEdit.setFocus(bool) is SCI_SETFOCUS
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is modules.editor)
    QtTest.QTest.keyClicks(modules.editor, "x")
    assert modules.editor.text() != original
    QtTest.QTest.keySequence(modules.editor, QtGui.QKeySequence.Undo)
    assert modules.editor.text() == original
    assert window.model_tab.doc.rows[0].args == [32, 3, 2] and window.model_tab.undo_stack.canUndo()


def test_an_untrusted_folder_is_asked_about_once_and_a_refusal_runs_nothing(qtbot, tmp_path, resources):
    from PySide6 import QtWidgets

    from yolo_studio.ui.main_window import MainWindow
    from helpers import answer_next_dialog

    folder = tmp_path / "downloaded"
    folder.mkdir()
    shutil.copy(resources / "modules" / "attention.py", folder)
    seen = answer_next_dialog(QtWidgets.QMessageBox.No)
    w = MainWindow(modules_dir=folder)
    try:
        assert "holds Python code (attention.py)" in seen[0]
        w.model_tab.open_document(ModelDocument.load(resources / "models" / "yolo11n-se.yaml"))
        assert w.model_tab.problems == []  # still known to validation (read, not run)
        totals = []
        w.model_tab.totals_changed.connect(totals.append)
        w.model_tab.start_inspection()
        assert "not trusted" in totals[-1] and w.model_tab.inspector._blocks is None
        messages = []
        w.modules_tab.status_message.connect(messages.append)
        w.modules_tab.open_file(folder / "attention.py")
        w.modules_tab.check()
        assert "not trusted" in messages[-1]
    finally:
        w.model_tab.shutdown()
        w.modules_tab.shutdown()
        w.deleteLater()
    again = MainWindow(modules_dir=folder)  # remembered: no second question
    try:
        assert again.model_tab.run_blocks is False
    finally:
        again.model_tab.shutdown()
        again.modules_tab.shutdown()
        again.deleteLater()


def test_onnx_export_check_lists_unsupported_operators_under_the_block(window, qtbot, data_dir):
    modules = window.modules_tab
    target = modules.modules_dir / "not_onnx.py"
    shutil.copy(data_dir / "bad_blocks" / "not_onnx.py", target)
    modules.refresh_files()
    modules.open_file(target)
    modules.onnx_check.setChecked(True)
    with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT):
        modules.check()
    rows = {modules.results.topLevelItem(i).text(0): modules.results.topLevelItem(i)
            for i in range(modules.results.topLevelItemCount())}
    assert rows["SpectralGate"].child(0).text(1) == "unsupported: aten::fft_fft2"
    assert rows["Plain"].child(0).text(1).startswith("ok: exports to ONNX")


def test_a_block_that_loops_forever_is_reported_and_the_studio_stays_responsive(window, qtbot, data_dir):
    """The Model tab checks block files in a child process before importing them for inspection."""
    from PySide6 import QtCore

    model = window.model_tab
    shutil.copy(data_dir / "bad_blocks" / "loops.py", model.modules_dir)
    model.reload_blocks()
    model.inspector.block_check_timeout = 4
    model.open_document(ModelDocument.from_text("nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n"
                                                "  - [-1, 1, Forever, []]\nhead:\n  - [[-1], 1, Detect, [nc]]\n"))
    assert model.problems == []
    ticks = []
    timer = QtCore.QTimer(interval=100, timeout=lambda: ticks.append(1))
    timer.start()
    with qtbot.waitSignal(model.inspector.blocks_loaded, timeout=30_000):
        model.start_inspection()
    timer.stop()
    assert len(ticks) >= 20, "the UI thread kept running while the block was checked"
    assert any("loops.py" in str(e) and "did not finish" in str(e) for e in model.load_errors)
    messages = [model.problems_panel.item(r).text() for r in range(model.problems_panel.count())]
    assert any("did not pass its check" in m for m in messages), messages


def _click_file(modules, name):
    """A real mouse click on the file's row in the list."""
    from PySide6 import QtCore, QtTest

    item = next(modules.files.topLevelItem(i) for i in range(modules.files.topLevelItemCount())
                if modules.files.topLevelItem(i).text(0).split(" ")[0] == name)
    rect = modules.files.visualItemRect(item)
    QtTest.QTest.mouseClick(modules.files.viewport(), QtCore.Qt.LeftButton, pos=rect.center())


def _type(qtbot, editor, text):
    from PySide6 import QtCore, QtTest, QtWidgets

    editor.window().activateWindow()
    QtWidgets.QWidget.setFocus(editor)
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is editor)
    for line in text.split("\n"):  # keyClicks cannot type a newline: Return is a key of its own
        if line:
            QtTest.QTest.keyClicks(editor, line)
        if line is not text.split("\n")[-1]:
            QtTest.QTest.keyClick(editor, QtCore.Qt.Key_Return)


def test_switching_files_with_unsaved_text_asks_and_cancel_keeps_the_edit(window, qtbot):
    from PySide6 import QtWidgets

    from helpers import answer_next_dialog

    modules = window.modules_tab
    window.tabs.setCurrentWidget(modules)
    first = modules.new_from_template("attention (keeps channels, rule c1)")
    second = modules.new_from_template("conv-like (sets channels, rule base)")
    _click_file(modules, first.name)
    assert modules.path == first and modules.title.text() == first.name
    _type(qtbot, modules.editor, "# mine\n")
    edited = modules.editor.text()
    assert modules.title.text() == f"{first.name} *"
    assert any(modules.files.topLevelItem(i).text(0) == f"{first.name} *"
               for i in range(modules.files.topLevelItemCount()))

    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    _click_file(modules, second.name)
    assert first.name in seen[0] and "unsaved" in seen[0]
    assert modules.path == first and modules.editor.text() == edited  # nothing lost

    answer_next_dialog(QtWidgets.QMessageBox.Save)
    _click_file(modules, second.name)
    assert modules.path == second and first.read_text() == edited and modules.title.text() == second.name
    qtbot.waitUntil(lambda: modules.check_button.isEnabled(), timeout=CHECK_TIMEOUT)  # Save also checks

    _type(qtbot, modules.editor, "# thrown away\n")
    answer_next_dialog(QtWidgets.QMessageBox.Discard)
    _click_file(modules, first.name)
    assert modules.path == first and "# thrown away" not in second.read_text()


def test_the_quit_prompt_names_every_unsaved_editor(window, qtbot, resources):
    from PySide6 import QtWidgets

    from helpers import answer_next_dialog

    window.open_path(resources / "models" / "yolo11n-demo.yaml")
    window.model_tab.update_row(0, args=[32, 3, 2])
    modules = window.modules_tab
    block = modules.new_from_template("attention (keeps channels, rule c1)")
    _type(qtbot, modules.editor, "# unsaved\n")
    seen = answer_next_dialog(QtWidgets.QMessageBox.Cancel)
    assert not window.close()
    assert "yolo11n-demo.yaml (model, in the Model tab)" in seen[0]
    assert f"{block.name} (block, in the Modules tab)" in seen[0]

    window.model_tab.undo_stack.setClean()  # only the block is left: it alone is named, and Save writes it
    seen = answer_next_dialog(QtWidgets.QMessageBox.Save)
    assert window.close()
    assert "yolo11n-demo.yaml" not in seen[0] and "# unsaved" in block.read_text()


def test_check_checks_the_text_in_the_editor_not_the_file(window, qtbot):
    modules = window.modules_tab
    path = modules.new_from_template("attention (keeps channels, rule c1)")
    saved = path.read_text()
    broken = saved.replace("def forward(self, x):", "def forward(self, x):\n        return undefined_name", 1)
    assert broken != saved
    modules.editor.setText(broken)  # as typed: unsaved
    with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT) as checked:
        modules.check()
    result = checked.args[0]
    assert result["unsaved"] and result["file"] == str(path.resolve())
    line = broken.splitlines().index("        return undefined_name") + 1
    assert line in modules.editor.marked_lines()
    assert "undefined_name" in str(result) and "yolo-studio-check-" not in str(result)
    assert path.read_text() == saved  # checking wrote nothing


MISMATCHED = '''import torch.nn as nn


class Widen(nn.Module):
    """A residual block that only works when it keeps its channels: x + conv(x)."""

    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)
'''


def test_a_block_that_fails_on_the_channels_its_row_gives_it_is_an_error_with_the_whole_message(window, qtbot,
                                                                                                 resources):
    """It was an amber "not built alone" warning, its message cut off, and the status said "loads"."""
    modules, model = window.modules_tab, window.model_tab
    path = modules.modules_dir / "widen.py"
    path.write_text(MISMATCHED)
    modules.refresh_files()
    modules.open_file(path)
    with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT):
        modules.save()
    model.open_document(ModelDocument.load(resources / "models" / "yolo11n-demo.yaml"))
    model.insert_block("Widen", 5)
    model.update_row(5, args=[256])  # 128 channels in, 64 out at scale n: x + conv(x) cannot add them
    messages = []
    modules.status_message.connect(messages.append)
    model.live_inspection = True
    with qtbot.waitSignal(model.inspected, timeout=60_000):
        model.start_inspection()
    assert model.block_problem()["layer"] == 5
    first = modules.results.topLevelItem(0)
    assert first.text(0) == "Widen" and "error in" in first.text(1) and "layer 5 (Widen)" in first.text(1)
    details = modules.results_panel.details.toPlainText()
    assert "must match" in details and "layer 5" in details  # the whole message, readable
    assert messages and "fails on the channels its row gives it" in messages[-1] and "loads" not in messages[-1]
    assert modules.editor.marked_lines()  # the class's line is marked as an error
    model.update_row(5, args=[128])  # keeps its channels: the model builds, the error goes
    with qtbot.waitSignal(model.inspected, timeout=60_000):
        model.start_inspection()
    assert not any("error in" in modules.results.topLevelItem(i).text(1)
                   for i in range(modules.results.topLevelItemCount()))


def test_the_file_list_follows_save_with_the_new_class_names(window, qtbot):
    """Walked with real keys under Xvfb too (Save & check, and Ctrl+S in the editor): the list shows the
    renamed class at once."""
    modules = window.modules_tab
    path = modules.new_from_template("attention (keeps channels, rule c1)")
    modules.editor.setText(modules.editor.text().replace("class Attention(", "class SEGate("))
    with qtbot.waitSignal(modules.checked, timeout=CHECK_TIMEOUT):
        modules.save_button.click()
    item = next(modules.files.topLevelItem(i) for i in range(modules.files.topLevelItemCount())
                if modules.files.topLevelItem(i).text(0).startswith(path.name))
    assert [item.child(j).text(0) for j in range(item.childCount())] == ["SEGate"]
    assert window.model_tab.catalog.get("SEGate").category == "custom"
    assert window.model_tab.catalog.get("Attention").category != "custom"  # Ultralytics' own Attention again
