"""Offline settings applied before Ultralytics is imported.

Ultralytics reaches the network for settings sync, font downloads, pip auto-installs and
weight downloads. The studio never does: these variables switch all of that off, and a
studio-owned config directory holds the fonts Ultralytics asks for (``Arial.ttf``, and
``Arial.Unicode.ttf`` for labels that are not ASCII: class names in Chinese, accented names),
both copied from the DejaVu Sans that matplotlib ships, so plotting never tries to download them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from yolo_studio.core.home import studio_data_dir

OFFLINE_VARIABLES = {
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "false",
    "YOLO_VERBOSE": "false",
    "RAY_USAGE_STATS_ENABLED": "0",  # Ray (the cluster extra) never reports usage
}


FONTS = ("Arial.ttf", "Arial.Unicode.ttf")  # Ultralytics' plots: ASCII labels, other labels


def _seed_font(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    missing = [config_dir / name for name in FONTS if not (config_dir / name).exists()]
    if not missing:
        return
    try:
        import matplotlib  # a dependency of Ultralytics, so always present next to it
    except ImportError:
        return
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for target in missing if source.exists() else ():
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


def apply_offline_environment() -> Path:
    """Set the offline variables and the studio-owned ``YOLO_CONFIG_DIR``; return that folder.

    Ultralytics keeps its settings and fonts in ``YOLO_CONFIG_DIR/Ultralytics``; the font goes there.

    Values the user already exported are respected, except that the config directory is always
    seeded with the font so Ultralytics finds it there.
    """
    for key, value in OFFLINE_VARIABLES.items():
        os.environ.setdefault(key, value)
    # GPU i is the same card everywhere: the device picker lists GPUs in PCI order (NVML's), and every
    # process the studio starts (training, inference, export, hydra) inherits this, as CUDA in its own
    # process does; CUDA's default order (fastest first) made "GPU 1" another card on a mixed machine
    os.environ["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    config_dir = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(studio_data_dir() / "ultralytics")))
    try:
        _seed_font(config_dir / "Ultralytics")  # Ultralytics reads USER_CONFIG_DIR = YOLO_CONFIG_DIR/Ultralytics
    except OSError:
        pass  # a read-only home must not stop the studio; Ultralytics then falls back to a temp dir
    return config_dir


def ultralytics_settings_offline() -> None:
    """Turn off Ultralytics' own online settings (event sync) once it is imported."""
    from ultralytics.utils import SETTINGS

    wanted = {"sync": False}
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)
