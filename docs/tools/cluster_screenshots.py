"""Regenerate the cluster screenshots in docs/images: Settings > Clusters after Test connection, a run
on the cluster in the Monitor, and the Tune page after a short tuning.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/tools/cluster_screenshots.py [OUT_DIR]`` (needs the
cluster extra). It starts a Ray cluster on this computer only (``training.local_cluster``), uses a
private studio home, and takes a few minutes on a CPU.
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["YOLO_STUDIO_HOME"] = tempfile.mkdtemp(prefix="yolo-studio-shots-")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import shot, wait, wait_until  # noqa: E402

from yolo_studio.app import make_application  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "images")


def main() -> None:
    import screenshots

    screenshots.OUT = OUT
    make_application()
    from yolo_studio.training.local_cluster import LocalCluster
    from yolo_studio.ui.clusters import ClustersDialog
    from yolo_studio.ui.main_window import MainWindow

    with LocalCluster(cpus=2) as cluster:
        window = MainWindow()
        window.resize(1500, 900)
        window.show()
        window.open_project_model()
        dialog = ClustersDialog(window)
        dialog.show()
        dialog.name.setText("lab")
        dialog.address.setText(cluster.address)
        dialog._add_mapping(str(Path.home() / "datasets"), "/mnt/lab/datasets")
        dialog.save()
        tested = []
        dialog.tested.connect(tested.append)
        dialog.test_connection()
        wait_until(lambda: bool(tested))
        shot(dialog, "clusters.png")
        dialog.accept()

        train = window.lazy.show("Train")
        train.fill_run_on()
        train.run_on.setCurrentIndex(train.run_on.findData("lab"))
        train.form.set_overrides({**train.form.overrides(), "workers": 0, "epochs": 12})
        ended = []
        train.run_ended.connect(ended.append)
        train.start()
        wait_until(lambda: bool(ended))
        shot(window, "train-on-cluster.png")

        train.run_on.setCurrentIndex(0)
        train.pages.setCurrentWidget(train.tune_page)
        train.tune_page.set_checked({"lr0", "momentum", "weight_decay", "hsv_h", "mosaic"})
        train.tune_page.iterations.setValue(6)
        train.tune_page.epochs.setValue(8)
        ended.clear()
        train.tune_page.start_button.click()
        wait_until(lambda: bool(ended))
        train.pages.setCurrentWidget(train.tune_page)
        train.tune_page.trials.selectRow(0)
        wait(300)
        shot(window, "tune.png")
        window.model_tab.undo_stack.setClean()
        window.close()


if __name__ == "__main__":
    main()
