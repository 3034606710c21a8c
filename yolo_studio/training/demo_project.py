"""The bundled demo project: generated locally, identical every time, nothing downloaded.

It holds the synthetic shapes dataset (256 train / 64 val images, 128 px, 3 classes), the
YOLO11n demo model and a variant with the example custom blocks, those blocks, and the
"CPU quick" preset that trains the model to a useful mAP on a laptop CPU in a couple of minutes.
Small shapes datasets of the other tasks (segment, pose, OBB, classify) come with it, so that each task
can be tried offline with Ultralytics' own model of that task.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from yolo_studio.core.data import demo_dataset
from yolo_studio.core.project.dataset_import import import_dataset
from yolo_studio.training import train_config
from yolo_studio.core.project.projects import Project, create_project, is_project, open_project
from yolo_studio.core.project.trust import TrustStore

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
DEMO_FOLDER = "demo"
MODEL = "models/yolo11n-shapes.yaml"
CUSTOM_MODEL = "models/yolo11n-se-shapes.yaml"
DATA = "datasets/shapes/data.yaml"
PRESET = "CPU quick"
CPU_QUICK = {"epochs": 15, "imgsz": 128, "batch": 16, "device": "cpu", "workers": 2, "amp": False}
# task -> (dataset folder, the Ultralytics model that trains it)
TASK_DATASETS = {"segment": ("shapes-seg", "yolo11n-seg.yaml"), "pose": ("shapes-pose", "yolo11n-pose.yaml"),
                 "obb": ("shapes-obb", "yolo11n-obb.yaml"), "classify": ("shapes-cls", "yolo11n-cls.yaml")}


def create_demo(root: str | Path) -> Project:
    """Write the demo project into ``root`` (new or empty); the same files every time."""
    root = Path(root)
    project = create_project(root, DEMO_NAME, "Shapes on noise: a dataset, two models and a preset "
                             "to try every part of the studio offline.")
    project.created = ""  # no timestamp: two demos are byte-identical
    project.save()
    import_dataset(demo_dataset.generate(project.datasets_dir / "shapes", train=256, val=64, imgsz=128, seed=0),
                   project, "shapes")
    for task, (folder, _model) in TASK_DATASETS.items():
        data = demo_dataset.generate(project.datasets_dir / folder, train=64, val=16, imgsz=128, seed=0, task=task)
        import_dataset(data, project, folder)
    shutil.copyfile(RESOURCES / "models" / "yolo11n-demo.yaml", project.resolve(MODEL))
    shutil.copyfile(RESOURCES / "models" / "yolo11n-se.yaml", project.resolve(CUSTOM_MODEL))
    for block_file in sorted((RESOURCES / "modules").glob("*.py")):
        shutil.copyfile(block_file, project.modules_dir / block_file.name)
    train_config.save_preset(PRESET, CPU_QUICK, project.root)
    project.remember(model=MODEL, data=DATA, preset=PRESET)
    TrustStore().remember(project.root, True)  # its blocks are the studio's own examples
    return project


DEMO_NAME = "YOLO Studio demo"


def first_run_hint(project: Project) -> str | None:
    """What to do next, for the demo project while it has no training run yet (None otherwise)."""
    if project.name != DEMO_NAME:
        return None
    runs = project.runs_dir
    if runs.is_dir() and any(p.is_dir() for p in runs.iterdir()):
        return None
    return ("This is the demo project: a 3-class shapes dataset, the model yolo11n-demo (open in the Model tab) and "
            "a CPU preset. Next: open the Train tab and press Start (about two minutes on a CPU); then, in Runs, "
            "register the run and test it in Inference. The Modules tab holds the example custom blocks that "
            "models/yolo11n-se-shapes.yaml uses. The Datasets tab also holds small segment, pose, OBB and "
            "classify datasets: train them with yolo11n-seg.yaml, yolo11n-pose.yaml, yolo11n-obb.yaml or "
            "yolo11n-cls.yaml.")


def ensure_demo(workspace: str | Path) -> Project:
    """The demo project in the workspace, created on first use."""
    root = Path(workspace) / DEMO_FOLDER
    return open_project(root) if is_project(root) else create_demo(root)
