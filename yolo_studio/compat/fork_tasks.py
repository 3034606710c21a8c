"""A fork's own ``tasks.py`` in a block folder: its ``parse_model`` settles what its blocks' code cannot.

A few repositories call a block differently from what its signature suggests (an argument dropped, an
extra argument width-scaled, a branch that runs two rules). When the user copies the fork's
``ultralytics/nn/tasks.py``, unchanged, next to the block files, the studio reads its ``parse_model``:
the statements of its layer loop between the line that looks up the module and the line that builds
it (the ``if m in ...: ... elif m is ...:`` chain where forks add their branches) are replayed for each
custom row the file names, with ``m`` the block's class and ``args`` the row's arguments, exactly as
the fork ran them. The file itself is never imported (its imports name the fork's own module paths)
and never edited; only that part of its code runs, and only where the block files run (a trusted
project). Rows of Ultralytics' own modules keep building as the installed Ultralytics builds them.

Names the replayed code reads that neither the block files nor the installed Ultralytics define (the
fork's other blocks, modules the installed version lacks) stand for classes no row is: reported (``apply``'s
notes, which preflight shows), never fatal. 8.0's ``gd``/``gw`` and the ``legacy`` flag of 8.3 are given as
those versions computed them.

This file imports nothing from YOLO Studio: it is shipped next to ``ultralytics_hook.py``.
"""

from __future__ import annotations

import ast
import builtins
import math
from pathlib import Path

# What parse_model has set before its layer loop, for the replayed statements (names as in its source).
PRELUDE = ("nc", "act", "scales", "depth", "width", "max_channels", "kpt_shape", "scale", "reg_max", "end2end",
           "legacy", "gd", "gw")  # gd, gw: depth and width as 8.0's parse_model names them
# Rows after which parse_model's ``legacy`` is False (8.3+: the YOLO11 blocks switch the heads to today's layers).
NOT_LEGACY = ("C3k2", "C2PSA", "C2fPSA", "A2C2f")


def is_tasks_file(path) -> bool:
    """Whether a ``.py`` file of a block folder is a fork's ``tasks.py`` (it defines ``parse_model``)."""
    try:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "def parse_model(" not in source:
        return False
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == "parse_model" for n in tree.body)


def tasks_files(folder) -> list:
    return sorted(p for p in Path(folder).glob("*.py") if not p.name.startswith("_") and is_tasks_file(p))


class ForkTasks:
    """What one fork's ``tasks.py`` does in ``parse_model``'s layer loop, read from its source."""

    def __init__(self, path):
        self.path = Path(path)
        tree = ast.parse(self.path.read_text(encoding="utf-8", errors="replace"), str(self.path))
        self.tuples = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                       for t in node.targets if isinstance(t, ast.Name) and _names_only(node.value, top=True)}
        function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "parse_model")
        loop = next((n for n in ast.walk(function) if isinstance(n, ast.For) and "enumerate" in ast.dump(n.iter)), None)
        if loop is None:
            raise ValueError(f"{self.path.name}: parse_model has no loop over the model's rows")
        # sets parse_model builds before its loop (base_modules, repeat_modules in later 8.3 versions)
        before = function.body[:function.body.index(loop)] if loop in function.body else []
        self.tuples.update({t.id: node.value for node in before if isinstance(node, ast.Assign)
                            for t in node.targets if isinstance(t, ast.Name) and _names_only(node.value, top=True)})
        body = loop.body
        # after the statement that looks the module up (``m = getattr(...)``, ``m = eval(m) if ...``, or an
        # ``if 'nn.' in m: m = ...`` block): replaying it would look up the class it already is
        start = next((k + 1 for k, s in enumerate(body) if _stores(s, "m")), None)
        if start is None:
            raise ValueError(f"{self.path.name}: parse_model's loop never looks its module up (no 'm = ...')")
        stop = next((k for k, s in enumerate(body) if _assigns(s, "m_")), len(body))
        self.step = ast.Module(body=body[start:stop], type_ignores=[])
        self.code = compile(ast.fix_missing_locations(self.step), str(self.path), "exec")
        self.read = {n.id for n in ast.walk(self.step) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        expanded = set()
        while pending := (self.read & set(self.tuples)) - expanded:  # tuples the code reads, and theirs
            for name in pending:
                expanded.add(name)
                self.read |= {n.id for n in ast.walk(self.tuples[name]) if isinstance(n, ast.Name)}
        self.assigned = {n.id for n in ast.walk(self.step) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    def names(self, block: str) -> bool:
        """Whether the replayed code names ``block`` (in a branch's test, a set or a tuple it reads)."""
        return block in self.read

    def unknown(self, blocks: dict) -> list:
        """Names the replayed code reads that nothing defines here (the fork's other blocks, modules the
        installed Ultralytics lacks, a variable of the fork's own parse_model)."""
        from ultralytics.nn import tasks

        known = set(vars(tasks)) | set(blocks) | set(PRELUDE) | set(self.tuples) | self.assigned | set(dir(builtins))
        known |= {"f", "n", "m", "i", "args", "ch", "d", "torch", "nn", "math", "ast", "contextlib", "make_divisible"}
        return sorted(n for n in self.read if n not in known)

    def call(self, cls, row: list, d: dict, ch: list, i: int, blocks: dict) -> tuple:
        """(constructor arguments, repeats) the fork's loop computes for custom row ``i`` (``ch``: the
        output channels of the rows above it, as parse_model keeps them)."""
        import contextlib

        import torch
        import torch.nn as nn
        from ultralytics.nn import tasks

        from_, n, _name, args = row
        namespace = dict(vars(tasks))
        namespace.update({name: entry[0] for name, entry in blocks.items()})
        for name in self.read - set(namespace) - self.assigned - set(dir(builtins)):
            namespace[name] = type(name, (), {})  # the fork's other blocks: classes no row is
        for name, value in self.tuples.items():
            if name not in self.read:
                continue
            namespace[name] = eval(compile(ast.Expression(value), str(self.path), "eval"), namespace)  # noqa: S307
        namespace.update(_prelude(d), torch=torch, nn=nn, math=math, ast=ast, contextlib=contextlib,
                         make_divisible=lambda x, divisor: math.ceil(x / divisor) * divisor,
                         legacy=not any(r[2] in NOT_LEGACY for r in (d["backbone"] + d["head"])[:i]))
        namespace.update(f=from_, n=n, m=cls, i=i, args=list(args), ch=list(ch), d=d, c2=ch[-1] if ch else 3)
        exec(self.code, namespace)  # noqa: S102 - the fork's own rules, in a trusted project only
        return list(namespace["args"]), namespace["n"]


class ForkRule:
    """Stands as a block's declared layout: build it as the fork's ``tasks.py`` does."""

    def __init__(self, tasks: ForkTasks, blocks: dict):
        self.tasks, self.blocks = tasks, blocks

    @property
    def how(self) -> str:
        return f"as the fork's {self.tasks.path.name} builds it"

    def call(self, cls, row, d, ch, i):
        return self.tasks.call(cls, row, d, ch, i, self.blocks)


def apply(folder, blocks: dict) -> tuple:
    """``(blocks, notes)``: the blocks a fork's ``tasks.py`` in ``folder`` names get its rule as their
    declared layout; the notes say which file rules which blocks and what it names that nothing defines."""
    notes = []
    for path in tasks_files(folder):
        try:
            tasks = ForkTasks(path)
        except (SyntaxError, ValueError, StopIteration) as exc:
            notes.append(f"{path.name}: not read as a fork's tasks.py: {exc}; its blocks build as their code says")
            continue
        rule = ForkRule(tasks, blocks)
        ruled = sorted(name for name in blocks if tasks.names(name))
        for name in ruled:
            blocks[name] = (blocks[name][0], rule)
        notes.append(f"{path.name}: the fork's parse_model builds {', '.join(ruled) or 'none of these blocks'}")
        missing = tasks.unknown(blocks)
        if missing:
            shown = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
            notes.append(f"{path.name} names what neither the block files nor the installed Ultralytics define: "
                         f"{shown} (rows naming them cannot build)")
    return blocks, notes


def _prelude(d: dict) -> dict:
    scales = d.get("scales")
    scale = d.get("scale") or (next(iter(scales)) if isinstance(scales, dict) and scales else None)
    depth, width, max_channels = d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")
    if isinstance(scales, dict) and scale in scales:
        depth, width, max_channels = scales[scale][:3]
    return {"nc": d.get("nc"), "act": d.get("activation"), "scales": scales, "depth": depth, "width": width,
            "max_channels": max_channels, "kpt_shape": d.get("kpt_shape"), "scale": scale,
            "reg_max": d.get("reg_max", 16), "end2end": d.get("end2end"), "gd": depth, "gw": width}


def _names_only(value, top: bool = False) -> bool:
    """A tuple, list or set of names (``(Detect, Segment)``, ``frozenset({...})``), possibly added up."""
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("frozenset", "set", "tuple") and value.args:
        return _names_only(value.args[0])
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _names_only(value.left) and _names_only(value.right)
    if isinstance(value, ast.Name):
        return not top  # a part of a sum (``(A, B) + DETECT_CLASS``), not an alias on its own
    return isinstance(value, (ast.Tuple, ast.List, ast.Set)) and all(
        isinstance(e, (ast.Name, ast.Attribute)) for e in value.elts)


def _assigns(statement, name: str) -> bool:
    return isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                     for t in statement.targets)


def _stores(statement, name: str) -> bool:
    """Whether a statement (or one inside it) assigns ``name``."""
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(statement))
