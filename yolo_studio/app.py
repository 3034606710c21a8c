"""Composition root: the QApplication and the main window."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def make_application():
    """The QApplication, created before anything imports cv2 (which points Qt at its own plugins)."""
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        if "cv2" in os.environ.get(key, ""):
            del os.environ[key]
    if sys.platform == "win32" and "PySide6" not in sys.modules:
        import torch  # noqa: F401  (on Windows torch's DLLs must load before Qt's, or torch fails to load later)
    from PySide6 import QtGui, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("YOLO Studio")
    app.setOrganizationName("YOLO Studio")
    app.setDesktopFileName("yolo-studio")  # the task bar groups the windows under the desktop entry
    app.setWindowIcon(QtGui.QIcon(str(Path(__file__).resolve().parent.parent / "resources" / "icons" /
                                      "yolo-studio.png")))
    return app


def no_display_reason() -> str | None:
    """Why a window cannot open here (Linux without X11/Wayland and no Qt platform chosen), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Run the studio in a desktop "
            "session, or on a server with `xvfb-run yolo-studio`, or set QT_QPA_PLATFORM=offscreen.")


def run_gui(model: str | Path | None = None, modules_dir: str | Path | None = None,
            project_dir: str | Path | None = None) -> int:
    reason = no_display_reason()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    app = make_application()
    from yolo_studio.core.project.projects import load_settings
    from yolo_studio.ui.main_window import MainWindow
    from yolo_studio.ui.settings_dialog import apply_theme

    apply_theme(load_settings().get("theme"))

    try:
        window = MainWindow(modules_dir=modules_dir, project_dir=project_dir)
    except ValueError as exc:  # a folder that is not a project, an unreadable project.yaml
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from yolo_studio.ui import crash_guard

    crash_guard.install(window)
    if os.environ.get("YOLO_STUDIO_STARTUP_PROBE"):
        _report_first_paint(window)
    crash_guard.logger().info("studio started on %s", window.project.root)
    window.show()
    from yolo_studio.ui.autosave import offer_recovery

    restored = offer_recovery(window)  # work a crash left unsaved comes first
    if not restored and model is not None:
        window.open_path(model)
    elif not restored:
        window.open_project_model()
    return app.exec()


def _seconds_since_process_start() -> float:
    """On Linux from the kernel's clock since boot (psutil's create_time adds the boot time, which
    the kernel gives in whole seconds, so it can be off by up to a second); elsewhere psutil."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: start time in clock ticks
            return float(uptime.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        import psutil

        return time.time() - psutil.Process().create_time()


def _report_first_paint(window) -> None:
    """For benchmarks/bench_startup.py: print the seconds from process start to the window's first
    painted frame (and which heavy modules were imported by then), then exit."""
    from PySide6 import QtCore

    class FirstPaint(QtCore.QObject):
        def eventFilter(self, obj, event):
            if event.type() == QtCore.QEvent.Paint:
                elapsed = _seconds_since_process_start()
                heavy = [m for m in ("torch", "ultralytics", "cv2") if m in sys.modules]
                print(f"first paint {elapsed:.3f} s; imported before it: "
                      f"{', '.join(heavy) or 'none of torch, ultralytics, cv2'}", flush=True)
                os._exit(0)
            return False

    window._first_paint_probe = FirstPaint(window)
    window.installEventFilter(window._first_paint_probe)
    QtCore.QTimer.singleShot(30_000, lambda: os._exit(3))


def render(model: str | Path, output: str | Path, scale: str | None = None, modules_dir=None,
           inspect: bool = True) -> dict:
    """Draw a model's canvas offscreen into a PNG or SVG; returns ``{"nodes", "edges"}``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    make_application()
    from PySide6 import QtCore, QtGui, QtSvg  # noqa: F401  (QtSvg registers the SVG generator)

    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.ui.model.designer import ModelDesignerTab

    doc = ModelDocument.load(model)
    tab = ModelDesignerTab(modules_dir=modules_dir)
    tab.resize(1600, 1000)
    tab.open_document(doc)
    if scale:
        tab.scale.setCurrentText(scale)
    if inspect:
        loop = QtCore.QEventLoop()
        tab.inspected.connect(loop.quit)
        QtCore.QTimer.singleShot(120_000, loop.quit)
        tab.start_inspection()
        if tab.inspector.generation:
            loop.exec()
    scene = tab.canvas.graph.scene()
    rect = QtCore.QRectF()
    for node in tab.canvas.nodes:
        rect = rect.united(node.view.sceneBoundingRect())
    rect = rect.adjusted(-30, -70, 30, 30)  # room for the BACKBONE / HEAD captions
    output = Path(output)
    if output.suffix.lower() == ".svg":
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setFileName(str(output))
        gen.setSize(rect.size().toSize())
        gen.setViewBox(QtCore.QRectF(0, 0, rect.width(), rect.height()))
        painter = QtGui.QPainter(gen)
    else:
        image = QtGui.QImage(rect.size().toSize(), QtGui.QImage.Format_ARGB32)
        image.fill(QtGui.QColor(30, 32, 36))
        painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    scene.render(painter, QtCore.QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
    if output.suffix.lower() != ".svg":
        image.save(str(output))
    result = {"nodes": len(tab.canvas.nodes), "edges": tab.canvas.edge_count()}
    tab.shutdown()
    return result
