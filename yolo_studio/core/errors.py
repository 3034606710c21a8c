"""Errors and problems a user can act on: each names the file, line or layer, and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass


class StudioError(Exception):
    """Base of the errors the studio reports to users (never shown as a traceback)."""


class ModelYamlError(StudioError):
    """A model YAML that cannot be read into a document."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, hint: str = ""):
        self.message, self.file, self.line, self.hint = message, file, line, hint
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")
        text = f"{where}: {self.message}" if where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


@dataclass(frozen=True)
class Problem:
    """One validation finding. ``layer`` is the global row index (backbone then head)."""

    severity: str  # "error" or "warning"
    section: str  # "header", "backbone" or "head"
    layer: int | None
    message: str
    hint: str = ""
    line: int | None = None

    def describe(self) -> str:
        where = f"layer {self.layer} ({self.section})" if self.layer is not None else self.section
        text = f"{self.severity}: {where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict:
        return asdict(self)


class BuildError(StudioError):
    """Ultralytics could not build or run the model; ``layer`` is the row that caused it."""

    def __init__(self, message: str, layer: int | None = None, hint: str = ""):
        self.message, self.layer, self.hint = message, layer, hint
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"layer {self.layer}: " if self.layer is not None else ""
        return f"{where}{self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")


class CustomBlocksUnsupported(StudioError):
    """The installed Ultralytics cannot take custom blocks the way the studio registers them."""
