"""Helpers shared by the test packages (import as ``from helpers import ...``)."""

import importlib.util
from pathlib import Path


def shipped_model_yamls() -> list:
    """Every model YAML inside the installed Ultralytics package."""
    spec = importlib.util.find_spec("ultralytics")
    root = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "models"
    return sorted(root.rglob("*.yaml"))


# Training arguments of the tiny real runs in the tests: seconds on a CPU.
TINY_RUN = {"epochs": 2, "imgsz": 64, "batch": 4, "device": "cpu", "workers": 0, "plots": False}
