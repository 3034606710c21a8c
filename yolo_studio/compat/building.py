"""Building a model the way Ultralytics' model classes do, and putting its process-wide state back.

Ultralytics' builds set class attributes (``Detect.legacy``, ``Conv.default_act``...) that outlive the
build; the studio builds many models in one process (every edit, preflight, comparisons), so each
build runs inside ``preserved_state`` (and one lock: ``core.model.inspection.ultralytics_build``).
"""

from __future__ import annotations

import contextlib

from yolo_studio.compat import model_dict


def model_class(d: dict):
    """The ``ultralytics.nn.tasks`` class that builds the dict (``DetectionModel``, ``PoseModel``...)."""
    return getattr(model_dict.tasks_module(), model_dict.model_class(d))


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
