"""The Scintilla block editor: text round trip, error markers on the right lines."""

import pytest

from yolo_studio.core.blocks.block_check import check_file, markers


@pytest.fixture
def editor(qtbot):
    from yolo_studio.ui.modules.editor import CodeEditor

    e = CodeEditor()
    qtbot.addWidget(e)
    e.resize(800, 500)
    e.show()
    return e


def test_load_and_save_round_trip(editor, data_dir, tmp_path):
    text = (data_dir / "blocks" / "rules.py").read_text()
    editor.set_text(text)
    assert editor.text() == text and not editor.modify()
    editor.insertText(0, "# edited\n")
    assert editor.modify()
    out = tmp_path / "rules.py"
    out.write_text(editor.text())
    assert out.read_text() == "# edited\n" + text
    editor.undo()
    assert editor.text() == text


@pytest.mark.parametrize("name, line", [("syntax_error.py", 3), ("init_raises.py", 7), ("forward_raises.py", 10),
                                        ("import_error.py", 2)])
def test_check_errors_are_marked_on_their_line(editor, data_dir, name, line):
    path = data_dir / "bad_blocks" / name
    editor.set_text(path.read_text())
    for number, message, warning in markers(check_file(path)):
        editor.mark_error(number, message, warning)
    assert editor.marked_lines() == [line]
    warned = name in ("init_raises.py", "forward_raises.py")  # a class failing alone does not refuse its file
    assert editor.marked_lines(warnings=False) == ([] if warned else [line])
    editor.clear_errors()
    assert editor.marked_lines() == [] and editor.errors() == []


def test_auto_indent_after_a_colon(editor, qtbot):
    from PySide6 import QtCore

    editor.set_text("class A:")
    editor.gotoPos(editor.textLength())
    qtbot.keyClick(editor, QtCore.Qt.Key_Return)
    editor.insertText(editor.currentPos(), "x = 1")
    assert editor.text() == "class A:\n    x = 1"


def test_find_and_replace_all_is_one_undo_step(editor):
    editor.set_text("a = conv(x)\nb = Conv(y)\nc = conv(z)\n")
    assert editor.find_next("conv") and editor.selectionStart() == 4
    assert editor.find_next("conv") and editor.selectionStart() == 16  # not case-sensitive: Conv too
    assert editor.find_next("conv") and editor.selectionStart() == 28
    assert editor.find_next("Conv", match_case=True) and editor.selectionStart() == 16  # wrapped around
    assert editor.replace_all("conv", "block", match_case=True) == 2
    assert editor.text() == "a = block(x)\nb = Conv(y)\nc = block(z)\n"
    editor.undo()
    assert editor.text() == "a = conv(x)\nb = Conv(y)\nc = conv(z)\n"
    assert not editor.find_next("missing")


def test_completion_offers_catalog_and_torch_names(editor):
    from yolo_studio.ui.modules.designer import completion_names

    names = completion_names()
    assert {"Conv", "C3k2", "Upsample", "nn.Upsample", "torch.cat"} <= set(names)
    editor.set_completions(names)
    editor.set_text("x = C3")
    editor.gotoPos(editor.textLength())
    editor._complete()
    assert editor.autoCActive()
