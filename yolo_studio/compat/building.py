"""Building a model the way Ultralytics' model classes do, and putting its process-wide state back.

Ultralytics' builds set class attributes (``Detect.legacy``, ``Conv.default_act``...) that outlive the
build; the studio builds many models in one process (every edit, preflight, comparisons), so each
build runs inside ``preserved_state`` (and one lock: ``core.model.inspection.ultralytics_build``).
"""

from __future__ import annotations

import contextlib

from yolo_studio.compat import heads, model_dict


def head_task(d: dict, blocks: dict | None) -> str | None:
    """The task of the model's output row when it names a custom head (``blocks``: name -> (class, layout))."""
    rows = list(d.get("backbone") or []) + list(d.get("head") or [])
    entry = (blocks or {}).get(rows[-1][2]) if rows and isinstance(rows[-1][2], str) else None
    return heads.task_of_class(entry[0]) if entry is not None and heads.is_head_class(entry[0]) else None


def task_and_class(d: dict, blocks: dict | None = None) -> tuple:
    """(task, name of the ``ultralytics.nn.tasks`` class that builds the dict): by the output module's
    name as Ultralytics guesses it, or, for a custom head, by what its class is."""
    task = head_task(d, blocks) or model_dict.guess_task(d)
    return task, model_dict.model_class(d, task)


def model_class(d: dict, blocks: dict | None = None):
    """The ``ultralytics.nn.tasks`` class that builds the dict (``DetectionModel``, ``PoseModel``...)."""
    return getattr(model_dict.tasks_module(), task_and_class(d, blocks)[1])


def parse_layers(d: dict, ch: int = 3):
    """``(nn.Sequential of the layers, save list)``: ``parse_model`` alone, without a model class around it."""
    return model_dict.tasks_module().parse_model(d, ch=ch, verbose=False)


@contextlib.contextmanager
def preserved_state():
    """Restore the class attributes Ultralytics' builds set, whatever the build did."""
    import torch.nn as nn
    from ultralytics.nn import modules

    tasks = model_dict.tasks_module()
    classes = {obj for mod in (modules, tasks) for obj in vars(mod).values()
               if isinstance(obj, type) and issubclass(obj, nn.Module)}
    saved = {cls: dict(vars(cls)) for cls in classes}
    try:
        yield
    finally:
        for cls, attrs in saved.items():
            current = vars(cls)
            for key in [k for k in current if k not in attrs]:
                with contextlib.suppress(AttributeError, TypeError):
                    delattr(cls, key)
            for key, value in attrs.items():
                if current.get(key, object()) is not value and not key.startswith("__"):
                    with contextlib.suppress(AttributeError, TypeError):
                        setattr(cls, key, value)
