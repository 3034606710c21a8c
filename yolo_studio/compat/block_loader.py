"""Importing block files: ``yolo_studio_blocks.<file>``, as checkpoints pickle their classes.

A modules folder is a namespace of block files: ``attention.py`` imports as
``yolo_studio_blocks.attention`` (a checkpoint trained with it unpickles again once the folder is
registered), always as *this* folder's file even when another folder has one of the same name,
and with the relative imports of the fork it was copied from read as they resolved there.

This file imports nothing from YOLO Studio: it is shipped next to ``ultralytics_hook.py`` in a
training bundle.
"""

from __future__ import annotations

import importlib.machinery  # here, not inside the finder: on a fresh interpreter that has not loaded
import importlib.util  # them, importing them in find_spec went through the finder itself (RecursionError)
import sys
import threading
from pathlib import Path

if __package__:
    from . import block_layouts, fork_tasks, heads
    from .model_dict import tasks_module
else:  # shipped as plain files next to a bundle's train.py
    import block_layouts
    import fork_tasks
    import heads
    from model_dict import tasks_module

LOCK = threading.RLock()  # model builds and block imports change process-wide state: one at a time
PACKAGE = "yolo_studio_blocks"  # block files import as yolo_studio_blocks.<file>: checkpoints pickle that name


def register_block_folder(folder) -> None:
    """Make ``yolo_studio_blocks.<file>`` importable from ``folder`` (a namespace of block files)."""
    with LOCK:
        _register(folder)


def _register(folder) -> None:
    import importlib
    import sys
    import types
    from pathlib import Path

    folder = str(Path(folder).resolve())
    if not any(isinstance(f, type) and f.__name__ == "_BlockFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, _BlockFinder)
    package = sys.modules.get(PACKAGE)
    if package is None:
        package = types.ModuleType(PACKAGE, "Custom blocks registered by YOLO Studio.")
        package.__path__ = []
        sys.modules[PACKAGE] = package
    heads.register_restore(package)  # adapted heads in checkpoints unpickle through it
    if folder in package.__path__:
        package.__path__.remove(folder)
    package.__path__.insert(0, folder)  # the folder being loaded wins over others with the same file names
    importlib.invalidate_caches()


def blocks_of(module) -> dict:
    """``{name: (class, declared layout or None)}`` for the torch.nn.Module classes a block module defines.

    Every class is listed, helpers included: a helper is only ever built when a YAML row names it.
    A class named like a module Ultralytics' ``parse_model`` resolves itself (a local ``Conv`` helper
    copied with a paper's block) is left out: as in the repository, whose patched ``tasks.py``
    imported only its blocks, a YAML ``Conv`` row stays Ultralytics' ``Conv``.
    """
    import torch.nn as nn

    builtins = vars(tasks_module())
    return {name: (obj, block_layouts.declared_layout(obj)) for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__
            and not name.startswith("_") and not isinstance(builtins.get(name), type)}


def load_block_folder(folder) -> dict:
    """Import every ``*.py`` of ``folder`` (not ``_*``, not a fork's ``tasks.py``) and return all their
    blocks, those a fork's ``tasks.py`` names ruled by it (``fork_tasks``)."""
    from pathlib import Path

    register_block_folder(folder)
    found = {}
    for path in sorted(Path(folder).glob("*.py")):
        if not path.name.startswith("_") and not fork_tasks.is_tasks_file(path):
            found.update(blocks_of(import_block_file(path)))
    return fork_tasks.apply(folder, found)[0]


def import_block_file(path):
    """Import ``path`` as ``yolo_studio_blocks.<stem>``: this file, even if another folder's file of
    the same name was imported before."""
    import importlib
    import sys
    from pathlib import Path

    path = Path(path).resolve()
    with LOCK:  # the inspection worker and the Train tab's preflight may load blocks at once
        register_block_folder(path.parent)
        # a file of this folder, or a sibling it imports, cached from another folder of the same names
        for cached_name, cached in list(sys.modules.items()):
            stem = cached_name[len(PACKAGE) + 1:]
            if not cached_name.startswith(PACKAGE + ".") or not (path.parent / f"{stem}.py").is_file():
                continue
            if Path(getattr(cached, "__file__", "") or "").resolve().parent != path.parent:
                del sys.modules[cached_name]
        return importlib.import_module(f"{PACKAGE}.{path.stem}")


def absolute_imports(tree, folder):
    """Rewrite a pasted file's relative imports as they resolved in its repository.

    Blocks are written inside a fork of Ultralytics (``ultralytics/nn/modules/block.py``,
    ``ultralytics/nn/extra_modules/attention.py``), so ``from .conv import Conv`` and
    ``from ..modules.conv import Conv`` name Ultralytics' modules: they are read as if the file sat in
    ``ultralytics/nn/modules/``. A ``from .name import ...`` whose ``name.py`` is in the same modules
    folder stays a sibling block file.
    """
    import ast

    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        first = (node.module or "").split(".")[0]
        if node.level == 1 and first and (folder / f"{first}.py").exists():
            node.module = f"{PACKAGE}.{node.module}"
        else:
            base = ["ultralytics", "nn", "modules"][: max(3 - (node.level - 1), 1)]
            node.module = ".".join(base + ([node.module] if node.module else []))
        node.level = 0
    return tree


class _BlockFinder:
    """Finds ``yolo_studio_blocks.<file>`` in the registered folders and loads it with ``_BlockLoader``
    (for the studio's imports and for checkpoints unpickled later alike)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE + "."):  # every other import passes straight through
            return None
        package, _, stem = fullname.partition(".")
        if package != PACKAGE or not stem or "." in stem or PACKAGE not in sys.modules:
            return None
        for folder in sys.modules[PACKAGE].__path__:
            file = Path(folder) / f"{stem}.py"
            if file.is_file():
                return importlib.util.spec_from_file_location(fullname, file, loader=_block_loader(fullname, file))
        return None


def _block_loader(fullname, file):
    class _BlockLoader(importlib.machinery.SourceFileLoader):
        """A block file's source with its relative imports made absolute (no bytecode cache)."""

        def get_code(self, name):
            import ast

            source = self.get_data(self.path).decode("utf-8")
            tree = absolute_imports(ast.parse(source, self.path), Path(self.path).parent)
            return compile(tree, self.path, "exec", dont_inherit=True)

    return _BlockLoader(fullname, str(file))
