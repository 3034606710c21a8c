"""The model as a graph for drawing: nodes, edges, labels and a layered layout. No Qt.

Edges come from ``from``: each reference of row ``i`` (the implicit ``-1`` included) is an edge
from the row it points at to input port ``k`` of row ``i``. The layout puts the backbone in the
left column and the head in the right one, rows in YAML order from top to bottom, and moves a
row that does not read its predecessor into a side lane, so skip connections stay readable.
It is linear in the number of rows (NodeGraphQt's own auto layout is exponential).

Positions a user moves are kept in a sidecar ``MODEL.layout.json``, never in the YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.model.renumber import INPUT, target

NODE_WIDTH = 230.0
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


def collapse(rows: list, head_start: int, positions: dict, collapsed: set) -> tuple:
    """Fold the ``collapsed`` sections ("backbone", "head") of a layout into one summary box each.

    A folded section keeps showing the rows that matter outside it: those a row of another section
    reads (a backbone's P3, P4 and P5) and those nothing reads (a head's outputs), stacked under
    its box; the rest are hidden. Returns (positions, hidden row indices, ``{section: Box}``)."""
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
            out[i] = (x, y + level * ROW_HEIGHT)
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
    if layer is not None:
        shape = format_shape(layer.out_shape)
        info = f"{shape}   {layer.params:,} p" if shape else f"{layer.params:,} params"
    else:
        info = "measuring…" if pending else f"from {row.from_}"
    return title, args_text, info


# --------------------------------------------------------------------------- sidecar


def sidecar_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + ".layout.json")


def load_positions(model_path: str | Path, rows: list) -> dict:
    """Saved positions ``{index: (x, y)}`` that still match their row's module; {} if none."""
    path = sidecar_path(model_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for key, entry in (data.get("nodes") or {}).items():
        try:
            i = int(key)
            x, y = float(entry["pos"][0]), float(entry["pos"][1])
        except (ValueError, KeyError, TypeError, IndexError):
            continue
        if 0 <= i < len(rows) and entry.get("module") == rows[i].module:
            out[i] = (x, y)
    return out


def save_positions(model_path: str | Path, rows: list, positions: dict) -> Path:
    """Write the sidecar atomically; positions of all rows, keyed by index, with the module as a check."""
    path = sidecar_path(model_path)
    data = {"version": 1, "nodes": {str(i): {"module": rows[i].module, "pos": [round(x, 1), round(y, 1)]}
                                    for i, (x, y) in sorted(positions.items()) if i < len(rows)}}
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
