"""The Linux desktop entry and icon: ``yolo-studio install-desktop`` (``--uninstall`` removes them).

Written under ``$XDG_DATA_HOME`` (default ``~/.local/share``): ``applications/yolo-studio.desktop``
and the icon in ``icons/hicolor/``, so the studio appears in the desktop's application menu with
its icon, and its windows are grouped under it in the task bar.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent.parent / "resources" / "icons"
APP_ID = "yolo-studio"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launch_command() -> str:
    """The installed ``yolo-studio`` script beside this Python, else ``python -m yolo_studio``."""
    script = Path(sys.executable).parent / "yolo-studio"
    return f'"{script}" gui' if script.is_file() else f'"{sys.executable}" -m yolo_studio gui'


def entry_text() -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=YOLO Studio",
        "GenericName=YOLO model designer and trainer",
        "Comment=Design, train and test Ultralytics YOLO models offline",
        f"Exec={launch_command()}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Development;Science;Graphics;",
        f"StartupWMClass={APP_ID}",
        "",
    ])


def targets() -> dict:
    home = data_home()
    return {"entry": home / "applications" / f"{APP_ID}.desktop",
            "png": home / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png",
            "svg": home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"}


def install() -> list:
    if not sys.platform.startswith("linux"):
        raise ValueError("the desktop entry is for Linux desktops; see packaging/README.md for Windows and macOS")
    paths = targets()
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICONS / f"{APP_ID}.png", paths["png"])
    shutil.copyfile(ICONS / f"{APP_ID}.svg", paths["svg"])
    from yolo_studio.core.atomic import write_text_atomic

    write_text_atomic(paths["entry"], entry_text())
    paths["entry"].chmod(0o755)
    return list(paths.values())


def uninstall() -> list:
    removed = []
    for path in targets().values():
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
