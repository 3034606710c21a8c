"""``yolo-studio hydra ...``: shared-backbone multi-head models from the command line.

Every action prints a line a person reads, or with ``--json`` one JSON object; a user mistake is
a message and exit code 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parsers(sub) -> dict:
    hydra = sub.add_parser("hydra", help="shared-backbone models with versioned heads")
    actions = hydra.add_subparsers(dest="hydra_command", metavar="ACTION", required=True)

    def action(name, help_text, head=True):
        p = actions.add_parser(name, help=help_text)
        p.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
        p.add_argument("--json", action="store_true")
        if name not in ("list", "splits"):
            p.add_argument("hydra", metavar="HYDRA", help="the hydra model's name")
        if head:
            p.add_argument("head", metavar="HEAD")
        return p

    ext = action("extract", "split a trained detector into a backbone and its first head")
    ext.add_argument("model", metavar="MODEL", help="a .pt, a run folder, or a run or registry name of the project")
    ext.add_argument("--split", type=int, default=None, help="first head layer (default: the deepest split that keeps each head's bottom-up path)")
    ext.add_argument("--metric", default="f1", choices=("f1", "mAP50-95"), help="what promotion compares")
    spl = action("splits", "where a detector can be split, and what a head costs at each split", head=False)
    spl.add_argument("model", metavar="MODEL", help="a .pt, a run folder, or a run or registry name of the project")
    spl.add_argument("--imgsz", type=int, default=640, help="image size the FLOPs are counted at (default 640)")
    trn = action("train-head", "train a head on its own dataset with the backbone frozen, store it as a version")
    trn.add_argument("--data", required=True, metavar="DATA.yaml")
    trn.add_argument("--name", default=None, help="run name (default: <hydra>-<head>)")
    trn.add_argument("overrides", nargs="*", metavar="key=value", help="training arguments (epochs, imgsz, ...)")
    action("list", "hydra models, heads, versions and metrics", head=False)
    pro = action("promote", "make a head version the active one")
    pro.add_argument("version", type=int, metavar="N")
    action("rollback", "make the previously active version active again")
    cln = action("cleanup", "delete old versions of a head (never the active one)")
    cln.add_argument("--keep", type=int, default=3, help="newest versions kept (default 3)")
    det = action("detect", "run the backbone once and every active head on images", head=False)
    det.add_argument("sources", nargs="+", metavar="IMAGE")
    det.add_argument("--imgsz", type=int, default=None, help="default: the backbone's training size")
    det.add_argument("--conf", type=float, default=0.25)
    det.add_argument("--iou", type=float, default=0.7)
    det.add_argument("--device", default="cpu")
    det.add_argument("--together", choices=("auto", "always", "never"), default="auto",
                     help="run heads of one shape as one network: when measured faster on this device (auto, "
                          "measured once and remembered), always, or never")
    return {"hydra": cmd_hydra}


def cmd_hydra(args) -> int:
    from yolo_studio.core.project.projects import open_project

    project = open_project(args.project)
    hydra_dir = project.root / "hydra"
    handler = {"extract": _extract, "splits": _splits, "train-head": _train_head, "list": _list, "promote": _promote,
               "rollback": _rollback, "cleanup": _cleanup, "detect": _detect}[args.hydra_command]
    return handler(args, project, hydra_dir)


def _store(hydra_dir: Path, name: str):
    from yolo_studio.hydra.store import HydraStore

    store = HydraStore(hydra_dir / name)
    store.load()  # a clear error when it does not exist
    return store


def _out(args, data: dict, text: str) -> int:
    print(json.dumps(data) if args.json else text)
    return 0


def _extract(args, project, hydra_dir) -> int:
    from yolo_studio.deploy.predict import resolve_model
    from yolo_studio.hydra.model import extract_in_project

    weights = resolve_model(args.model, project)
    result = extract_in_project(project, args.hydra, weights, args.head, args.split, args.metric)
    return _out(args, result, f"extracted '{args.hydra}': backbone = layers 0..{result['split'] - 1} (hash "
                f"{result['backbone_hash']}), head '{args.head}' v1 active; backbone + head reproduce the model "
                "exactly")


def _splits(args, project, hydra_dir) -> int:
    from yolo_studio.deploy.predict import resolve_model
    from yolo_studio.hydra.model import split_options

    options = split_options(resolve_model(args.model, project), args.imgsz)
    return _out(args, {"splits": options}, f"where {args.model} can be split (cost by FLOPs at "
                f"{args.imgsz} px; heads run after one shared backbone pass):\n"
                + "\n".join("  " + _describe_split(o) for o in options))


def _describe_split(option: dict) -> str:
    from yolo_studio.hydra.model import split_mark

    mark = split_mark(option)
    return (f"{option['split']}: after {option['after']}{mark}; a head is {option['head_share']:.0%} of the FLOPs, "
            f"6 heads ~{option['heads_6']:.1f}x, 12 heads ~{option['heads_12']:.1f}x one model")


def _train_head(args, project, hydra_dir) -> int:
    from yolo_studio.training.preflight import free_name
    from yolo_studio.training.train_config import parse_overrides
    from yolo_studio.hydra.model import add_trained_head, prepare_head_run
    from yolo_studio.training.headless import supervise

    store = _store(hydra_dir, args.hydra)
    name = args.name or f"{args.hydra}-{args.head}"
    run = prepare_head_run(store, args.head, args.data, project.runs_dir, free_name(project.runs_dir, name),
                           parse_overrides(args.overrides))
    log = sys.stderr if args.json else sys.stdout
    code = supervise(run, resume=False, out=lambda line: print(line, file=log, flush=True))
    if code != 0:
        print(f"error: the head run failed; see {run.log}", file=sys.stderr)
        return 1
    version, promoted, reason = add_trained_head(store, args.head, run)
    data = {"head": args.head, "version": version.version, "promoted": promoted, "reason": reason,
            "metrics": version.metrics, "run": str(run.path)}
    state = "active" if promoted else "stored, not active"
    return _out(args, data, f"head '{args.head}' v{version.version} {state}: {reason}")


def _list(args, project, hydra_dir) -> int:
    from yolo_studio.hydra.store import list_hydras

    rows = []
    for store in list_hydras(hydra_dir):
        state = store.load()
        for head, entry in sorted(state["heads"].items()):
            for version in store.history(head):
                rows.append({"hydra": store.name, "split": state["split"], "head": head, "version": version.version,
                             "active": version.version == entry["active"], "metrics": version.metrics,
                             "classes": version.classes, "created": version.created})
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        m = r["metrics"]
        mark = "*" if r["active"] else " "
        print(f"{mark} {r['hydra']}/{r['head']} v{r['version']}: F1 {m.get('f1', 0):.3f}, mAP50 "
              f"{m.get('mAP50', 0):.3f}, mAP50-95 {m.get('mAP50-95', 0):.3f}, {len(r['classes'])} classes")
    if not rows:
        print("no hydra models in this project (yolo-studio hydra extract ...)")
    return 0


def _promote(args, project, hydra_dir) -> int:
    _store(hydra_dir, args.hydra).promote(args.head, args.version)
    return _out(args, {"head": args.head, "active": args.version}, f"'{args.head}' v{args.version} is active")


def _rollback(args, project, hydra_dir) -> int:
    version = _store(hydra_dir, args.hydra).rollback(args.head)
    return _out(args, {"head": args.head, "active": version}, f"'{args.head}' rolled back to v{version}")


def _cleanup(args, project, hydra_dir) -> int:
    deleted = _store(hydra_dir, args.hydra).cleanup(args.head, args.keep)
    return _out(args, {"head": args.head, "deleted": deleted},
                f"deleted {', '.join(f'v{v}' for v in deleted) or 'nothing'}")


def _detect(args, project, hydra_dir) -> int:
    from yolo_studio.deploy.predict import expand_sources
    from yolo_studio.hydra.model import HydraDetector
    from yolo_studio.hydra.store import training_imgsz

    store = _store(hydra_dir, args.hydra)
    detector = HydraDetector(store, args.device, args.together)
    heads = detector.load_active()
    imgsz = args.imgsz or training_imgsz(store)  # the heads' training size: another one gives wrong boxes
    for image in expand_sources(args.sources):
        result = detector.detect(image, imgsz, args.conf, args.iou)
        result["source"] = str(image)
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        found = ", ".join(f"{o['head']}:{o['name']} {o['conf']:.2f}" for o in result["objects"][:10]) or "nothing"
        timing = ", ".join(f"{k} {v:.1f}" for k, v in result["timing"].items())
        print(f"{image}: {found} ({timing} ms)")
    if not args.json:
        print(f"{len(heads)} active head{'s' if len(heads) != 1 else ''}: " + ", ".join(f"{v.head} v{v.version}" for v in heads))
    return 0
