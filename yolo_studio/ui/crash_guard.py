"""Unexpected exceptions in the window: logged, shown, survived.

``install(window)`` replaces ``sys.excepthook`` (what Qt calls for an exception escaping a slot):
the exception goes to a rotating log file in the studio's data folder, and a dialog shows a short
message with the details to copy; the studio keeps running. User mistakes never get here: they are
reported where they happen, in words.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback

from PySide6 import QtCore, QtWidgets

from yolo_studio.core.home import studio_data_dir

LOG_BYTES = 1_000_000
LOG_FILES = 3
_logger = None


def log_file():
    return studio_data_dir() / "logs" / "studio.log"


def logger() -> logging.Logger:
    """The studio's own log: ``logs/studio.log`` in its data folder, rotated at 1 MB, 3 files kept."""
    global _logger
    if _logger is None:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES,
                                                       encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        _logger = logging.getLogger("yolo_studio")
        _logger.addHandler(handler)
        _logger.setLevel(logging.INFO)
    return _logger


class ErrorDialog(QtWidgets.QMessageBox):
    def __init__(self, summary: str, details: str, parent=None):
        super().__init__(QtWidgets.QMessageBox.Warning, "Something went wrong", summary, parent=parent)
        self.setInformativeText(f"The studio keeps running; your open work is untouched. The details are also in "
                                f"{log_file()}.")
        self.setDetailedText(details)
        copy = self.addButton("Copy details", QtWidgets.QMessageBox.ActionRole)
        copy.clicked.disconnect()
        copy.clicked.connect(lambda: QtWidgets.QApplication.clipboard().setText(details))
        self.addButton(QtWidgets.QMessageBox.Ok)


class CrashGuard(QtCore.QObject):
    shown = QtCore.Signal(str)  # the summary, for tests and the status bar

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.previous = sys.excepthook
        self._showing = False

    def handle(self, kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, value, tb)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        logger().error("unexpected exception\n%s", details)
        summary = f"{kind.__name__}: {str(value).strip().splitlines()[0] if str(value).strip() else ''}".rstrip(": ")
        self.shown.emit(summary)
        if self._showing:  # one dialog at a time; further ones are logged
            return
        self._showing = True
        try:
            ErrorDialog(summary, details, self.window).exec()
        finally:
            self._showing = False


def install(window) -> CrashGuard:
    guard = CrashGuard(window)
    sys.excepthook = guard.handle
    window.destroyed.connect(lambda *_: setattr(sys, "excepthook", guard.previous))
    return guard
