"""Regenerate the large-model screenshots in docs/images: yolov9e framed (routed edges, overview map)
and with its backbone folded.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/tools/canvas_screenshots.py [OUT_DIR]``
(a few seconds; a private studio home in a temporary folder, nothing of the user's is touched).
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["YOLO_STUDIO_HOME"] = tempfile.mkdtemp(prefix="yolo-studio-shots-")

from yolo_studio.app import make_application  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "images")


def main() -> None:
    make_application()
    from screenshots import shot

    from yolo_studio.core.project.projects import create_project
    from yolo_studio.ui.main_window import MainWindow
    from yolo_studio.ui.templates import template_files

    project = create_project(Path(tempfile.mkdtemp()) / "shots")
    window = MainWindow(project_dir=project.root)
    window.resize(1500, 950)
    window.show()
    template = next(p for paths in template_files().values() for p in paths if p.name == "yolov9e.yaml")
    window.new_from_template(template)
    tab = window.model_tab
    tab.canvas.frame_all()
    tab.canvas.overview.render_scene()
    shot(window, "yolov9e-overview.png")
    tab.toggle_section("backbone")
    tab.canvas.overview.render_scene()
    shot(window, "yolov9e-folded.png")
    tab.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
