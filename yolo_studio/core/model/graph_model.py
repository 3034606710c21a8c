"""The model as a graph for drawing: nodes, edges, labels and a layered layout. No Qt.

Edges come from ``from``: each reference of row ``i`` (the implicit ``-1`` included) is an edge
from the row it points at to input port ``k`` of row ``i``. The layout puts the backbone in the
left column and the head in the right one, rows in YAML order from top to bottom, and moves a
row that does not read its predecessor into a side lane, so skip connections stay readable.
It is linear in the number of rows (NodeGraphQt's own auto layout is exponential).

The canvas is drawn from the document: every node sits where the layout puts it, except the nodes
the user dragged, which keep their offset from that place (so an insert above a moved node moves it
down with its row), and ``separate`` then slides any node that would cover another aside. Only the
dragged nodes' offsets are kept, in a sidecar ``MODEL.layout.json`` (never in the YAML), keyed by
the row's index, module and arguments, so a row found elsewhere after an edit outside the studio
keeps its offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.model.renumber import INPUT, target

NODE_WIDTH = 230.0
NODE_HEIGHT = 66.0
ROW_HEIGHT = 110.0
LANE_WIDTH = 270.0
SECTION_GAP = 120.0


@dataclass(frozen=True)
class Edge:
    source: int  # row index; never INPUT (the image is not drawn as a node)
    target: int
    port: int  # input port of the target row


def edges(rows: list) -> list:
    """Every reference as an edge, in row then input order; unconnected and invalid ones skipped."""
    out = []
    for i, row in enumerate(rows):
        for port, ref in enumerate(row.inputs()):
            t = target(i, ref)
            if t is not None and t != INPUT and 0 <= t < len(rows) and t != i:
                out.append(Edge(t, i, port))
    return out


def input_count(row) -> int:
    return len(row.from_) if isinstance(row.from_, list) else 1


def layered_layout(rows: list, head_start: int) -> dict:
    """``{row index: (x, y)}`` top-left positions; linear time."""
    lanes: dict = {}
    positions = {}
    for i, row in enumerate(rows):
        head = i >= head_start
        first = head_start if head else 0
        sources = [target(i, r) for r in row.inputs()]
        primary = sources[0] if sources else None
        reads_previous = (i - 1) in sources
        if i == first or reads_previous or primary is None or primary == INPUT or primary < first:
            lanes[i] = lanes.get(i - 1, 0) if i > first else 0  # the chain (merges included) stays put
        else:  # a branch starting from an older row: one lane right of that row
            lanes[i] = lanes.get(primary, 0) + 1
        positions[i] = lanes[i]
    backbone_lanes = max((positions[i] for i in range(min(head_start, len(rows)))), default=0)
    head_x = (backbone_lanes + 1) * LANE_WIDTH + SECTION_GAP
    out = {}
    for i in range(len(rows)):
        head = i >= head_start
        level = i - head_start if head else i
        x = (head_x if head else 0.0) + positions[i] * LANE_WIDTH
        out[i] = (x, level * ROW_HEIGHT)
    return out


SECTIONS = ("backbone", "head")


def section_rows(name: str, count: int, head_start: int) -> range:
    return range(0, min(head_start, count)) if name == "backbone" else range(min(head_start, count), count)


def collapse(rows: list, head_start: int, positions: dict, collapsed: set, offsets: dict | None = None) -> tuple:
    """Fold the ``collapsed`` sections ("backbone", "head") of a layout into one summary box each.

    A folded section keeps showing the rows that matter outside it: those a row of another section
    reads (a backbone's P3, P4 and P5) and those nothing reads (a head's outputs), stacked under
    its box (each moved by its ``offsets`` entry: where the user dragged it); the rest are hidden. Returns
    (positions, hidden row indices, ``{section: Box}``)."""
    out, hidden, boxes = dict(positions), set(), {}
    read_from = {}
    for e in edges(rows):
        read_from.setdefault(e.source, set()).add(e.target)
    for name in SECTIONS:
        members = section_rows(name, len(rows), head_start)
        if name not in collapsed or not members:
            continue
        x, y = positions[members[0]]
        shown = [i for i in members if not read_from.get(i) or any(t not in members for t in read_from[i])]
        boxes[name] = Box(name, x, y, members[0], members[-1], len(members) - len(shown))
        for level, i in enumerate(shown, start=1):
            dx, dy = (offsets or {}).get(i, (0.0, 0.0))
            out[i] = (x + dx, y + level * ROW_HEIGHT + dy)
        hidden.update(i for i in members if i not in shown)
    return out, hidden, boxes


@dataclass(frozen=True)
class Box:
    """A folded section as drawn: where, which rows it spans, and how many of them it hides."""

    section: str
    x: float
    y: float
    first: int
    last: int
    hidden: int

    def caption(self) -> str:
        return f"{self.section.upper()}  layers {self.first}–{self.last}: {self.hidden} folded"


def format_shape(shape, times: str = "×") -> str:
    """``[64, 80, 80]`` as ``64×80×80``; several outputs show the first and an ellipsis."""
    if shape is None:
        return ""
    if shape and all(isinstance(s, int) for s in shape):
        return times.join(map(str, shape))
    if isinstance(shape, list) and shape:
        return format_shape(shape[0], times) + (" …" if len(shape) > 1 else "")
    return str(shape) if shape else ""


def node_lines(index: int, row, layer=None, pending: bool = False, repeats: int | None = None) -> tuple:
    """(title, args, info) text for a node; ``layer`` is the row's inspection report, if any.

    Without one, ``pending`` says an inspection is on its way (the node says so instead of showing
    its ``from``), and ``repeats`` is the count the scale's depth gives (what the inspection will show)."""
    repeats = layer.repeats if layer is not None else (repeats if repeats is not None else row.repeats)
    title = f"{index}  {row.module}" + (f"  ×{repeats}" if repeats > 1 else "")
    args = layer.args if layer is not None and layer.args is not None else row.args
    args_text = str(args)
    if len(args_text) > 34:
        args_text = args_text[:31] + "..."
    if layer is not None and layer.task:  # the output row: what its head makes (its output is several tensors)
        info = f"{layer.task} head{' · 8.3, adapted' if layer.adapted else ''} · {layer.params:,} p"
    elif layer is not None:
        shape = format_shape(layer.out_shape)
        info = f"{shape}   {layer.params:,} p" if shape else f"{layer.params:,} params"
    else:
        info = "measuring…" if pending else f"from {row.from_}"
    return title, args_text, info


def place(rows: list, head_start: int, offsets: dict) -> dict:
    """``{row: (x, y)}``: the layered layout, each dragged row moved by its ``offsets`` entry, and
    then no node covering another (``separate``; dragged rows keep their place first)."""
    layout = layered_layout(rows, head_start)
    positions = {i: (x + offsets[i][0], y + offsets[i][1]) if i in offsets else (x, y)
                 for i, (x, y) in layout.items()}
    return separate(positions, pinned=set(offsets))


def _cells(x: float, y: float):
    """The grid cells (node-sized) a node at (x, y) touches."""
    cx, cy = int(x // NODE_WIDTH), int(y // NODE_HEIGHT)
    return [(cx + dx, cy + dy) for dx in (0, 1) for dy in (0, 1)]


def overlaps(a: tuple, b: tuple, gap: float = 0.0) -> bool:
    """Whether nodes whose top-left corners are ``a`` and ``b`` cover each other."""
    return abs(a[0] - b[0]) < NODE_WIDTH + gap and abs(a[1] - b[1]) < NODE_HEIGHT + gap


def separate(positions: dict, pinned: set = frozenset(), skip: set = frozenset()) -> dict:
    """The same positions with no node covering another: the ``pinned`` rows (those the user
    placed) are placed first in row order, then the others; a node that would cover one already
    placed moves right a lane at a time until it is free. Rows in ``skip`` (hidden) are left as they
    are and are no obstacle. Near-linear: each node is checked against the nodes of four grid cells."""
    out = dict(positions)
    grid: dict = {}
    order = sorted(i for i in positions if i in pinned) + sorted(i for i in positions if i not in pinned)
    for i in order:
        if i in skip:
            continue
        x, y = out[i]
        while any(overlaps((x, y), out[j]) for cell in _cells(x, y) for j in grid.get(cell, ())):
            x += LANE_WIDTH
        out[i] = (x, y)
        for cell in _cells(x, y):
            grid.setdefault(cell, []).append(i)
    return out


def covering(positions: dict, skip: set = frozenset()) -> list:
    """Pairs of rows whose nodes cover each other (empty for a canvas drawn by ``separate``)."""
    grid: dict = {}
    found = []
    for i in sorted(positions):
        if i in skip:
            continue
        x, y = positions[i]
        found += [(j, i) for j in sorted({j for cell in _cells(x, y) for j in grid.get(cell, ())})
                  if overlaps((x, y), positions[j], gap=-0.5)]
        for cell in _cells(x, y):
            grid.setdefault(cell, []).append(i)
    return found


# --------------------------------------------------------------------------- sidecar

LAYOUT_VERSION = 2


def sidecar_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + ".layout.json")


def _row_key(row) -> tuple:
    return row.module, repr(row.args)


def load_offsets(model_path: str | Path, rows: list, head_start: int) -> dict:
    """The offsets ``{row: (dx, dy)}`` of the nodes the user dragged, as saved beside the model; {} if none.

    An entry belongs to the row at its index when module and arguments still match, else to the
    nearest row that matches and has no entry yet (the YAML was edited outside the studio); else it
    is dropped. A version 1 sidecar held every node's position: only the positions away from the
    layout were moves."""
    try:
        data = json.loads(sidecar_path(model_path).read_text(encoding="utf-8"))
        entries = data.get("nodes") or {}
        version = int(data.get("version", 1))
    except (OSError, ValueError, AttributeError, TypeError):
        return {}
    layout = layered_layout(rows, head_start) if version < LAYOUT_VERSION else {}
    wanted = []
    for key, entry in entries.items() if isinstance(entries, dict) else ():
        try:
            i = int(key)
            if version < LAYOUT_VERSION:
                if not (0 <= i < len(rows)) or entry.get("module") != rows[i].module:
                    continue
                dx, dy = float(entry["pos"][0]) - layout[i][0], float(entry["pos"][1]) - layout[i][1]
                if abs(dx) <= 0.5 and abs(dy) <= 0.5:
                    continue  # saved where the layout put it: never moved
                wanted.append((i, (entry["module"], repr(rows[i].args)), (dx, dy)))
            else:
                wanted.append((i, (entry["module"], entry["args"]), (float(entry["offset"][0]),
                                                                     float(entry["offset"][1]))))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            continue
    keys = [_row_key(r) for r in rows]
    out: dict = {}
    exact = {n for n, (i, key, _offset) in enumerate(wanted) if 0 <= i < len(rows) and keys[i] == key}
    for n in sorted(exact):  # entries still at their row first, then the others at the nearest matching row
        out.setdefault(wanted[n][0], wanted[n][2])
    for n, (i, key, offset) in enumerate(wanted):
        if n in exact:
            continue
        free = [j for j, k in enumerate(keys) if k == key and j not in out]
        if free:
            out[min(free, key=lambda j: abs(j - i))] = offset
    return out


def save_offsets(model_path: str | Path, rows: list, offsets: dict) -> Path | None:
    """Write the dragged nodes' offsets beside the model (atomically); with none, remove the sidecar."""
    path = sidecar_path(model_path)
    kept = {i: o for i, o in sorted(offsets.items()) if 0 <= i < len(rows)}
    if not kept:
        path.unlink(missing_ok=True)
        return None
    data = {"version": LAYOUT_VERSION,
            "nodes": {str(i): {"module": rows[i].module, "args": repr(rows[i].args),
                               "offset": [round(dx, 1), round(dy, 1)]} for i, (dx, dy) in kept.items()}}
    write_text_atomic(path, json.dumps(data, indent=1))
    return path


def from_for_sources(index: int, old_from, sources: list):
    """The ``from`` of row ``index`` whose inputs are now ``sources`` (row indices, None = unconnected).

    A port still wired to its old row keeps the user's spelling; a new wire is written as
    Ultralytics does: ``-1`` for the previous row, else the absolute index.
    """
    old = old_from if isinstance(old_from, list) else [old_from]
    out = []
    for port, source in enumerate(sources):
        previous = old[port] if port < len(old) else None
        if source is None:
            out.append(None)
        elif previous is not None and target(index, previous) == source:
            out.append(previous)
        else:
            out.append(-1 if source == index - 1 else source)
    if not isinstance(old_from, list) and len(out) == 1:
        return out[0]
    return out


def default_args(block) -> list:
    """Arguments for a block freshly placed from the palette (the user edits them after)."""
    presets = {"Concat": [1], "nn.Upsample": [None, 2, "nearest"], "Detect": ["nc"], "Segment": ["nc", 32, 256],
               "Pose": ["nc", [17, 3]], "OBB": ["nc", 1], "Classify": ["nc"], "SPPF": [64, 5]}
    if block is None:
        return []
    if block.name in presets:
        return list(presets[block.name])
    if block.rule in ("base", "repeat"):
        low, _ = block.yaml_arg_range()
        return [64] + [1] * max(low - 1, 0)
    low, _ = block.yaml_arg_range()
    return [1] * low
