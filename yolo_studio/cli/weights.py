"""``yolo-studio diff`` and ``yolo-studio transfer``: architectures compared by structure, and which
weights of a checkpoint a model to train would get.

A model is a YAML, a checkpoint (``.pt``: read without running code from it, its stored YAML
compared) or a run folder (the YAML it trained). With ``--json`` each prints one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path

from yolo_studio.core.model.checkpoints import CheckpointError


def add_parsers(sub) -> dict:
    diff = sub.add_parser("diff", help="compare two model architectures, matched by structure")
    diff.add_argument("a", metavar="A", help="a model YAML, a checkpoint (.pt) or a run folder")
    diff.add_argument("b", metavar="B", help="the same kinds")
    diff.add_argument("--modules", default=None, metavar="DIR",
                      help="folder of custom blocks (to count params and GFLOPs; a run folder has its own)")
    diff.add_argument("--json", action="store_true")
    tra = sub.add_parser("transfer", help="which weights of a checkpoint a model would start from, per layer")
    tra.add_argument("model", metavar="MODEL.yaml", help="the model to train")
    tra.add_argument("weights", metavar="WEIGHTS.pt", help="the checkpoint to start from")
    tra.add_argument("--modules", default=None, metavar="DIR", help="folder of the model's custom blocks")
    tra.add_argument("--scale", default=None, help="the model's scale (default: from its file name, as Ultralytics)")
    tra.add_argument("--json", action="store_true")
    return {"diff": cmd_diff, "transfer": cmd_transfer}


def cmd_diff(args) -> int:
    from yolo_studio.core.model.arch_diff import diff_models, load_architecture, size_line, summary_lines
    from yolo_studio.core.blocks.block_check import measure_with_blocks

    a, label_a = load_architecture(args.a)
    b, label_b = load_architecture(args.b)
    diff = diff_models(a, b)
    sizes = [measure_with_blocks(model, label, args.modules or _run_modules(source))
             for model, label, source in ((a, label_a, args.a), (b, label_b, args.b))]
    if args.json:
        print(json.dumps({"a": label_a, "b": label_b, "params": [s.params for s in sizes],
                          "gflops": [s.gflops for s in sizes], **diff.to_dict()}))
        return 0
    first, *rest = summary_lines(diff, a, b, f"{label_a} -> {label_b}")
    print(first)
    line = size_line(*sizes, (label_a, label_b))
    if line:
        print(f"  {line}")
    for text in rest:
        print(f"  {text}")
    return 0


def _run_modules(source) -> Path | None:
    """A run folder's own copy of its custom blocks."""
    modules = Path(source) / "artifacts" / "modules"
    return modules if modules.is_dir() else None


def cmd_transfer(args) -> int:
    from yolo_studio.core.model.checkpoints import read_checkpoint
    from yolo_studio.core.blocks.block_check import load_vetted_blocks
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.transfer import plan_transfer, target_shapes

    doc = ModelDocument.load(args.model)
    info = read_checkpoint(args.weights)
    blocks = {}
    if args.modules:
        blocks, errors = load_vetted_blocks(args.modules)
        if errors:
            raise CheckpointError(f"{errors[0]}", "Fix the block file (yolo-studio modules check).")
    from yolo_studio.compat.model_dict import scale_for_file

    scale = args.scale or scale_for_file(Path(args.model), doc.to_dict())
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

