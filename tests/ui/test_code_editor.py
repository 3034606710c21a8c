"""The Scintilla block editor: text round trip, error markers on the right lines."""

import pytest

from yolo_studio.core.block_check import check_file, markers


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
                                        ("mismatch.py", 4)])
def test_check_errors_are_marked_on_their_line(editor, data_dir, name, line):
    path = data_dir / "bad_blocks" / name
    editor.set_text(path.read_text())
    for number, message in markers(check_file(path)):
        editor.mark_error(number, message)
    assert editor.marked_lines() == [line]
    editor.clear_errors()
    assert editor.marked_lines() == [] and editor.errors() == []


def test_auto_indent_after_a_colon(editor, qtbot):
    from PySide6 import QtCore

    editor.set_text("class A:")
    editor.gotoPos(editor.textLength())
    qtbot.keyClick(editor, QtCore.Qt.Key_Return)
    editor.insertText(editor.currentPos(), "x = 1")
    assert editor.text() == "class A:\n    x = 1"
