"""The Module Designer: templates, save and check, markers, rules, and hot reload into the Model tab."""

import shutil

import pytest

from yolo_studio.core.document import ModelDocument

CHECK_TIMEOUT = 90_000  # a check is a child process that imports torch


@pytest.fixture
def window(qtbot, tmp_path):
    from yolo_studio.ui.main_window import MainWindow

    w = MainWindow(modules_dir=tmp_path / "modules")
    w.model_tab.live_inspection = False
    w.show()
    yield w
    w.model_tab.undo_stack.setClean()
    w.close()
    w.deleteLater()


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
            model._start_inspection()
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
    from test_main_window import answer_next_dialog

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
        w.model_tab._start_inspection()
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
        model._start_inspection()
    timer.stop()
    assert len(ticks) >= 20, "the UI thread kept running while the block was checked"
    assert any("loops.py" in str(e) and "did not finish" in str(e) for e in model.load_errors)
    messages = [model.problems_panel.item(r).text() for r in range(model.problems_panel.count())]
    assert any("did not pass its check" in m for m in messages), messages
