"""In the training process: a YAML model's start from a checkpoint, each layer from the layer it matches.

Ultralytics' ``pretrained=W.pt`` copies tensors whose state-dict key and shape agree, so a block
inserted at layer 10 leaves every later layer untrained. Before such a run starts, the studio plans
the transfer by structure (``core.transfer``), builds the model to train exactly as the run will,
loads the matched tensors into it and saves it as ``artifacts/transferred.pt``: the run's
``pretrained`` then transfers every one of them. ``artifacts/transfer.json`` keeps the report.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

from yolo_studio.core.atomic import write_text_atomic

TRANSFERRED = "transferred.pt"


def write_transferred(run, weights: str | Path) -> tuple:
    """(path of ``transferred.pt``, TransferReport) for ``run`` (its model is a YAML; its custom blocks
    are already registered, as ``register_run_blocks`` does before training)."""
    import torch
    import ultralytics
    from ultralytics import YOLO

    from yolo_studio.core.model.checkpoints import read_checkpoint
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.compat.model_dict import scale_for_file
    from yolo_studio.core.model.transfer import plan_transfer

    info = read_checkpoint(weights)
    model_dict = ModelDocument.load(run.model).to_dict()
    built = YOLO(str(run.model)).model  # as the run builds it: its scale from the file name, the hook installed
    shapes = {k: tuple(v.shape) for k, v in built.state_dict().items()}
    report, remapped = plan_transfer(info.state, info.model_yaml, {**model_dict, "scale": scale_for_file(run.model, model_dict)},
                                     shapes)
    own = built.state_dict()
    missing, unexpected = built.load_state_dict({k: v.to(own[k].dtype) for k, v in remapped.items()}, strict=False)
    assert not unexpected, unexpected  # every key comes from the model's own state dict
    if info.names and model_dict.get("nc") == info.nc:
        built.names = dict(info.names)
    path = run.artifacts / TRANSFERRED
    torch.save({"model": copy.deepcopy(built).half(), "train_args": {}, "epoch": -1, "date": datetime.now().isoformat(),
                "version": ultralytics.__version__, "transferred_from": str(weights)}, path)
    write_text_atomic(run.artifacts / "transfer.json", json.dumps(
        {"weights": str(weights), "checkpoint": info.summary(), "headline": report.headline(), **report.to_dict()},
        indent=1))
    return path, report


def read_report(run) -> dict | None:
    """The transfer report a run recorded, if it started from weights."""
    path = Path(run.artifacts) / "transfer.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
