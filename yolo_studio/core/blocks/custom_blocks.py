"""Custom blocks: every ``torch.nn.Module`` subclass in the Python files of a modules directory.

Two views of the same files:

- ``scan_blocks`` reads them with ``ast`` (no import, no torch) so validation and the palette
  know each block's name, signature and channel rule instantly;
- ``load_blocks`` imports them under the stable package name ``yolo_studio_blocks`` so the
  classes pickle into checkpoints by a name a fresh process can import again
  (after ``register_modules_dir`` with the same folder).

How a row's YAML arguments become the constructor's (the argument layout, see
docs/CUSTOM_BLOCKS.md) is declared with ``channel_rule = "..."`` or a ``yaml_args`` classmethod,
or else read from the signature's parameter names and confirmed when the block is built on its
real inputs (``ultralytics_hook``). A class is a block when it derives from ``nn.Module``, from
another block of the file, or from a class it imports from Ultralytics or torch (``C2f``, ``Conv``).
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, replace
from pathlib import Path

from yolo_studio.compat import block_layouts, fork_tasks, heads
from yolo_studio.core.model.catalog import CUSTOM_RULES, BlockInfo, block_with_rule, init_parameters
from yolo_studio.core.errors import StudioError
from yolo_studio.compat.block_loader import LOCK, PACKAGE, blocks_of, import_block_file, register_block_folder

YAML_ARGS = "yaml_args"  # the classmethod a block may define to write its own constructor call
_BLOCK_SOURCES = ("ultralytics", "torch", "timm")  # imported classes a block may derive from


class BlockFileError(StudioError):
    """A block file that cannot be read or imported; ``line`` points at the cause."""

    def __init__(self, message: str, file: str, line: int | None = None):
        self.message, self.file, self.line = message, file, line
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass(frozen=True)
class ScannedBlock:
    info: BlockInfo
    file: str
    line: int
    declared_rule: str | None
    task: str | None = None  # the task of a class written as a head (``compat.heads``), else None


def _base_name(base: ast.expr) -> str:
    return base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")


def _imported_classes(tree: ast.Module) -> set:
    """Names the file imports from Ultralytics, torch or timm, or relatively (a fork's own modules)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in _BLOCK_SOURCES):
            names.update(a.asname or a.name for a in node.names)
    return names


def _parent_params(name: str) -> tuple | None:
    """(params, varargs) of an imported Ultralytics class, from the built-in catalog."""
    from yolo_studio.core.model.catalog import builtin_catalog

    block = builtin_catalog().get(name)
    return (block.params, block.varargs) if block is not None else None


def scan_file(path: Path) -> list:
    """The blocks a file defines, read without running it. Raises ``BlockFileError`` on a syntax error."""
    from yolo_studio.core.text_files import UnreadableText, read_text

    try:
        source = read_text(path)
        if "\0" in source:  # Python refuses it without saying where
            raise BlockFileError("the file holds a NUL character: is it a binary file?", str(path),
                                 source.count("\n", 0, source.index("\0")) + 1)
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        raise BlockFileError(f"syntax error: {exc.msg}", str(path), exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; nesting the parser cannot hold
        line = exc.line if isinstance(exc, UnreadableText) else None
        reason = exc.reason if isinstance(exc, UnreadableText) else f"the parser cannot read it ({exc})"
        raise BlockFileError(f"the file {reason}" if isinstance(exc, UnreadableText) else reason, str(path),
                             line) from None
    imported = _imported_classes(tree)
    modules: dict = {}
    parents: dict = {}  # class -> the names of its parents, the file's own classes followed up
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [_base_name(b) for b in node.bases]
        if not any(b == "Module" or b in modules or b in imported for b in bases):
            continue
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        parent = next((b for b in bases if b in modules or b in imported), None)
        if init is not None:
            params, varargs = init_parameters(init.args)
        elif parent in modules:
            params, varargs = modules[parent]
        elif parent is not None:
            params, varargs = _parent_params(parent) or ((), True)
        else:
            params, varargs = (), False
        modules[node.name] = (params, varargs)
        parents[node.name] = [n for b in bases for n in [b, *parents.get(b, [])]]
        names = [p.name for p in params]
        task = heads.task_from(parents[node.name], names) if heads.looks_like_head(parents[node.name], names) else None
        if node.name.startswith("_"):
            continue  # a private base: its subclasses are blocks, it is not
        declared = _declared_rule(node)
        known = block_layouts.is_layout(declared)
        rule = declared if known else block_layouts.infer_layout([p.name for p in params])
        doc = (ast.get_docstring(node) or "").strip().splitlines()
        info = BlockInfo(node.name, "custom", rule, params, varargs, doc[0] if doc else "", path.name)
        if task is not None and not known:
            info = replace(info, rule="head", injected=1)  # the inputs' channels are appended (``ch``)
        found.append(ScannedBlock(block_with_rule(info, info.rule, certain=known),
                                  str(path), node.lineno, declared, task))
    return found


def _declared_rule(node: ast.ClassDef) -> str | None:
    """``channel_rule``'s value, ``"yaml_args"`` for a class that writes its own call, else None."""
    for stmt in node.body:
        if (isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "channel_rule" for t in stmt.targets)
                and isinstance(stmt.value, ast.Constant)):
            return stmt.value.value
        if isinstance(stmt, ast.FunctionDef) and stmt.name == YAML_ARGS:
            return YAML_ARGS
    return None


def block_files(modules_dir: str | Path) -> list:
    """The block files of a modules folder: its ``*.py`` but ``_*`` and a fork's ``tasks.py`` (read, never
    imported: ``compat.fork_tasks``)."""
    folder = Path(modules_dir)
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_") and not fork_tasks.is_tasks_file(p)) \
        if folder.is_dir() else []


def code_files(modules_dir: str | Path) -> list:
    """Every file of a modules folder whose code runs: the block files and a fork's ``tasks.py`` (what a run
    folder and a bundle copy, and what the trust question names)."""
    return sorted(block_files(modules_dir) + fork_tasks.tasks_files(modules_dir)) if Path(modules_dir).is_dir() else []


def scan_blocks(modules_dir: str | Path | None) -> tuple:
    """(blocks, errors) for a modules directory; a broken file does not hide the others."""
    blocks, errors = [], []
    if modules_dir is None:
        return blocks, errors
    for path in block_files(modules_dir):
        try:
            blocks.extend(scan_file(path))
        except BlockFileError as exc:
            errors.append(exc)
    for b in blocks:
        if b.declared_rule not in (None, YAML_ARGS) and not block_layouts.is_layout(b.declared_rule):
            errors.append(BlockFileError(f"{b.info.name}: unknown channel_rule '{b.declared_rule}'; use one of "
                                         f"{', '.join(CUSTOM_RULES)}", b.file, b.line))
    return blocks, errors


# --------------------------------------------------------------------------- importing


def register_modules_dir(modules_dir: str | Path) -> None:
    """Make ``yolo_studio_blocks.<file>`` importable from ``modules_dir`` (checkpoints need this)."""
    register_block_folder(modules_dir)


def load_block_file(path: str | Path) -> dict:
    """Import one block file; return ``{name: (class, rule)}``. Errors name the file and line."""
    path = Path(path)
    try:
        module = import_block_file(path)
    except SyntaxError as exc:
        raise BlockFileError(f"syntax error: {exc.msg}", str(path), exc.lineno) from None
    except Exception as exc:
        raise BlockFileError(f"importing failed: {type(exc).__name__}: {exc}", str(path),
                             _line_in(exc, path)) from None
    found = blocks_of(module)
    for name, (_cls, rule) in found.items():
        if rule is not None and not block_layouts.is_layout(rule):
            raise BlockFileError(f"{name}: unknown channel_rule '{rule}'; use one of {', '.join(CUSTOM_RULES)}",
                                 str(path))
    return found


def forget_loaded_blocks() -> None:
    """Drop imported block modules so the next load reads the files again (hot reload)."""
    import sys

    with LOCK:
        for name in [n for n in sys.modules if n.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def load_blocks(modules_dir: str | Path) -> dict:
    """Import every block file of a folder; return ``{name: (class, rule)}``."""
    found = {}
    for path in block_files(modules_dir):
        found.update(load_block_file(path))
    found = fork_tasks.apply(modules_dir, found)[0]
    return found


def _line_in(exc: BaseException, path: Path) -> int | None:
    tb, line = exc.__traceback__, None
    target = str(path.resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def custom_infos(scanned: list) -> list:
    """Catalog entries for scanned blocks."""
    return [replace(b.info, extra={"file": b.file, "line": b.line, **({"task": b.task} if b.task else {})})
            for b in scanned]


def catalog_with_blocks(modules_dir: str | Path | None):
    """(catalog, block file errors): the built-in catalog plus the blocks of ``modules_dir``."""
    from yolo_studio.core.model.catalog import builtin_catalog

    scanned, errors = scan_blocks(modules_dir)
    return builtin_catalog().with_blocks(custom_infos(scanned)), errors
