"""Regenerate the screenshots in docs/images: the demo project, a short training, each tab.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/tools/screenshots.py [OUT_DIR]``
It uses a private studio home in a temporary folder (nothing of the user's is touched) and takes a
few minutes on a CPU: most of it is a 3-epoch training of the demo model.
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["YOLO_STUDIO_HOME"] = tempfile.mkdtemp(prefix="yolo-studio-shots-")

from yolo_studio.app import make_application  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "images")


def wait(ms: int) -> None:
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(condition, timeout_ms: int = 900_000) -> None:
    waited = 0
    while not condition() and waited < timeout_ms:
        wait(100)
        waited += 100
    if not condition():
        raise SystemExit("timed out")


def shot(widget, name: str) -> None:
    wait(400)
    OUT.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    make_application()
    from yolo_studio.core.data.dataset_check import images_in
    from yolo_studio.training.demo_project import DATA
    from yolo_studio.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1500, 900)
    window.show()
    window.open_project_model()
    project = window.project

    datasets = window.lazy.show("Datasets")
    wait_until(lambda: datasets.report is not None)
    shot(window, "datasets.png")
    datasets.pages.setCurrentIndex(1)
    shot(window, "datasets-statistics.png")
    datasets.pages.setCurrentIndex(2)
    datasets.samples.list.setCurrentRow(3)
    shot(window, "datasets-samples.png")

    train = window.lazy.show("Train")
    train.form.set_overrides({**train.form.overrides(), "workers": 0})  # the "CPU quick" preset, 15 epochs
    ended = []
    train.run_ended.connect(ended.append)
    train.start()
    wait_until(lambda: bool(ended))
    shot(window, "train-designer.png")

    runs = window.lazy.show("Runs")
    runs.refresh()
    runs.table.selectRow(0)
    shot(window, "runs.png")

    registry = window.lazy.get("Registry")
    registry.register(str(runs.selected()[0].path), "shapes")
    window.lazy.show("Registry")
    registry.table.selectRow(0)
    shot(window, "registry.png")

    heads = window.lazy.show("Heads")
    from yolo_studio.ui.hydra.extract_dialog import ExtractDialog

    dialog = ExtractDialog([(f"{registry.entries[0].ref} (registry)", str(registry.entries[0].weights))], window)
    dialog.show()
    wait_until(lambda: bool(dialog.options))
    shot(dialog, "hydra-extract.png")
    dialog.done(0)
    job = heads.extract(str(registry.entries[0].weights), "cameras", "shapes")
    wait_until(lambda: job.isFinished())
    wait(300)
    shot(window, "heads.png")

    inference = window.lazy.show("Inference")
    inference.refresh_models()
    inference.conf.setValue(0.25)
    inference.set_sources(images_in(project.resolve(DATA).parent / "images" / "val")[:12])
    finished = []
    inference.finished.connect(finished.append)
    inference.run()
    wait_until(lambda: bool(finished))
    inference.list.setCurrentItem(inference.list.topLevelItem(2))
    shot(window, "inference.png")

    dialog = window.project_tabs.export_dialog(str(registry.entries[0].weights))
    job = dialog.start()
    wait_until(lambda: job.isFinished())
    shot(dialog, "export.png")
    dialog.close()
    window.model_tab.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
