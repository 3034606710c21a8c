"""The model document: one open model YAML as header + rows, with undoable edit operations.

This is the single source of truth that saving, validation, inspection and training read. The
canvas (a later view) turns user gestures into the edit methods below; each returns an
``Edit`` holding the state before and after, which is all an undo stack needs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path

from yolo_studio.compat import model_dict
from yolo_studio.core import atomic
from yolo_studio.core.model import model_yaml, renumber
from yolo_studio.core.model.model_yaml import Layout, Row


@dataclass(frozen=True)
class DocState:
    """An immutable snapshot of everything an edit can change."""

    rows: tuple
    head_start: int
    header: tuple  # ((key, value), ...) in order
    layout: object = None  # the file's text around the values (a text edit replaces it)


@dataclass(frozen=True)
class Edit:
    """What one edit did: the states around it and the references it could not keep."""

    text: str  # human description, e.g. "Insert Conv at 3"
    before: DocState
    after: DocState
    issues: tuple = field(default=())  # renumber.RefIssue


class ModelDocument:
    """An open model: header keys, rows (backbone then head) and the file layout to write them."""

    def __init__(self, header: dict, rows: list, head_start: int, layout: Layout | None = None,
                 path: Path | None = None):
        self.header = dict(header)
        self.rows = list(rows)
        self.head_start = head_start
        self.layout = layout or Layout()
        self.path = Path(path) if path else None

    # ------------------------------------------------------------------ loading and saving

    @classmethod
    def from_text(cls, text: str, file: str = "<text>") -> "ModelDocument":
        parsed = model_yaml.parse(text, file)
        return cls(parsed.header, parsed.rows, parsed.head_start, parsed.layout)

    @classmethod
    def load(cls, path: str | Path) -> "ModelDocument":
        parsed = model_yaml.read_file(path)
        return cls(parsed.header, parsed.rows, parsed.head_start, parsed.layout, Path(path))

    def to_yaml(self, spans: dict | None = None) -> str:
        """The YAML text; ``spans`` (if given) receives each row's (first, last) 0-based line."""
        return model_yaml.write(self.header, self.rows, self.head_start, self.layout, spans)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the YAML atomically (temporary file, then rename) and remember the path."""
        if path is None and self.path is None:
            raise ValueError("the document has no file yet: give a path to save to")
        target = Path(path) if path is not None else self.path
        atomic.write_text_atomic(target, self.to_yaml())
        self.path = target
        return target

    def to_dict(self, scale: str | None = None) -> dict:
        """The model as the plain dict Ultralytics builds from (a fresh deep copy every call)."""
        d = copy.deepcopy(self.header)
        d["backbone"] = [row.as_list() for row in self.rows[: self.head_start]]
        d["head"] = [row.as_list() for row in self.rows[self.head_start :]]
        if scale is not None:
            d["scale"] = scale
        return d

    # ------------------------------------------------------------------ reading helpers

    def section_of(self, index: int) -> str:
        return "backbone" if index < self.head_start else "head"

    def scales(self) -> list:
        scales = self.header.get("scales")
        return list(scales) if isinstance(scales, dict) else []

    def state(self) -> DocState:
        return DocState(tuple(self.rows), self.head_start, tuple((k, copy.deepcopy(v)) for k, v in self.header.items()),
                        self.layout)

    def restore(self, state: DocState) -> None:
        """Put the document back into a snapshot (undo and redo use this)."""
        self.rows = list(state.rows)
        self.head_start = state.head_start
        self.header = {k: copy.deepcopy(v) for k, v in state.header}
        if state.layout is not None:
            self.layout = state.layout

    def replace_text(self, text: str) -> Edit:
        """Make the document what ``text`` says (the YAML pane edited by hand): one undoable edit.
        Raises ``ModelYamlError`` (with the line) and changes nothing when the text does not parse."""
        parsed = model_yaml.parse(text, self.path.name if self.path else "untitled.yaml")
        before = self.state()
        self.header, self.rows, self.head_start, self.layout = (dict(parsed.header), list(parsed.rows),
                                                                parsed.head_start, parsed.layout)
        return self._edit("Edit the YAML", before)

    def _edit(self, text: str, before: DocState, issues=()) -> Edit:
        return Edit(text, before, self.state(), tuple(issues))

    def _check_index(self, index: int, *, allow_end: bool = False) -> None:
        limit = len(self.rows) + (1 if allow_end else 0)
        if not 0 <= index < limit:
            raise IndexError(f"layer {index} does not exist (the model has {len(self.rows)} layers)")

    # ------------------------------------------------------------------ row edits

    def insert_row(self, index: int, row: Row | list, section: str | None = None) -> Edit:
        """Insert ``row`` so it becomes layer ``index``; every reference keeps its target row.

        At the backbone/head boundary the row goes to the head unless ``section='backbone'``.
        """
        self._check_index(index, allow_end=True)
        if isinstance(row, list):
            row = Row(*row)
        before = self.state()
        mapping = renumber.insert_mapping(len(self.rows), index)
        self.rows, issues = renumber.apply_mapping(self.rows, mapping, {index: replace(row, source=None)})
        if index < self.head_start or (index == self.head_start and section == "backbone"):
            self.head_start += 1
        return self._edit(f"Insert {row.module} at {index}", before, issues)

    def delete_rows(self, indices, bridge: bool = False) -> Edit:
        """Delete rows; references to them become unconnected inputs and are reported. With ``bridge``,
        a row that read a deleted single-input row reads that row's input instead (the chain is kept)."""
        deleted = set(indices)
        for i in deleted:
            self._check_index(i)
        before = self.state()
        if bridge:
            self.rows = renumber.bridge_deleted(self.rows, deleted)
        mapping = renumber.delete_mapping(len(self.rows), deleted)
        self.rows, issues = renumber.apply_mapping(self.rows, mapping)
        self.head_start -= sum(1 for i in deleted if i < self.head_start)
        names = ", ".join(str(i) for i in sorted(deleted))
        return self._edit(f"Delete layer{'s' if len(deleted) > 1 else ''} {names}", before, issues)

    def move_row(self, src: int, dst: int) -> Edit:
        """Move the row at ``src`` so it becomes layer ``dst``; references follow their rows.

        The moved row lands in the section of its new neighbours (the head when it lands on the
        boundary, unless it came from the backbone and moved up).
        """
        self._check_index(src)
        self._check_index(dst)
        before = self.state()
        mapping = renumber.move_mapping(len(self.rows), src, dst)
        self.rows, issues = renumber.apply_mapping(self.rows, mapping)
        if src < self.head_start <= dst:
            self.head_start -= 1
        elif dst < self.head_start <= src:
            self.head_start += 1
        return self._edit(f"Move layer {src} to {dst}", before, issues)

    def update_row(self, index: int, **fields) -> Edit:
        """Change ``from_``, ``repeats``, ``module``, ``args`` or ``comment`` of one row."""
        self._check_index(index)
        allowed = {"from_", "repeats", "module", "args", "comment"}
        unknown = set(fields) - allowed
        if unknown:
            raise TypeError(f"unknown row fields: {sorted(unknown)}")
        before = self.state()
        self.rows[index] = replace(self.rows[index], **copy.deepcopy(fields))
        names = ", ".join(k.rstrip("_") for k in fields)
        return self._edit(f"Change {names} of layer {index}", before)

    def set_head_start(self, head_start: int) -> Edit:
        """Move the backbone/head boundary so the head starts at layer ``head_start``."""
        if not 0 <= head_start <= len(self.rows):
            raise IndexError(f"the boundary must be between 0 and {len(self.rows)}")
        before = self.state()
        self.head_start = head_start
        return self._edit(f"Start the head at layer {head_start}", before)

    # ------------------------------------------------------------------ header edits

    def set_header(self, key: str, value) -> Edit:
        if key in model_yaml.SECTIONS:
            raise KeyError(f"'{key}' holds rows; edit rows instead")
        before = self.state()
        self.header[key] = copy.deepcopy(value)
        return self._edit(f"Set {key}", before)

    def remove_header(self, key: str) -> Edit:
        before = self.state()
        self.header.pop(key)
        return self._edit(f"Remove {key}", before)


def task_of(doc: "ModelDocument", catalog=None) -> str:
    """The task of a model from its output module's name, as Ultralytics guesses it from a YAML
    ('detect' when no word matches), or, for a custom head in ``catalog``, from what its class is
    (``compat.heads``): quick enough for a preview, no torch."""
    block = catalog.get(doc.rows[-1].module) if catalog is not None and doc.rows else None
    if block is not None and block.extra.get("task"):
        return block.extra["task"]
    return model_dict.guess_task({"head": [[-1, 1, doc.rows[-1].module, []]] if doc.rows else []})
