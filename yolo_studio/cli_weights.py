"""``yolo-studio diff`` and ``yolo-studio transfer``: architectures compared by structure, and which
weights of a checkpoint a model to train would get.

A model is a YAML, a checkpoint (``.pt``: read without running code from it, its stored YAML
compared) or a run folder (the YAML it trained). With ``--json`` each prints one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path

from yolo_studio.core.checkpoints import CheckpointError


def add_parsers(sub) -> dict:
    diff = sub.add_parser("diff", help="compare two model architectures, matched by structure")
    diff.add_argument("a", metavar="A", help="a model YAML, a checkpoint (.pt) or a run folder")
    diff.add_argument("b", metavar="B", help="the same kinds")
    diff.add_argument("--modules", default=None, metavar="DIR", help="folder of custom blocks (to count params)")
    diff.add_argument("--json", action="store_true")
    tra = sub.add_parser("transfer", help="which weights of a checkpoint a model would start from, per layer")
    tra.add_argument("model", metavar="MODEL.yaml", help="the model to train")
    tra.add_argument("weights", metavar="WEIGHTS.pt", help="the checkpoint to start from")
    tra.add_argument("--modules", default=None, metavar="DIR", help="folder of the model's custom blocks")
    tra.add_argument("--scale", default=None, help="the model's scale (default: from its file name, as Ultralytics)")
    tra.add_argument("--json", action="store_true")
    return {"diff": cmd_diff, "transfer": cmd_transfer}


def cmd_diff(args) -> int:
    from yolo_studio.core.arch_diff import ADDED, REMOVED, describe_match, diff_models, load_architecture

    a, label_a = load_architecture(args.a)
    b, label_b = load_architecture(args.b)
    diff = diff_models(a, b)
    params = [_params(model, args.modules, label) for model, label in ((a, label_a), (b, label_b))]
    if args.json:
        print(json.dumps({"a": label_a, "b": label_b, "params": params, **diff.to_dict()}))
        return 0
    counts = diff.counts()
    print(f"{label_a} -> {label_b}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) +
          ("" if not diff.unchanged() else " (the same architecture)"))
    if None not in params:
        print(f"  params: {params[0]:,} -> {params[1]:,} ({params[1] - params[0]:+,})")
    rows_a = (a.get("backbone") or []) + (a.get("head") or [])
    rows_b = (b.get("backbone") or []) + (b.get("head") or [])
    for m in diff.matches:
        if m.kind in (ADDED, REMOVED) or m.kind != "same" or m.fields:
            print(f"  {describe_match(m, rows_a, rows_b)}")
    return 0



def _params(model: dict, modules, label: str) -> int | None:
    """Parameters of a model (its weights' shapes, built on the meta device); None if it cannot be built here
    (custom blocks whose files were not given)."""
    from yolo_studio.core.custom_blocks import load_vetted_blocks
    from yolo_studio.core.preflight import scale_of
    from yolo_studio.core.transfer import target_shapes

    try:
        blocks = load_vetted_blocks(modules)[0] if modules else {}
        shapes = target_shapes(model, model.get("scale") or scale_of(Path(label), model), blocks)
    except Exception:  # noqa: BLE001 - a count is extra information, never a reason to fail the diff
        return None
    import math

    return sum(math.prod(shape) for key, shape in shapes.items()
               if not key.endswith(("running_mean", "running_var", "num_batches_tracked")))


def cmd_transfer(args) -> int:
    from yolo_studio.core.checkpoints import read_checkpoint
    from yolo_studio.core.custom_blocks import load_vetted_blocks
    from yolo_studio.core.document import ModelDocument
    from yolo_studio.core.transfer import plan_transfer, target_shapes

    doc = ModelDocument.load(args.model)
    info = read_checkpoint(args.weights)
    blocks = {}
    if args.modules:
        blocks, errors = load_vetted_blocks(args.modules)
        if errors:
            raise CheckpointError(f"{errors[0]}", "Fix the block file (yolo-studio modules check).")
    from yolo_studio.core.preflight import scale_of

    scale = args.scale or scale_of(Path(args.model), doc.to_dict())
    report, _ = plan_transfer(info.state, info.model_yaml, doc.to_dict(),
                              target_shapes(doc.to_dict(), scale, blocks))
    if args.json:
        print(json.dumps({"model": str(args.model), "weights": str(args.weights), "checkpoint": info.summary(),
                          **report.to_dict()}))
        return 0
    print(f"{Path(args.weights).name}: {info.summary()}")
    print(report.headline())
    for note in report.notes:
        print(f"note: {note}")
    for layer in report.layers:
        if layer.state != "full":
            print(f"  {layer.state:>10}  {layer.describe()}")
    return 0

