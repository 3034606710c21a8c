"""The register of documents open in the studio's editors: one answer to "what does the user see?".

Each editor (the Model Designer's model, the Module Designer's block file) registers an
``OpenDocument``. Every other part of the studio asks the register instead of reading the file
on disk behind the editor's back:

- the quit prompt names every document with unsaved text;
- the Train tab's preflight asks whether the model it would train has unsaved edits, and offers
  to save them or to train the saved file;
- a fix to a file that is open (preflight's "set nc") is applied to the open document, as an
  edit its undo stack records, not written to the file under it.

Plain Python: the editors are Qt widgets, but the register only calls the protocol below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class OpenDocument(Protocol):
    kind: str  # "model" | "block"
    where: str  # where the user sees it, e.g. "the Model tab"

    def file(self) -> Path | None:
        """The file the document belongs to (None: never saved)."""

    def is_modified(self) -> bool:
        """True when the editor holds text the file does not."""

    def text(self) -> str:
        """The text the user sees (what Save would write)."""

    def save(self) -> bool:
        """Write the text to the file (asking for a name when it has none); False if not saved."""


class DocumentRegister:
    def __init__(self):
        self._documents: list = []

    def add(self, document: OpenDocument) -> OpenDocument:
        if document not in self._documents:
            self._documents.append(document)
        return document

    def remove(self, document: OpenDocument) -> None:
        if document in self._documents:
            self._documents.remove(document)

    def documents(self) -> list:
        return list(self._documents)

    def open_for(self, path: str | Path | None) -> OpenDocument | None:
        """The open document of ``path`` (compared as resolved paths), if an editor has it."""
        if not path:
            return None
        wanted = _resolved(path)
        for document in self._documents:
            file = document.file()
            if file is not None and _resolved(file) == wanted:
                return document
        return None

    def unsaved(self) -> list:
        """Documents whose editor holds unsaved text, in the order they were registered."""
        return [d for d in self._documents if d.is_modified()]

    def unsaved_edits_to(self, path: str | Path | None) -> OpenDocument | None:
        """The open document of ``path`` when it has unsaved edits (what training the file would miss)."""
        document = self.open_for(path)
        return document if document is not None and document.is_modified() else None


def describe(document: OpenDocument) -> str:
    """'yolo11n.yaml (model, in the Model tab)' for prompts."""
    file = document.file()
    name = file.name if file is not None else f"untitled {document.kind}"
    return f"{name} ({document.kind}, in {document.where})"


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except OSError:
        return Path(path).absolute()
