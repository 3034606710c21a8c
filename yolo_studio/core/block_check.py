"""Checking a custom block file: compile, import, and a smoke test of every block for its rule.

The check runs in a child Python process with a time limit, so a block that loops forever, leaks
or crashes the interpreter cannot take the studio (or its worker thread) down. The child prints
one JSON object; ``check_file`` returns it as a dict:

``{"file", "ok", "error": {"kind", "line", "message"} | None, "blocks": [{"name", "line", "rule",
"declared", "ok", "out_shape", "params", "ms", "error", "mismatch"}]}``

Smoke test per rule (input 1x32x16x16): ``c1`` -> ``Block(32)``, ``base`` -> ``Block(32, 64)``,
``repeat`` -> ``Block(32, 64, 2)``, ``passthrough`` -> ``Block()``, ``concat`` -> ``Block()`` on
``[1x32x16x16, 1x16x16x16]``; the output channels must be what the rule promises.

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


def check_file(path: str | Path, timeout: float = DEFAULT_TIMEOUT, onnx: bool = False) -> dict:
    """Check a block file in a child process; never raises for problems in the file."""
    path = Path(path).resolve()
    code = "import sys, yolo_studio.core.block_check as c; c._main(sys.argv[1], sys.argv[2] == 'onnx')"
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


CACHE_VERSION = 1  # bump when the shape or meaning of a result changes


def _cache_file(path: Path) -> Path:
    import hashlib

    from yolo_studio.core.offline import studio_data_dir

    digest = hashlib.sha256(f"{CACHE_VERSION}:".encode() + path.read_bytes()).hexdigest()
    return studio_data_dir() / "block-checks" / f"{digest}.json"


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
    return found[0] if found else (None, "the check failed")


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
    from yolo_studio.core.custom_blocks import BlockFileError, load_block_file, scan_file

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
    blocks = [_smoke(name, cls, rule, scanned.get(name), path) for name, (cls, rule) in classes.items()]
    if onnx:
        for block in blocks:
            if block["ok"]:
                cls, rule = classes[block["name"]]
                block["onnx"] = _onnx_check(cls, rule)
    return {"file": str(path), "ok": all(b["ok"] for b in blocks), "error": None, "blocks": blocks}


def _sample(rule: str):
    """Constructor arguments and forward input of the smoke test for a rule."""
    import torch

    args = {"c1": [C_IN], "base": [C_IN, C_OUT], "repeat": [C_IN, C_OUT, 2]}.get(rule, [])
    x = torch.randn(1, C_IN, SIZE, SIZE)
    return args, ([x, torch.randn(1, C_IN // 2, SIZE, SIZE)] if rule == "concat" else x)


def _smoke(name: str, cls, rule: str, scanned, path: Path) -> dict:
    import torch

    out = {"name": name, "line": scanned.line if scanned else None, "rule": rule,
           "declared": scanned.declared_rule is not None if scanned else False,
           "ok": False, "out_shape": None, "params": None, "ms": None, "error": None, "mismatch": None}
    args, inputs = _sample(rule)
    try:
        module = cls(*args)
    except Exception as exc:
        out["error"] = {"where": "__init__", "line": _line_in(exc, path), "message": f"{type(exc).__name__}: {exc}"}
        return out
    out["params"] = sum(p.numel() for p in module.parameters())
    module.eval()
    try:
        with torch.no_grad():
            started = time.perf_counter()
            y = module(inputs)
            out["ms"] = round((time.perf_counter() - started) * 1000, 2)
    except Exception as exc:
        out["error"] = {"where": "forward", "line": _line_in(exc, path), "message": f"{type(exc).__name__}: {exc}"}
        return out
    if not isinstance(y, torch.Tensor):
        out["error"] = {"where": "forward", "line": None,
                        "message": f"forward returned {type(y).__name__}, not a tensor"}
        return out
    out["out_shape"] = list(y.shape[1:])
    expected = {"c1": C_IN, "passthrough": C_IN, "base": C_OUT, "repeat": C_OUT, "concat": C_IN + C_IN // 2}[rule]
    if y.shape[1] != expected:
        out["mismatch"] = (f"rule '{rule}' promises {expected} output channels for this test, the block returned "
                           f"{y.shape[1]}: {_advice(rule)}")
        return out
    out["ok"] = True
    return out


def _onnx_check(cls, rule: str) -> dict:
    """Export one block alone to ONNX; name the operators the exporter could not convert."""
    import io
    import re
    import warnings

    import torch

    args, inputs = _sample(rule)
    module = cls(*args).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (inputs,), io.BytesIO(), dynamo=False, opset_version=ONNX_OPSET)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        unsupported = sorted(set(re.findall(r"operator '([\w:.]+)'", str(exc))))
        return {"ok": False, "message": f"{type(exc).__name__}: {message}", "unsupported": unsupported}
    return {"ok": True, "message": f"exports to ONNX opset {ONNX_OPSET}", "unsupported": []}


def _advice(rule: str) -> str:
    if rule in ("c1", "passthrough"):
        return "if the block sets its output channels, take (c1, c2, ...) and use rule 'base'"
    if rule in ("base", "repeat"):
        return "the block must return c2 channels (its second argument)"
    return "a 'concat' block must return the sum of its inputs' channels"


def markers(result: dict) -> list:
    """``(line, message)`` pairs to mark in an editor for a check result (1-based lines)."""
    out = []
    if result.get("error"):
        e = result["error"]
        out.append((e.get("line") or 1, e["message"]))
    for b in result.get("blocks", []):
        if b.get("error"):
            out.append((b["error"].get("line") or b.get("line") or 1, f"{b['name']}.{b['error']['where']}: "
                                                                       f"{b['error']['message']}"))
        elif b.get("mismatch"):
            out.append((b.get("line") or 1, f"{b['name']}: {b['mismatch']}"))
    return out
