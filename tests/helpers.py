"""Helpers shared by the test packages (import as ``from helpers import ...``)."""

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


def shipped_model_yamls() -> list:
    """Every model YAML inside the installed Ultralytics package."""
    spec = importlib.util.find_spec("ultralytics")
    root = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "models"
    return sorted(root.rglob("*.yaml"))


DEMO_MODEL_TEXT = (Path(__file__).resolve().parents[1] / "resources" / "models" / "yolo11n-demo.yaml").read_text()

# Training arguments of the tiny real runs in the tests: seconds on a CPU.
TINY_RUN = {"epochs": 2, "imgsz": 64, "batch": 4, "device": "cpu", "workers": 0, "plots": False}


def plant_defects(root):
    """Plant one dataset defect of each kind in a generated shapes dataset (train >= 8 images).

    Returns {kind: (file, line)} of what validation must report."""
    labels, images = root / "labels" / "train", root / "images" / "train"
    (labels / "train_0001.txt").unlink()
    (labels / "ghost.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (labels / "train_0002.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.5 abc 0.1 0.1\n")
    (labels / "train_0003.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    (labels / "train_0004.txt").write_text("1 0.5 0.5 0.2 0.2\n0 0.95 0.5 0.2 0.2\n")
    (labels / "train_0005.txt").write_text("1 0.5 0.5 0 0.1\n")
    (labels / "train_0006.txt").write_text("2 0.5 0.5 0.2 0.2 0.3\n")
    shutil.copy(images / "train_0007.png", root / "images" / "val" / "val_copy.png")
    shutil.copy(labels / "train_0007.txt", root / "labels" / "val" / "val_copy.txt")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8)
    (labels / "broken.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    return {
        "image_without_label": (images / "train_0001.png", None),
        "label_without_image": (labels / "ghost.txt", None),
        "malformed": (labels / "train_0002.txt", 2),
        "class": (labels / "train_0003.txt", 1),
        "outside": (labels / "train_0004.txt", 2),
        "zero_size": (labels / "train_0005.txt", 1),
        "duplicate_image": (images / "train_0007.png", None),
        "corrupt_image": (images / "broken.png", None),
    }


def zip_folder(folder, archive, top="release-1"):
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return archive


def run_cli(*args, env=None, cwd=None, timeout=600):
    """``python -m yolo_studio ARGS`` in a fresh process (the test's environment, plus ``env``)."""
    return subprocess.run([sys.executable, "-m", "yolo_studio", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout)


def choose_in_next_popup(pick):
    """Pick in the next popup menu: ``pick(enabled actions)`` returns the action to trigger (or None to close
    it untouched); returns the texts of every action the menu showed."""
    from PySide6 import QtCore, QtWidgets

    seen = []

    def choose():
        menu = QtWidgets.QApplication.activePopupWidget()
        if menu is None:
            QtCore.QTimer.singleShot(5, choose)
            return
        seen.extend(a.text() for a in menu.actions() if not a.isSeparator())
        action = pick([a for a in menu.actions() if a.isEnabled() and not a.isSeparator()])
        menu.close()
        if action is not None:
            action.trigger()

    QtCore.QTimer.singleShot(0, choose)
    return seen


def answer_next_dialog(button=None):
    """Answer the next modal dialog (``button``: a standard button or a button's text; else accept);
    returns the texts it showed."""
    from PySide6 import QtCore, QtWidgets

    seen = []

    def answer():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            QtCore.QTimer.singleShot(10, answer)
            return
        seen.append(box.text() if isinstance(box, QtWidgets.QMessageBox) else box.windowTitle())
        if isinstance(button, str):  # a button of the dialog's own, by its text
            next(b for b in box.buttons() if b.text() == button).click()
        elif button is not None:
            box.button(button).click()
        else:
            box.accept()

    QtCore.QTimer.singleShot(0, answer)
    return seen


def close_discarding(window) -> None:
    """Close a studio window a test left with unsaved edits, without the Save / Discard prompt."""
    for document in window.documents.documents():
        if document.is_modified():
            if document.kind == "model":
                window.model_tab.undo_stack.setClean()
            else:
                window.modules_tab.editor.setSavePoint()
    if any(d.is_modified() for d in window.documents.documents()):  # typed text not applied (the YAML pane)
        from PySide6 import QtWidgets

        answer_next_dialog(QtWidgets.QMessageBox.Discard)
    window.close()
    window.deleteLater()


def hostile_texts() -> dict:
    """name -> bytes of a file no one should have to explain to the studio (for every entry point)."""
    DEMO = DEMO_MODEL_TEXT
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for name, prev in zip("bcdefgh", "abcdefg"):
        bomb += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
    return {
        "nul": DEMO.replace("nc: 3", "nc: 3\0").encode(),
        "control": DEMO.replace("Conv", "Co\x07nv", 1).encode(),
        "escape": DEMO.replace("head:", "\x1b[31mhead:").encode(),
        "invalid_utf8": DEMO.encode()[:300] + b"\xff\xfe\xc3(" + DEMO.encode()[300:],
        "binary": bytes(range(256)) * 16,
        "deep_brackets": ("nc: 3\nbackbone: " + "[" * 5000 + "]" * 5000 + "\nhead: []\n").encode(),
        "deep_mappings": ("nc: 3\nbackbone: " + "{a: " * 3000 + "1" + "}" * 3000 + "\nhead: []\n").encode(),
        "alias_bomb": (bomb + "nc: 3\nbackbone: [[-1, 1, Conv, *h]]\nhead: *h\n").encode(),
        "huge": (DEMO + ("# " + "x" * 998 + "\n") * 5_000).encode(),  # 5 MB of comments
        "empty": b"",
    }
