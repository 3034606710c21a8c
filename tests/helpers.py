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
