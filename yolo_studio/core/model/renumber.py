"""Renumbering ``from`` references when rows are inserted, deleted or moved.

The rule: a reference keeps pointing at the same row it pointed at before the edit, in the
same spelling (relative ``-k`` stays relative, absolute stays absolute). When that is
impossible the reference is reported, never silently redirected:

- its row was deleted: the reference becomes ``None`` (an unconnected input);
- its row now comes after the referencing row (a move): it is written as an absolute index
  and reported as a forward reference;
- it read the network input (``-1`` on row 0) and its row is no longer first: it becomes ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

INPUT = -1  # target of the network input (row 0 reading ``-1``)


@dataclass(frozen=True)
class RefIssue:
    """A reference an edit could not keep: ``layer`` and ``input`` locate it after the edit."""

    layer: int
    input: int
    old_target: int
    reason: str  # "deleted", "forward" or "input"

    def describe(self) -> str:
        what = {
            "deleted": f"pointed at layer {self.old_target}, which was deleted",
            "forward": f"points at layer {self.old_target}, which now comes after it",
            "input": "read the network input, which only the first layer can do",
        }[self.reason]
        return f"layer {self.layer}, input {self.input}: {what}"


def target(index: int, ref: int | None) -> int | None:
    """The absolute row a reference of row ``index`` points at (``INPUT`` for the image)."""
    if ref is None:
        return None
    if ref >= 0:
        return ref
    t = index + ref
    return INPUT if t < 0 else t


def spell(new_index: int, new_target: int, relative: bool) -> int:
    """Write a reference to ``new_target`` from row ``new_index`` in the requested style."""
    if relative and new_target < new_index:
        return new_target - new_index
    return new_target


def remap_from(from_, old_index: int, new_index: int, mapping: dict) -> tuple:
    """Renumber one row's ``from`` after rows moved according to ``mapping`` (old -> new or None).

    Returns the new ``from`` and a list of ``(input position, old target, reason)`` problems.
    """
    refs = from_ if isinstance(from_, list) else [from_]
    out, problems = [], []
    for pos, ref in enumerate(refs):
        old_t = target(old_index, ref)
        if old_t is None:
            out.append(None)
            continue
        if old_t == INPUT:
            if new_index == 0 and ref == -1:
                out.append(-1)
            else:
                out.append(None)
                problems.append((pos, INPUT, "input"))
            continue
        new_t = mapping.get(old_t)
        if new_t is None:
            out.append(None)
            problems.append((pos, old_t, "deleted"))
            continue
        out.append(spell(new_index, new_t, ref < 0))
        if new_t >= new_index:
            problems.append((pos, old_t, "forward"))
    return (out if isinstance(from_, list) else out[0]), problems


def apply_mapping(rows: list, mapping: dict, inserted: dict | None = None) -> tuple:
    """Reorder ``rows`` by ``mapping`` (old index -> new index, or None to delete).

    ``inserted`` maps new indices to rows that are new (their ``from`` is taken as written).
    Rows are any objects with ``from_`` and a ``replace(from_=...)``-able dataclass shape.
    Returns the new list and a list of ``RefIssue``.
    """
    inserted = inserted or {}
    size = sum(1 for v in mapping.values() if v is not None) + len(inserted)
    new_rows: list = [None] * size
    issues = []
    for old, new in mapping.items():
        if new is None:
            continue
        row = rows[old]
        new_from, problems = remap_from(row.from_, old, new, mapping)
        new_rows[new] = replace(row, from_=new_from) if new_from != row.from_ else row
        issues.extend(RefIssue(new, pos, t, why) for pos, t, why in problems)
    for new, row in inserted.items():
        new_rows[new] = row
    issues.sort(key=lambda i: (i.layer, i.input))
    return new_rows, issues


def bridge_deleted(rows: list, deleted: set) -> list:
    """Rows whose references to a deleted single-input row point at that row's own input instead.

    Deleting a layer from a chain keeps the chain (what node editors call "delete and reconnect"):
    a row reading the deleted row reads what the deleted row read, through any run of deleted
    single-input rows. A reference to a deleted multi-input row (a Concat) has no single input to
    take and is left for ``delete_mapping`` to report. Spellings stay relative or absolute.
    """
    def source(i: int):
        """The row a deleted row ``i`` reads, following deleted single-input rows; None if none."""
        seen = set()
        while i in deleted and i not in seen:
            seen.add(i)
            ref = rows[i].from_
            if isinstance(ref, list) or ref is None:
                return None
            i = target(i, ref)
            if i is None or i == INPUT:
                return None
        return None if i in deleted else i

    out = []
    for index, row in enumerate(rows):
        if index in deleted:
            out.append(row)
            continue
        refs = row.from_ if isinstance(row.from_, list) else [row.from_]
        new = []
        for ref in refs:
            t = target(index, ref)
            bridged = source(t) if t is not None and t in deleted else None
            new.append(spell(index, bridged, ref < 0) if bridged is not None else ref)
        new_from = new if isinstance(row.from_, list) else new[0]
        out.append(replace(row, from_=new_from) if new_from != row.from_ else row)
    return out


def insert_mapping(count: int, index: int) -> dict:
    """Old -> new indices when one row is inserted at ``index`` in ``count`` rows."""
    return {i: (i if i < index else i + 1) for i in range(count)}


def delete_mapping(count: int, deleted: set) -> dict:
    """Old -> new indices (None for deleted rows) when ``deleted`` rows are removed."""
    mapping, shift = {}, 0
    for i in range(count):
        if i in deleted:
            mapping[i] = None
            shift += 1
        else:
            mapping[i] = i - shift
    return mapping


def move_mapping(count: int, src: int, dst: int) -> dict:
    """Old -> new indices when the row at ``src`` is moved so it ends at ``dst``."""
    order = list(range(count))
    order.insert(dst, order.pop(src))
    return {old: new for new, old in enumerate(order)}
