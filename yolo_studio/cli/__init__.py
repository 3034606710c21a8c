"""The ``yolo-studio`` command: ``main.py`` parses and runs the model commands, the other files add theirs."""

from yolo_studio.cli.main import main, parse  # noqa: F401
