"""Unsaved work survives a killed studio: autosaved, offered at the next start, restored exactly."""

import subprocess
import sys
import textwrap

from helpers import answer_next_dialog
from yolo_studio.core.project.projects import create_project
from yolo_studio.core.project.recovery import RecoveryArea
from yolo_studio.core.project.trust import TrustStore

CRASHING_STUDIO = textwrap.dedent("""
    import os, sys
    from yolo_studio.app import make_application
    app = make_application()
    from PySide6 import QtCore
    from yolo_studio.ui.main_window import MainWindow
    window = MainWindow(project_dir=sys.argv[1])
    window.autosaver.timer.setInterval(100)
    window.open_path(sys.argv[2])
    window.model_tab.insert_block("Conv", 1)             # unsaved model edit
    window.modules_tab.open_file(sys.argv[3])
    window.modules_tab.editor.setText("# changed, not saved\\n")  # unsaved block edit
    open(sys.argv[4], "w").write(window.model_tab.doc.to_yaml())
    def die():
        os._exit(9)                                       # killed: no clean shutdown
    QtCore.QTimer.singleShot(800, die)
    app.exec()
""")


def test_a_killed_studio_leaves_its_unsaved_work_to_restore_exactly(qtbot, tmp_path, resources):
    from yolo_studio.ui.main_window import MainWindow

    model = tmp_path / "model.yaml"
    model.write_text((resources / "models" / "yolo11n-demo.yaml").read_text())
    project = create_project(tmp_path / "project")
    block = project.modules_dir / "mine.py"
    block.write_text("import torch.nn as nn\n")
    TrustStore().remember(project.root, True)  # no trust question in the child (it shares this studio home)
    expected = tmp_path / "expected.yaml"
    child = subprocess.run([sys.executable, "-c", CRASHING_STUDIO, str(tmp_path / "project"), str(model), str(block),
                            str(expected)], capture_output=True, text=True, timeout=120)
    assert child.returncode == 9, child.stderr[-2000:]
    orphaned = RecoveryArea().orphaned()
    assert {e.kind for e in orphaned} == {"model", "block"}
    assert model.read_text() != expected.read_text()  # the file itself was not saved

    from yolo_studio.ui.autosave import offer_recovery

    window = MainWindow(project_dir=tmp_path / "project")
    try:
        seen = answer_next_dialog("Restore")
        restored = offer_recovery(window)
        assert "model.yaml (model" in seen[0] and len(restored) == 2
        assert window.model_tab.doc.to_yaml() == expected.read_text()  # exactly what was unsaved
        assert window.model_tab.path == model and window.model_tab.is_modified()
        assert window.modules_tab.editor.text() == "# changed, not saved\n" and window.modules_tab.editor.modify()
        assert RecoveryArea().orphaned() == []
        window.autosaver.save_now()  # still unsaved: autosaved again, now by this session
        assert {e.kind for e in RecoveryArea().entries()} == {"model", "block"}
    finally:
        window.model_tab.undo_stack.setClean()
        window.modules_tab.editor.setSavePoint()
        window.close()
        window.deleteLater()
    assert RecoveryArea().entries() == []  # a normal close leaves nothing to recover


def test_saved_work_is_not_kept_for_recovery(qtbot, tmp_path, resources):
    from yolo_studio.ui.main_window import MainWindow

    window = MainWindow(project_dir=tmp_path / "p")
    try:
        model = tmp_path / "m.yaml"
        model.write_text((resources / "models" / "yolo11n-demo.yaml").read_text())
        window.open_path(model)
        window.model_tab.insert_block("Conv", 1)
        window.autosaver.save_now()
        assert [e.kind for e in RecoveryArea().entries()] == ["model"]
        window.model_tab.save()
        window.autosaver.save_now()
        assert RecoveryArea().entries() == []
    finally:
        window.close()
        window.deleteLater()


def test_yaml_typed_in_the_pane_that_does_not_parse_is_autosaved_and_restored_into_the_pane(qtbot, tmp_path,
                                                                                            resources):
    from helpers import close_discarding
    from yolo_studio.ui.autosave import _restore
    from yolo_studio.ui.main_window import MainWindow

    model = tmp_path / "model.yaml"
    model.write_text((resources / "models" / "yolo11n-demo.yaml").read_text())
    create_project(tmp_path / "project")
    window = MainWindow(project_dir=tmp_path / "project")
    try:
        window.open_path(model)
        typed = model.read_text().replace("nc: 3", "nc: [3") + "\n# half-way through an edit\n"
        window.model_tab.type_yaml(typed)
        assert window.model_tab.yaml_pane.error_lines()  # does not parse: kept in the pane, marked
        window.autosaver.save_now()
        (entry,) = [e for e in RecoveryArea().entries() if e.kind == "model"]
        assert entry.text == typed  # the pane's text, not the last document that parsed
    finally:
        close_discarding(window)
    restored = MainWindow(project_dir=tmp_path / "project")
    try:
        assert _restore(restored, entry)
        pane = restored.model_tab.yaml_pane
        assert pane.toPlainText() == typed and pane.error_lines()
        assert restored.model_tab.path == model and restored.model_tab.document.is_modified()
    finally:
        close_discarding(restored)
        RecoveryArea().clear(RecoveryArea().key_for("model", model, "x"))
