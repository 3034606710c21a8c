"""GPU work off the studio's process: inference, hydra detection and export on a CUDA device run in a child
Python, as training does.

In the studio's own process a GPU job would keep a CUDA context and PyTorch's cached memory for the rest of
the session (what device listing avoids by reading NVML), and a native crash in CUDA, cuDNN or TensorRT
would take the window, and the user's unsaved work, with it. ``run_in_child`` starts
``python -m yolo_studio.deploy.gpu_worker``, hands it the job as JSON on stdin and reads each result back as
it comes (one line each, marked), so the window shows progress as before; Cancel ends the child. A job
that fails says why, as it would in process; a child that dies is a message, never the studio's end.
No Qt here: the Inference tab and the export dialog call it from their job threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

MARK = "YOLO_STUDIO_JSON "  # the worker's own lines: Ultralytics and PyTorch may print too


PREDICT = "yolo_studio.deploy.gpu_worker:predict_task"
EXPORT = "yolo_studio.deploy.gpu_worker:export_task"


def run_in_child(task: str, kwargs: dict, on_item=None, cancelled=None) -> object:
    """Run ``task`` (``"module:function"`` of the studio, e.g. ``PREDICT``, ``EXPORT`` or hydra's
    ``detect_task``) with ``kwargs`` in a child process; ``on_item`` gets each ``ImageResult`` as it comes.
    Returns the task's result (the ImageResults for a detection task). Raises ValueError with the child's
    message."""
    from yolo_studio.deploy.predict import ImageResult

    child = subprocess.Popen([sys.executable, "-m", "yolo_studio.deploy.gpu_worker"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    errors: list = []
    reader = threading.Thread(target=lambda: errors.extend(child.stderr), daemon=True)  # never a full pipe
    reader.start()
    child.stdin.write(json.dumps({"task": task, "kwargs": kwargs}))
    child.stdin.close()
    if cancelled is not None:
        threading.Thread(target=_end_when, args=(child, cancelled), daemon=True).start()
    items, result, failure = [], None, None
    for line in child.stdout:
        if not line.startswith(MARK):
            continue
        message = json.loads(line[len(MARK):])
        if "item" in message:
            item = ImageResult(**message["item"])
            items.append(item)
            if on_item is not None:
                on_item(item)
        elif "error" in message:
            failure = message["error"]
        elif "result" in message:
            result = message["result"]
    code = child.wait()
    reader.join(timeout=5)
    if failure:
        raise ValueError(failure)
    if cancelled is not None and cancelled():
        return items
    if code != 0 or result is None:
        tail = "".join(errors).strip().splitlines()[-1:] or ["no message"]
        raise ValueError(f"the GPU worker process ended with code {code} (the studio goes on): {tail[0]}")
    return items if result == "items" else result


def _end_when(child, cancelled) -> None:
    import time

    while child.poll() is None:
        if cancelled():
            child.kill()
            return
        time.sleep(0.1)


def _emit(message: dict) -> None:
    print(MARK + json.dumps(message), flush=True)


def predict_task(on_result, **kwargs) -> str:
    from yolo_studio.deploy.predict import predict

    predict(**kwargs, on_result=on_result)
    return "items"


def export_task(on_result, verify: bool = False, images=(), **kwargs) -> dict:
    from yolo_studio.deploy.export import export, verify_onnx

    out = export(**kwargs)
    check = verify_onnx(out, kwargs["weights"], list(images), kwargs["imgsz"], device=kwargs.get("device", "cpu")) \
        if verify else None
    return {"file": str(out), "verification": check.text() if check else None, "ok": check.ok if check else True}


def _work(task: str, kwargs: dict) -> None:
    """Call the studio's ``module:function`` named by the request (a task of another layer, such as hydra's,
    is named by the caller above both: this module imports none of them)."""
    import importlib

    module, _, name = task.partition(":")
    if not module.startswith("yolo_studio.") or not name.endswith("_task"):
        raise ValueError(f"no GPU job called '{task}'")
    function = getattr(importlib.import_module(module), name)
    _emit({"result": function(on_result=lambda r: _emit({"item": r.to_json()}), **kwargs)})


def main() -> int:
    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.core.errors import StudioError

    request = json.loads(sys.stdin.read())
    try:
        _work(request["task"], request["kwargs"])
    except (StudioError, ValueError, FileNotFoundError) as exc:  # the user's to act on: a message, as in process
        _emit({"error": str(exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
