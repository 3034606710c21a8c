"""Two model architectures compared row by row, matched by structure, not by index.

Inserting one block at layer 10 shifts every later index by one; a comparison by index would call
every later row changed, and Ultralytics' transfer by state-dict key loses their weights the same
way. Here rows are matched as a diff matches lines: the longest common sequence of rows with the
same module, repeats and arguments; inside a replaced stretch, rows with the same module are paired
(their arguments or repeats changed); rows removed on one side and added identically on the other
are a move. A matched row whose inputs are not the matched rows of its inputs is "rewired".

Rows are ``[from, repeats, module, args]`` lists (``ModelDocument.to_dict()`` or a checkpoint's
stored YAML). No torch, no Qt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from yolo_studio.core.model.renumber import INPUT, target

SAME, CHANGED, ADDED, REMOVED, MOVED = "same", "changed", "added", "removed", "moved"


@dataclass(frozen=True)
class RowMatch:
    a: int | None  # row index in A (None: added in B)
    b: int | None  # row index in B (None: removed from A)
    kind: str  # same | changed | added | removed | moved
    fields: tuple = ()  # what differs between a matched pair: "module", "repeats", "args", "from"


@dataclass
class ArchDiff:
    matches: list = field(default_factory=list)  # RowMatch, in B's order, then removed rows in A's

    def mapping(self) -> dict:
        """A row -> B row, for every row of A that has a counterpart in B."""
        return {m.a: m.b for m in self.matches if m.a is not None and m.b is not None}

    def counts(self) -> dict:
        out = {kind: 0 for kind in (SAME, CHANGED, ADDED, REMOVED, MOVED)}
        for m in self.matches:
            out[m.kind] += 1
        out["rewired"] = sum(1 for m in self.matches if "from" in m.fields)
        return out

    def unchanged(self) -> bool:
        return all(m.kind == SAME and not m.fields for m in self.matches)

    def to_dict(self) -> dict:
        return {"counts": self.counts(),
                "rows": [{"a": m.a, "b": m.b, "kind": m.kind, "fields": list(m.fields)} for m in self.matches]}


def rows_of(model: dict) -> list:
    """A model dict's rows, backbone then head."""
    return [list(r) for r in (model.get("backbone") or []) + (model.get("head") or [])]


def _signature(row) -> str:
    return json.dumps([row[2], row[1], row[3]], sort_keys=True, default=str)


def _sources(i: int, row) -> list:
    refs = row[0] if isinstance(row[0], list) else [row[0]]
    return [target(i, r) for r in refs]


def diff_rows(rows_a: list, rows_b: list) -> ArchDiff:
    """Match the rows of A to those of B; see the module doc."""
    sig_a, sig_b = [_signature(r) for r in rows_a], [_signature(r) for r in rows_b]
    pairs: dict = {}  # b -> a
    for op, a1, a2, b1, b2 in SequenceMatcher(None, sig_a, sig_b, autojunk=False).get_opcodes():
        if op == "equal":
            pairs.update({b1 + k: a1 + k for k in range(a2 - a1)})
        elif op == "replace":  # pair rows of the same module, in order (an LCS on module names)
            inner = SequenceMatcher(None, [rows_a[i][2] for i in range(a1, a2)],
                                    [rows_b[j][2] for j in range(b1, b2)], autojunk=False)
            for block in inner.get_matching_blocks():
                pairs.update({b1 + block.b + k: a1 + block.a + k for k in range(block.size)})
    matched_a = set(pairs.values())
    removed = [i for i in range(len(rows_a)) if i not in matched_a]
    added = [j for j in range(len(rows_b)) if j not in pairs]
    moved = {}
    for j in added:  # the same row removed elsewhere: a move
        twin = next((i for i in removed if sig_a[i] == sig_b[j] and i not in moved.values()), None)
        if twin is not None:
            moved[j] = twin
    pairs.update(moved)
    b_of = {a: b for b, a in pairs.items()}

    diff = ArchDiff()
    for j, row in enumerate(rows_b):
        i = pairs.get(j)
        if i is None:
            diff.matches.append(RowMatch(None, j, ADDED))
            continue
        old = rows_a[i]
        fields = [name for name, k in (("module", 2), ("repeats", 1), ("args", 3)) if old[k] != row[k]]
        if _rewired(_sources(i, old), _sources(j, row), b_of, pairs):
            fields.append("from")
        kind = MOVED if j in moved else (CHANGED if any(f != "from" for f in fields) else SAME)
        diff.matches.append(RowMatch(i, j, kind, tuple(fields)))
    diff.matches += [RowMatch(i, None, REMOVED) for i in range(len(rows_a)) if i not in b_of]
    return diff


def _rewired(sources_a: list, sources_b: list, b_of: dict, a_of: dict) -> bool:
    """Whether a matched row reads other layers: an input that was replaced (its A row removed, its B
    row added) is not a rewiring, an input that now comes from another matched layer is."""
    if len(sources_a) != len(sources_b):
        return True
    for sa, sb in zip(sources_a, sources_b):
        if sa in (None, INPUT) or sb in (None, INPUT):
            if sa != sb:
                return True
        elif sa in b_of or sb in a_of:
            if b_of.get(sa) != sb:
                return True
    return False


def diff_models(a: dict, b: dict) -> ArchDiff:
    return diff_rows(rows_of(a), rows_of(b))


def describe_match(m: RowMatch, rows_a: list, rows_b: list) -> str:
    """One line for a difference: ``+ 10 CBAM [7]``, ``- 3 Conv [...]``, ``~ 5 -> 6 Conv (rewired: ...)``."""
    if m.kind == ADDED:
        return f"+ {m.b:>3} {rows_b[m.b][2]} {rows_b[m.b][3]}"
    if m.kind == REMOVED:
        return f"- {m.a:>3} {rows_a[m.a][2]} {rows_a[m.a][3]}"
    what = ", ".join(f"{f}: {_field(rows_a[m.a], f, m.a)} -> {_field(rows_b[m.b], f, m.b)}" for f in m.fields)
    kind = "rewired" if m.kind == SAME else m.kind
    return f"~ {m.a:>3} -> {m.b:<3} {rows_b[m.b][2]} ({kind}{': ' + what if what else ''})"


def _field(row, name, index):
    if name == "from":  # the layers it reads, not the relative spelling (-1 reads another layer after an insert)
        refs = row[0] if isinstance(row[0], list) else [row[0]]
        return "reads " + ", ".join(str(target(index, r)) for r in refs)
    return row[{"repeats": 1, "module": 2, "args": 3}[name]]


@dataclass(frozen=True)
class ModelSize:
    """Parameters and GFLOPs (at ``imgsz``) of one side of a comparison; None where it could not be built here."""

    params: int | None = None
    gflops: float | None = None
    reason: str = ""  # why not, when None


def measure_model(model: dict, label: str, blocks: dict | None = None, imgsz: int = 640) -> ModelSize:
    """Build ``model`` as Ultralytics would (at the scale its label names, with custom ``blocks``) and
    count its parameters and GFLOPs. Never raises: a model that cannot be built here (custom blocks
    not given, a build error) gives ``ModelSize(reason=...)``. Needs torch. To measure with a modules
    folder's blocks, ``core.blocks.block_check.measure_with_blocks``."""
    from yolo_studio.compat.model_dict import scale_for_file
    from yolo_studio.core.model.inspection import inspect_dict

    try:
        report = inspect_dict(model, scale=scale_for_file(Path(label), model), imgsz=imgsz, blocks=blocks or {})
    except Exception as exc:  # noqa: BLE001 - a size is extra information, never a reason to fail a diff
        return ModelSize(reason=str(exc).splitlines()[0])
    if report.error is not None:
        return ModelSize(report.params, None, str(report.error).splitlines()[0])
    return ModelSize(report.params, report.gflops)


def size_line(a: ModelSize, b: ModelSize, names=("A", "B")) -> str:
    """'params 2,624,080 -> 2,700,112 (+76,032); GFLOPs 6.6 -> 6.9 (+0.3)'; a side not measured says why,
    after its name."""
    parts = []
    if a.params is not None and b.params is not None:
        parts.append(f"params {a.params:,} -> {b.params:,} ({b.params - a.params:+,})")
    if a.gflops is not None and b.gflops is not None:
        change = round(round(b.gflops, 1) - round(a.gflops, 1), 1) + 0.0  # the shown figures' difference; no -0.0
        parts.append(f"GFLOPs {a.gflops:.1f} -> {b.gflops:.1f} ({change:+.1f})")
    missing = [f"{name}: {size.reason}" for name, size in zip(names, (a, b))
               if (size.params is None or size.gflops is None) and size.reason]
    return "; ".join(parts + missing)


def summary_lines(diff: ArchDiff, model_a: dict, model_b: dict, title: str) -> list:
    """What a comparison says in text (``yolo-studio diff``, the Runs tab): the counts after ``title``,
    then one line per row that differs."""
    counts = ", ".join(f"{n} {kind}" for kind, n in diff.counts().items() if n)
    lines = [f"{title}: {counts}" + (" (the same architecture)" if diff.unchanged() else "")]
    rows_a, rows_b = rows_of(model_a), rows_of(model_b)
    return lines + [describe_match(m, rows_a, rows_b) for m in diff.matches if m.kind != SAME or m.fields]


def source_label(path: str | Path) -> str:
    """How a model file is named to a user: a run's checkpoint with its run (``cbam/best.pt``)."""
    path = Path(path)
    return f"{path.parent.parent.name}/{path.name}" if path.parent.name == "weights" else path.name


def run_folder_of(path: str | Path) -> Path | None:
    """The run folder a file belongs to (``runs/r/args.yaml``, ``runs/r/weights/best.pt``), or None."""
    for folder in Path(path).parents[:3]:
        if (folder / "artifacts").is_dir() and (folder / "events.jsonl").is_file():
            return folder
    return None


def load_architecture(source: str | Path) -> tuple:
    """(model dict, label) from a YAML, a checkpoint or a run folder. A run's own files that are not its
    model (``args.yaml``, ``results.csv``) stand for the run."""
    from yolo_studio.core.model.checkpoints import CheckpointError, read_checkpoint
    from yolo_studio.core.model.document import ModelDocument

    path = Path(source)
    if path.is_file() and path.suffix != ".pt" and path.parent.name != "artifacts" and run_folder_of(path):
        path = run_folder_of(path)
    run = None
    if path.is_dir():
        found = sorted((path / "artifacts").glob("*.yaml")) if (path / "artifacts").is_dir() else []
        found = [p for p in found if p.name not in ("run.yaml", "resolved.yaml")]
        if not found:
            raise CheckpointError(f"{path}: not a run folder of the studio (no model YAML in artifacts/)",
                                  "Give a model YAML, a .pt, or a run folder (runs/NAME).")
        run, path = path.name, found[0]
    if path.suffix == ".pt":
        info = read_checkpoint(path)
        if not info.model_yaml:
            raise CheckpointError(f"{path.name}: the checkpoint stores no model YAML to compare",
                                  "Compare the YAML it was trained from instead.")
        return info.model_yaml, source_label(path)
    return ModelDocument.load(path).to_dict(), f"{run}/{path.name}" if run else path.name
