"""``yolo-studio val``: validate a model as Ultralytics does and keep every prediction (docs/EVALUATION.md).

    yolo-studio val --model runs/quick --data data.yaml [--project P] [--name N] [key=value ...] [--json]
    yolo-studio val model=best.pt data=data.yaml split=test conf=0.001 iou=0.7 imgsz=640 batch=16

Arguments are Ultralytics' (``model=``, ``data=``, ``split=``, ``conf=``, ``iou=``, ``imgsz=``, ``batch=``,
``device=``...); ``--model`` and ``--data`` say the same. ``--json`` prints one JSON object with Ultralytics'
own metric keys and ``folder``, the evaluation folder.
"""

from __future__ import annotations

import json


def add_parsers(sub) -> dict:
    val = sub.add_parser("val", help="validate a model (Ultralytics' metrics) and keep every prediction for the "
                                     "Evaluate page")
    val.add_argument("--model", default=None, help="a .pt file, a run folder, or (with --project) a run or registry "
                                                   "name (NAME, NAME:vN, NAME@production) or a hydra head version "
                                                   "(hydra:MODEL/HEAD[:vN])")
    val.add_argument("--data", default=None, help="dataset YAML (default: the one the model was trained on)")
    val.add_argument("--project", default=None, metavar="DIR")
    val.add_argument("--name", default=None, help="the evaluation folder's name (default: val-<time>)")
    val.add_argument("--json", action="store_true", help="one JSON object: Ultralytics' metrics and the folder")
    val.add_argument("--referee", action="store_true", help="also compute COCO's own mAP from the kept predictions "
                                                            "(else the Evaluate page does when it first shows it)")
    val.add_argument("arguments", nargs="*", metavar="key=value", help="Ultralytics' val arguments")
    return {"val": cmd_val}


HYDRA = "hydra:"


def hydra_head_weights(ref: str, project):
    """``hydra:MODEL/HEAD`` (its active version) or ``hydra:MODEL/HEAD:vN``: the checkpoint that head version
    was trained to (backbone and head: the model it is)."""
    from yolo_studio.hydra.store import HydraStore

    if project is None:
        raise ValueError(f"{ref}: give --project, the project whose hydra models to look in")
    name, _, head = ref[len(HYDRA):].partition("/")
    head, _, version = head.partition(":")
    store = HydraStore(project.root / "hydra" / name)
    if not name or not head or not store.exists():
        raise ValueError(f"{ref}: write hydra:MODEL/HEAD or hydra:MODEL/HEAD:vN of a hydra model of the project")
    if version:
        return store.version(head, int(version.lstrip("v"))).weights
    active = {v.head: v for v in store.active()}
    if head not in active:
        raise ValueError(f"{ref}: head '{head}' has no active version (heads: {', '.join(store.heads) or 'none'})")
    return active[head].weights


def cmd_val(args) -> int:
    from yolo_studio.core.evaluation.store import SUSPECTS_CSV
    from yolo_studio.core.project.projects import open_project
    from yolo_studio.deploy.evaluate import evaluate
    from yolo_studio.training.train_config import parse_overrides

    overrides = parse_overrides(args.arguments)
    model = overrides.pop("model", None) or args.model
    data = overrides.pop("data", None) or args.data
    if model is None:
        raise ValueError("which model? give --model (or model=): a .pt file, a run folder or a registry name")
    project = open_project(args.project) if args.project else None
    if str(model).startswith(HYDRA):
        model = hydra_head_weights(str(model), project)
    evaluation = evaluate(str(model), data, project, args.name, overrides, referee=args.referee)
    metrics = {k: v for k, v in evaluation.metrics.items() if k != "per_class"}
    if args.json:
        print(json.dumps({**metrics, "folder": str(evaluation.folder), "referee": evaluation.referee}), flush=True)
        return 0
    for key, value in metrics.items():
        print(f"{key:28} {value:.4f}")
    if evaluation.referee.get("mAP50-95") is not None:
        print(f"{'referee mAP50-95 (COCO)':28} {evaluation.referee['mAP50-95']:.4f}  ({evaluation.referee['library']})")
    print(f"{len(evaluation.images)} images, {len(evaluation.predictions)} predictions kept; evaluation: "
          f"{evaluation.folder}" + (f" (suspected label errors: {SUSPECTS_CSV})" if evaluation.task != "classify" else ""))
    return 0
