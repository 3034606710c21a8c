"""Checking a custom block file: compile, import, and a smoke test of every class.

The check runs in a child Python process with a time limit, so a block that loops forever, leaks
or crashes the interpreter cannot take the studio (or its worker thread) down. The child prints
one JSON object; ``check_file`` returns it as a dict:

``{"file", "ok", "error": {"kind", "line", "message"} | None, "blocks": [{"name", "line", "rule",
"declared", "ok", "out_shape", "params", "ms", "error", "helper", "args"}]}``

A file is ``ok`` when it compiles, imports and defines at least one ``nn.Module``: that is all a
model needs to use it. The smoke test then builds each class as a YAML row would, on 32 input
channels of 16x16 (as many inputs as its ``forward`` reads, for a fusion), with the argument
layouts the model build would try (``block_layouts``), and reports the output it measured. A class
that cannot be built alone is a warning, never a refusal: a helper such as the
``ChannelAttention`` inside a ``CBAM`` is built only as part of the block that uses it, and any
block is checked for real when a model names it.

With ``onnx=True`` every block that passes is also exported alone to ONNX (TorchScript exporter,
opset ``ONNX_OPSET``) and each block gains ``"onnx": {"ok", "message", "unsupported": [op, ...]}``.
An ONNX failure is reported but does not fail the check: many users never export.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from pathlib import Path

C_IN, C_OUT, SIZE = 32, 64, 16
DEFAULT_TIMEOUT = 30.0
ONNX_OPSET = 17


def check_file(path: str | Path, timeout: float = DEFAULT_TIMEOUT, onnx: bool = False, text: str | None = None) -> dict:
    """Check a block file in a child process; never raises for problems in the file.

    With ``text``, check that text as the file's content (an editor's unsaved text): it is written,
    with copies of the file's sibling block files (which it may import), to a scratch folder, and
    the result names the real file and has ``"unsaved": True``.
    """
    path = Path(path).resolve()
    if text is not None:
        return _check_text(path, text, timeout, onnx)
    code = "import sys, yolo_studio.core.blocks.block_check as c; c._main(sys.argv[1], sys.argv[2] == 'onnx')"
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", code, str(path), "onnx" if onnx else "-"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return _failed(path, "timeout", None, f"the check did not finish in {timeout:.0f} s: does a block loop "
                                              "forever in __init__ or forward?")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return _failed(path, "crash", None, f"the check process ended with code {done.returncode}: {tail[0]}")
    result = json.loads(lines[-1])
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def _check_text(path: Path, text: str, timeout: float, onnx: bool) -> dict:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="yolo-studio-check-") as scratch:
        folder = Path(scratch) / path.parent.name
        folder.mkdir()
        for sibling in path.parent.glob("*.py"):
            if sibling.name != path.name and sibling.is_file():
                shutil.copyfile(sibling, folder / sibling.name)
        copy = folder / path.name
        copy.write_text(text, encoding="utf-8")
        result = check_file(copy, timeout=timeout, onnx=onnx)
    # the scratch copy's name means nothing to the user: put the file's own back everywhere
    result = json.loads(json.dumps(result).replace(json.dumps(str(copy))[1:-1], json.dumps(str(path))[1:-1]))
    result["file"], result["unsaved"] = str(path), True
    return result


CACHE_VERSION = 3  # bump when the shape or meaning of a result changes


def _cache_file(path: Path) -> Path:
    """Keyed on the file and its sibling files (which it may import)."""
    import hashlib

    from yolo_studio.core.home import studio_cache_dir

    digest = hashlib.sha256(f"{CACHE_VERSION}:".encode() + path.read_bytes())
    for sibling in sorted(path.parent.glob("*.py")):
        if sibling != path:
            digest.update(sibling.name.encode() + b"\0" + sibling.read_bytes())
    digest = digest.hexdigest()
    return studio_cache_dir() / "block-checks" / f"{digest}.json"


def remember(path: str | Path, result: dict) -> None:
    """Keep a check result for this exact file content (crashes are not kept: they may be transient)."""
    from yolo_studio.core.atomic import write_text_atomic

    if (result.get("error") or {}).get("kind") == "crash":
        return
    try:
        target = _cache_file(Path(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, json.dumps(result))
    except OSError:
        pass  # a cache, nothing more


def check_file_cached(path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """``check_file`` once per file content: an unchanged file is not run again."""
    path = Path(path).resolve()
    try:
        return json.loads(_cache_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    result = check_file(path, timeout=timeout)
    remember(path, result)
    return result


def first_problem(result: dict) -> tuple:
    """``(line, message)`` of the first problem of a failed check."""
    found = markers(result)
    return found[0][:2] if found else (None, "the check failed")


def _failed(path: Path, kind: str, line, message: str) -> dict:
    return {"file": str(path), "ok": False, "error": {"kind": kind, "line": line, "message": message}, "blocks": []}


# --------------------------------------------------------------------------- the child process


def _main(file: str, onnx: bool = False) -> None:
    import yolo_studio  # noqa: F401  (offline environment)

    print(json.dumps(_check_here(Path(file), onnx), default=str), flush=True)


def _line_in(exc: BaseException, path: Path) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == path:
            line = lineno
    return line


def _check_here(path: Path, onnx: bool = False) -> dict:
    from yolo_studio.core.blocks.custom_blocks import BlockFileError, load_block_file, scan_file

    try:
        scanned = {b.info.name: b for b in scan_file(path)}
    except BlockFileError as exc:
        return _failed(path, "syntax", exc.line, exc.message)
    try:
        classes = load_block_file(path)
    except BlockFileError as exc:
        return _failed(path, "import", exc.line, exc.message)
    if not classes:
        return _failed(path, "empty", None, "no torch.nn.Module subclass in this file: define a class deriving "
                                            "from nn.Module")
    helpers = _helpers(path, set(classes))
    blocks = [_smoke(name, cls, rule, scanned.get(name), path, helpers.get(name)) for name, (cls, rule) in classes.items()]
    if onnx:
        for block in blocks:
            if block["ok"]:
                block["onnx"] = _onnx_check(classes[block["name"]][0], block)
    return {"file": str(path), "ok": True, "error": None, "blocks": blocks}


def _helpers(path: Path, names: set) -> dict:
    """``{class: the class that uses it}`` for classes of the file used inside another of its classes."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            bases = {getattr(b, "id", "") for b in node.bases}
            for name in (used - bases) & names - {node.name}:
                out.setdefault(name, node.name)
    return out


def forward_inputs(cls) -> int:
    """How many tensors ``forward`` reads from its first argument: 1 for a plain block, else the
    highest constant index it takes (``x[2]`` -> 3) or the length it unpacks (``a, b = x``)."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls.forward)))
    except (OSError, TypeError, SyntaxError):
        return 1
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef) or len(func.args.args) < 2:
        return 1
    x = func.args.args[1].arg
    count = 1
    for node in ast.walk(func):
        if (isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == x
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
            count = max(count, node.slice.value + 1)
        if (isinstance(node, ast.Assign) and getattr(node.value, "id", None) == x
                and isinstance(node.targets[0], ast.Tuple)):
            count = max(count, len(node.targets[0].elts))
    # iterated (``for t in x``, ``zip(self.convs, x)``) or measured (``len(x)``): the list itself, not
    # an attribute of it (``range(x.shape[1])`` reads a single tensor)
    iterated = [n.iter for n in ast.walk(func) if isinstance(n, (ast.For, ast.comprehension))]
    iterated += [arg for it in list(iterated) if isinstance(it, ast.Call) for arg in it.args]
    iterated += [n.args[0] for n in ast.walk(func) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "len"
                 and n.args]
    multi = count > 1 or any(getattr(it, "id", None) == x for it in iterated)
    return max(count, 2) if multi else 1


def _sample(cls):
    """The smoke test's input: one tensor, or as many as ``forward`` reads."""
    import torch

    k = 2 if getattr(cls, "channel_rule", None) == "concat" else forward_inputs(cls)
    if k == 1:
        return torch.randn(1, C_IN, SIZE, SIZE)
    return [torch.randn(1, C_IN, SIZE, SIZE) for _ in range(k)]  # many fusions add: same channels


def _smoke(name: str, cls, rule: str | None, scanned, path: Path, used_by: str | None = None) -> dict:
    """Build ``cls`` as a YAML row would (YAML args ``[]``, then ``[64]``) and run it once."""
    from yolo_studio.compat import block_layouts, measuring

    out = {"name": name, "line": scanned.line if scanned else None, "rule": rule,
           "declared": scanned.declared_rule is not None if scanned else False,
           "ok": False, "out_shape": None, "params": None, "ms": None, "error": None, "helper": used_by, "args": None}
    x = _sample(cls)
    c_in = [t.shape[1] for t in x] if isinstance(x, list) else C_IN
    failure = None
    for yaml_args in ([], [C_OUT]):
        row = block_layouts.Row(c_in, yaml_args)
        if hasattr(cls, "yaml_args"):
            plan = ["yaml_args"]
        elif rule is not None:
            plan = [rule]
        else:  # what the names suggest; other calls are the model build's last resort, not a class's verdict
            plan = [layout for tier, layout in block_layouts.candidates(cls, row) if tier == 1]
        for layout in plan:
            probe = block_layouts.Row(c_in, yaml_args)
            call = None
            try:
                call = cls.yaml_args(probe) if layout == "yaml_args" else block_layouts.call_for(layout, probe)
                started = time.perf_counter()
                module, y = measuring.try_block(cls, call, 1, x)
                ms = (time.perf_counter() - started) * 1000
            except Exception as exc:
                if failure is None:
                    failure = (exc, "__init__" if _raised_in_init(exc) else "forward")
                continue
            shape = [list(t.shape[1:]) for t in y] if isinstance(y, (list, tuple)) else list(y.shape[1:])
            out.update(ok=True, rule=block_layouts.ALIASES.get(layout, layout), out_shape=shape,
                       params=sum(p.numel() for p in module.parameters()), ms=round(ms, 2), args=call,
                       training=_training_conditions(module, x, path))
            return out
    exc, where = failure if failure else (ValueError("no argument layout fits its signature"), "__init__")
    out["error"] = {"where": where, "line": _line_in(exc, path), "message": f"{type(exc).__name__}: {exc}",
                    "warning": True}
    return out


VIEW_ADVICE = ("use .reshape(...) instead of .view(...), or .contiguous() before it: on a GPU, tensors can "
               "arrive in channels-last memory, where .view() cannot regroup them")
DTYPE_ADVICE = ("under mixed precision (amp=True, the default on a GPU) activations are half precision: make new "
                "tensors with the input's dtype (torch.zeros(..., dtype=x.dtype, device=x.device)) or .to(x.dtype) "
                "rather than a fixed torch.float32")


def _training_conditions(module, x, path: Path) -> list:
    """What the block first meets in a GPU training, tried here on the CPU: inputs in channels-last
    memory, and mixed precision (CPU autocast, bfloat16, as amp's float16 on a GPU). A block calling
    ``.view()`` on its input, or mixing a float32 tensor it makes with half-precision activations,
    passed every other check and failed at the first batch. ``[{"when", "line", "message", "advice"}]``."""
    import torch

    def channels_last(t):
        return t.contiguous(memory_format=torch.channels_last) if getattr(t, "dim", lambda: 0)() == 4 else t

    problems = []
    conditions = (("channels-last", lambda: module(type(x)(map(channels_last, x)) if isinstance(x, list)
                                                   else channels_last(x)), VIEW_ADVICE),
                  ("mixed precision", lambda: _autocast_run(module, x), DTYPE_ADVICE))
    for when, run, advice in conditions:
        try:
            with torch.no_grad():
                run()
        except Exception as exc:  # a block's own error, reported with the line it came from
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            known = ("view" in text and "stride" in text) if when == "channels-last" else \
                any(word in text.lower() for word in ("dtype", "half", "bfloat16", "float", "scalar type"))
            problems.append({"when": when, "line": _line_in(exc, path), "message": f"{type(exc).__name__}: {text}",
                             "advice": advice if known else f"it fails with {when} inputs, as in a GPU training"})
    return problems


def _autocast_run(module, x):
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        return module(x)


def _raised_in_init(exc: BaseException) -> bool:
    return any(frame.f_code.co_name == "__init__" for frame, _ in traceback.walk_tb(exc.__traceback__))


def _onnx_check(cls, block: dict) -> dict:
    """Export one block alone to ONNX, built as its smoke test built it; name unsupported operators."""
    import io
    import re
    import warnings

    import torch

    inputs = _sample(cls)
    module = cls(*block["args"]).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (inputs,), io.BytesIO(), dynamo=False, opset_version=ONNX_OPSET)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        unsupported = sorted(set(re.findall(r"operator '([\w:.]+)'", str(exc))))
        return {"ok": False, "message": f"{type(exc).__name__}: {message}", "unsupported": unsupported}
    return {"ok": True, "message": f"exports to ONNX opset {ONNX_OPSET}", "unsupported": []}


def markers(result: dict) -> list:
    """``(line, message, is_warning)`` to mark in an editor for a check result (1-based lines): the
    file's error, a warning for each class that could not be built alone, and one for each training
    condition (channels-last, mixed precision) a block fails under."""
    out = []
    if result.get("error"):
        e = result["error"]
        out.append((e.get("line") or 1, e["message"], False))
    for b in result.get("blocks", []):
        if b.get("error"):
            used = f" (used inside {b['helper']}: checked when a model builds it)" if b.get("helper") else ""
            out.append((b["error"].get("line") or b.get("line") or 1, f"{b['name']}.{b['error']['where']}: "
                                                                       f"{b['error']['message']}{used}", True))
        for problem in b.get("training") or ():
            out.append((problem["line"] or b.get("line") or 1, f"{b['name']} with {problem['when']} inputs (as in a GPU "
                        f"training): {problem['message']}; {problem['advice']}", True))
    return out


def load_vetted_blocks(modules_dir: str | Path, timeout: float | None = None):
    """(``{name: (class, rule)}``, [BlockFileError]): import only files that pass their check.

    A file's check (above) runs in a child process with a time limit, once per file
    content, so a block that loops forever or crashes is reported instead of hanging the
    studio's own process when it builds a model.
    """
    from yolo_studio.core.blocks.custom_blocks import BlockFileError, block_files, load_block_file

    found, errors = {}, []
    for path in block_files(modules_dir):
        result = check_file_cached(path, timeout or DEFAULT_TIMEOUT)
        if (result.get("error") or {}).get("kind") == "empty":
            continue  # nothing to load (the Modules tab and `modules check` say so)
        if not result["ok"]:
            line, message = first_problem(result)
            errors.append(BlockFileError(f"did not pass its check, so it is not loaded: {message}", str(path), line))
            continue
        try:
            found.update(load_block_file(path))
        except BlockFileError as exc:
            errors.append(exc)
    if modules_dir and Path(modules_dir).is_dir():
        from yolo_studio.compat import fork_tasks

        found = fork_tasks.apply(modules_dir, found)[0]  # only files that passed their check were run
    return found, errors


def measure_with_blocks(model: dict, label: str, modules_dir: str | Path | None = None, imgsz: int = 640):
    """``arch_diff.measure_model`` with the vetted blocks of ``modules_dir`` (a model's or a run's)."""
    from yolo_studio.core.model.arch_diff import ModelSize, measure_model

    try:
        blocks = load_vetted_blocks(modules_dir)[0] if modules_dir and Path(modules_dir).is_dir() else {}
    except Exception as exc:  # noqa: BLE001 - a size is extra information, never a reason to fail
        return ModelSize(reason=str(exc).splitlines()[0])
    return measure_model(model, label, blocks, imgsz)
