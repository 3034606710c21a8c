"""Reference builds for the community corpus: Ultralytics patched the way each repository patched it.

Each case folder of ``tests/data/community`` holds ``blocks.py``, ``model.yaml`` and ``case.yaml``,
whose ``patch`` says what the followed repository changed in ``parse_model``: names added to
``base_modules`` and ``repeat_modules``, and ``elif`` branches inserted before its final
``else``. This module applies exactly that to the source of the installed ``parse_model`` (a
copy, executed in a copy of ``ultralytics.nn.tasks``' namespace with the block classes added, as
a patched ``tasks.py`` that imports them would have) and builds the model with it. The studio
is not involved: this is what a user of that repository gets.

``tests/data/community_heads`` holds custom heads written for Ultralytics 8.0-8.3: their patch may also list
the module-level tuples its branch reads (``tuples``), and ``build_head_reference`` builds them with the
repository's ``parse_model`` on 8.0-8.3's head constructors. ``fork_tasks_source`` writes a case's patch as the
fork's ``tasks.py`` (for the studio's reading of such files).

    python tests/community_reference.py CASE_ID [--scale s]   # per-layer table, or the error
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import importlib.util
import inspect
import sys
import textwrap
from pathlib import Path

import yaml

CORPUS = Path(__file__).parent / "data" / "community"
# Written after the studio's layouts, by someone who had not read them; checked the same way.
HOLDOUT = Path(__file__).parent / "data" / "community_holdout"
# Custom heads from papers' repositories, written for Ultralytics 8.0-8.3 (``build_head_reference``).
HEADS = Path(__file__).parent / "data" / "community_heads"
PROBE = 256  # output shapes are compared on this image size
_FINAL_ELSE = "        else:\n            c2 = ch[f]\n"


def cases(corpus: Path | None = None) -> list:
    corpus = corpus or CORPUS
    return sorted(p.name for p in corpus.iterdir() if (p / "case.yaml").is_file()) if corpus.is_dir() else []


def load_case(case_id: str) -> dict:
    folder = next((c / case_id for c in (CORPUS, HOLDOUT, HEADS) if (c / case_id / "case.yaml").is_file()),
                  CORPUS / case_id)
    case = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    case["folder"] = folder
    case["model"] = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    return case


def scales_of(model: dict) -> list:
    return list(model.get("scales") or {}) or [None]


def _block_module(folder: Path, case_id: str):
    spec = importlib.util.spec_from_file_location(f"community_reference_{case_id}", folder / "blocks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _patched_tree(patch: dict):
    """The installed ``parse_model``'s syntax tree with the repository's patch applied."""
    from ultralytics.nn import tasks

    original = getattr(tasks.parse_model, "__wrapped__", tasks.parse_model)
    source = textwrap.dedent(inspect.getsource(original))
    branches = (patch or {}).get("branches") or ""
    if branches.strip():
        if _FINAL_ELSE not in source:
            raise RuntimeError("the installed parse_model has no final 'else: c2 = ch[f]' to patch before")
        source = source.replace(_FINAL_ELSE, textwrap.indent(textwrap.dedent(branches).strip("\n") + "\n", " " * 8)
                                + _FINAL_ELSE)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("base_modules", "repeat_modules"):
            added = (patch or {}).get(node.targets[0].id) or []
            literal = node.value.args[0]  # frozenset({...})
            literal.elts.extend(ast.Name(id=name, ctx=ast.Load()) for name in added)
    return tree


def fork_tasks_source(patch: dict) -> str:
    """A ``tasks.py`` as the repository's fork has it, for the parts the studio reads: imports of the fork's
    own module paths (which the installed Ultralytics does not have), its module-level tuples and its
    patched ``parse_model``. Generated from the case's patch, never copied from the repository."""
    tuples = "".join(f"{name} = ({', '.join(members)},)\n" for name, members in ((patch or {}).get("tuples") or {}).items())
    return ("# tasks.py of the fork, as far as parse_model goes (generated for the test from case.yaml's patch)\n"
            "import ast\nimport contextlib\n\nimport torch\nimport torch.nn as nn\n\n"
            "from ultralytics.nn.modules import *  # noqa: F403\n"
            "from ultralytics.nn.extra_modules import *  # noqa: F403  (the fork's blocks)\n"
            "from ultralytics.utils.ops import make_divisible\n\n"
            f"{tuples}\n\n{ast.unparse(_patched_tree(patch))}\n")


def patched_parse_model(patch: dict, blocks):
    """A copy of the installed ``parse_model`` with the repository's patch applied."""
    from ultralytics.nn import tasks

    tree = _patched_tree(patch)
    branches = (patch or {}).get("branches") or ""
    namespace = dict(vars(tasks))
    # what the repository's tasks.py imported: its blocks, never a helper that shadows an Ultralytics name
    namespace.update({k: v for k, v in vars(blocks).items() if not k.startswith("__") and k not in namespace})
    # a branch may list the fork's other heads and blocks (``m in (Detect_DyHead, Detect_LSCD, ...)``): the
    # ones this case does not define stand for classes no row builds
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    assigned |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
    for name, members in ((patch or {}).get("tuples") or {}).items():  # module-level tuples of the fork's tasks.py
        namespace[name] = tuple(namespace.get(m) or type(m, (), {}) for m in members)
    scanned = textwrap.dedent(branches).replace("elif ", "if ", 1)
    for node in ast.walk(ast.parse(scanned)) if branches.strip() else ():
        if isinstance(node, ast.Name) and node.id not in namespace and node.id not in assigned \
                and not hasattr(builtins, node.id):
            namespace[node.id] = type(node.id, (), {})
    exec(compile(ast.fix_missing_locations(tree), f"<parse_model patched like {patch}>", "exec"), namespace)
    return namespace["parse_model"]


@contextlib.contextmanager
def patched(case: dict):
    from ultralytics.nn import tasks

    blocks = _block_module(case["folder"], case["folder"].name)
    previous = tasks.parse_model
    tasks.parse_model = patched_parse_model(case.get("patch"), blocks)
    try:
        yield
    finally:
        tasks.parse_model = previous


def model_class(model: dict):
    from ultralytics.nn import tasks

    task = tasks.guess_model_task(model)
    name = {"segment": "SegmentationModel", "pose": "PoseModel", "obb": "OBBModel",
            "classify": "ClassificationModel"}.get(task, "DetectionModel")
    return getattr(tasks, name)


def layer_table(model) -> list:
    """``[(index, params, output shape)]`` of a built model, shapes from one forward pass."""
    import torch

    shapes = {}

    def shape(out):
        if hasattr(out, "shape"):
            return list(out.shape[1:])
        if isinstance(out, (list, tuple)):
            return [shape(o) for o in out]
        return {k: shape(v) for k, v in out.items()} if isinstance(out, dict) else None

    def record(module, _inputs, out):
        shapes[module.i] = shape(out)

    handles = [m.register_forward_hook(record) for m in model.model]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, model.yaml.get("channels", 3), PROBE, PROBE))
    finally:
        for h in handles:
            h.remove()
    return [(m.i, sum(p.numel() for p in m.parameters()), shapes.get(m.i)) for m in model.model]


def build_reference(case_id: str, scale: str | None) -> list:
    """The per-layer table of the case built by Ultralytics patched like its repository."""
    case, model = _case_at(case_id, scale)
    with _quiet(), patched(case):
        built = model_class(model)(model, ch=model.get("channels", 3), verbose=False)
    return layer_table(built)


def _case_at(case_id: str, scale: str | None) -> tuple:
    """(case, a copy of its model dict at ``scale``)."""
    case = load_case(case_id)
    model = copy.deepcopy(case["model"])
    if scale is not None:
        model["scale"] = scale
    return case, model


@contextlib.contextmanager
def _quiet():
    """Ultralytics' log at errors only, for the duration."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(40)
    try:
        yield
    finally:
        LOGGER.setLevel(level)


@contextlib.contextmanager
def fork_head_parents():
    """Ultralytics' Detect/Segment/Pose/OBB constructors as 8.0-8.3 had them, for the heads that
    subclass them: ``(nc, ch)``, ``(nc, nm, npr, ch)``, ``(nc, kpt_shape, ch)``, ``(nc, ne, ch)``.
    Today's insert ``reg_max, end2end`` before ``ch``; those get their defaults."""
    from ultralytics.nn.modules import head

    saved = {cls: cls.__dict__["__init__"] for cls in (head.Detect, head.Segment, head.Pose, head.OBB)}

    def old_style(init, fixed):
        def __init__(self, *args, **kwargs):
            if len(args) == fixed + 1:  # the 8.3 call: the channels right after the task's own arguments
                args = (*args[:fixed], 16, False, args[fixed])
            init(self, *args, **kwargs)
        return __init__

    fixed = {head.Detect: 1, head.Segment: 3, head.Pose: 2, head.OBB: 2}
    try:
        for cls, init in saved.items():
            cls.__init__ = old_style(init, fixed[cls])
        yield
    finally:
        for cls, init in saved.items():
            cls.__init__ = init


def build_head_reference(case_id: str, scale: str | None) -> list:
    """``[(index, params, output shape)]`` of a heads case built by its repository's ``parse_model`` on
    8.0-8.3's head constructors; the layers run in order on one image, the head in training mode (the
    per-level maps it returns there). The model classes of today cannot run an 8.3 head: this is the
    fork's ``parse_model`` alone, which is what decides the layers."""
    import torch
    from ultralytics.nn import tasks

    case, model = _case_at(case_id, scale)
    with _quiet(), patched(case), fork_head_parents():
        layers, _save = tasks.parse_model(model, ch=model.get("channels", 3), verbose=False)
    outputs, table = [], []
    x = torch.zeros(1, model.get("channels", 3), PROBE, PROBE)
    with torch.no_grad():
        for m in layers:
            m.train(m is layers[-1])
            inputs = x if m.f == -1 else outputs[m.f] if isinstance(m.f, int) else \
                [x if j == -1 else outputs[j] for j in m.f]
            x = m(inputs)
            outputs.append(x)
            shape = None if m is layers[-1] else list(x.shape[1:])
            table.append((m.i, sum(p.numel() for p in m.parameters()), shape))
    return table


def main(argv=None) -> int:
    import argparse

    import yolo_studio  # noqa: F401  (offline settings only: no studio code builds the model)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", help="case id (all cases if omitted)")
    parser.add_argument("--scale")
    args = parser.parse_args(argv)
    failed = 0
    for case_id in [args.case] if args.case else cases():
        for scale in [args.scale] if args.scale else scales_of(load_case(case_id)["model"]):
            try:
                table = build_reference(case_id, scale)
            except Exception as exc:
                failed += 1
                print(f"{case_id} [{scale}]: FAILED {type(exc).__name__}: {exc}")
                continue
            total = sum(p for _, p, _ in table)
            print(f"{case_id} [{scale}]: {len(table)} layers, {total:,} params")
            if args.case:
                for i, params, shape in table:
                    print(f"  {i:>3} {params:>10,} {shape}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
