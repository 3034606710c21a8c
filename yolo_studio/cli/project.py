"""``yolo-studio`` commands around projects: demo, dataset, runs, registry, predict, export.

Kept apart from ``cli.py`` (the model commands) so each file stays readable. Every handler takes
the parsed arguments and returns an exit code: 0 done, 1 a user mistake (printed, no traceback).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def add_parsers(sub) -> dict:
    """Add the subcommands to ``sub``; returns {command: handler}."""
    demo = sub.add_parser("demo", help="write the demo project (shapes dataset, models, a CPU preset)")
    demo.add_argument("--dir", default=None, metavar="D", help="where (default: demo/ in the workspace)")

    ds = sub.add_parser("dataset", help="check and import datasets")
    ds_sub = ds.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    chk = ds_sub.add_parser("check", help="validate every image and label of a dataset (never modifies it)")
    chk.add_argument("path", metavar="PATH", help="data YAML, dataset folder, or classification folder")
    chk.add_argument("--task", default=None, choices=("detect", "segment", "pose", "obb", "classify"),
                     help="label format to expect (default: guessed from the labels)")
    chk.add_argument("--json", action="store_true", help="print the report as one JSON object")
    imp = ds_sub.add_parser("import", help="add a dataset to a project: a YOLO dataset (folder, data YAML, ZIP) "
                            "or an annotation export (COCO, VOC, CVAT, LabelMe, Label Studio, Darknet, DOTA, "
                            "class folders)")
    imp.add_argument("source", metavar="SOURCE", help="the export's annotation file or folder, or a ZIP")
    imp.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    imp.add_argument("--name", default=None, help="dataset name in the project (default: from the source)")
    imp.add_argument("--dry-run", action="store_true", help="show the preview of an export; write nothing")
    imp.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                     help="rename a class; two classes renamed to one name are merged (repeatable)")
    imp.add_argument("--drop", action="append", default=[], metavar="CLASS", help="leave a class out (repeatable)")
    imp.add_argument("--keep", action="append", default=[], metavar="CLASS",
                     help="keep a class the preview drops (one only tags or lines use) (repeatable)")
    imp.add_argument("--split", default=None, metavar="train=0.8,val=0.2[,test=0]",
                     help="ratios for an export without its own split (default train=0.8,val=0.2)")
    imp.add_argument("--resplit", action="store_true", help="split by ratio even when the export has a split")
    imp.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    imp.add_argument("--task", default=None, choices=("detect", "segment"),
                     help="boxes only, or outlines (default: segment when the export has polygons or masks)")
    imp.add_argument("--annotator", default=None, metavar="WHO",
                     help="Label Studio: whose annotations to use (default: each task's latest)")
    imp.add_argument("--again", action="store_true", help="import an export already imported, as a new dataset")
    lst = ds_sub.add_parser("list", help="the datasets of a project")
    lst.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")

    runs = sub.add_parser("runs", help="the training runs of a project")
    runs.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")

    reg = sub.add_parser("registry", help="register trained models and list them")
    reg_sub = reg.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    add = reg_sub.add_parser("add", help="register a run's best.pt as the next version of NAME")
    add.add_argument("run", metavar="RUN", help="run folder, or a run name in the project")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    add.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    pro = reg_sub.add_parser("promote", help="make a version the one in use: the bare NAME (and the Inference tab) "
                                             "follow its alias")
    pro.add_argument("ref", metavar="NAME:vN")
    pro.add_argument("--alias", default="production", help="default: production")
    pro.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    rol = reg_sub.add_parser("rollback", help="give an alias back to the version it held before")
    rol.add_argument("name", metavar="NAME")
    rol.add_argument("--alias", default="production", help="default: production")
    rol.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    rls = reg_sub.add_parser("list", help="registered models and their metrics")
    rls.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    rls.add_argument("--json", action="store_true")

    pre = sub.add_parser("predict", help="run a model on images, folders or videos")
    pre.add_argument("model", metavar="MODEL", help="a .pt file, a run folder, or (with --project) a run or "
                                                   "registry name (NAME or NAME:vN)")
    pre.add_argument("sources", nargs="+", metavar="SOURCE")
    pre.add_argument("--project", default=None, metavar="DIR")
    pre.add_argument("--conf", type=float, default=0.25)
    pre.add_argument("--iou", type=float, default=0.7)
    pre.add_argument("--imgsz", type=int, default=None, help="default: the size the model was trained at")
    pre.add_argument("--device", default="cpu")
    pre.add_argument("--save", default=None, metavar="DIR", help="write annotated images here")
    pre.add_argument("--json", action="store_true", help="one JSON object per image")

    exp = sub.add_parser("export", help="export a model (ONNX, TorchScript, ...) and verify it")
    exp.add_argument("model", metavar="MODEL", help="as for predict")
    exp.add_argument("--format", default="onnx", help="onnx, torchscript, ... (see --list)")
    exp.add_argument("--list", action="store_true", help="list the formats and whether they work here")
    exp.add_argument("--project", default=None, metavar="DIR")
    exp.add_argument("--imgsz", type=int, default=None, help="default: the size the model was trained at")
    exp.add_argument("--half", action="store_true")
    exp.add_argument("--dynamic", action="store_true")
    exp.add_argument("--simplify", action="store_true")
    exp.add_argument("--opset", type=int, default=None)
    exp.add_argument("--device", default="cpu")
    exp.add_argument("--verify", nargs="*", default=None, metavar="IMAGE",
                     help="ONNX: run the export with onnxruntime on these images (or the model's val images) "
                          "and compare with PyTorch")
    exp.add_argument("--json", action="store_true")
    desk = sub.add_parser("install-desktop", help="add YOLO Studio to the Linux application menu (icon, entry)")
    desk.add_argument("--uninstall", action="store_true", help="remove the entry and the icon again")
    dev = sub.add_parser("devices", help="CUDA devices with memory and utilisation, or the CPU")
    dev.add_argument("--json", action="store_true")
    prb = sub.add_parser("probe", help="check that the installed Ultralytics still works as YOLO Studio assumes")
    prb.add_argument("--json", action="store_true")
    return {"install-desktop": cmd_install_desktop, "devices": cmd_devices, "probe": cmd_probe, "demo": cmd_demo, "dataset": cmd_dataset, "runs": cmd_runs, "registry": cmd_registry,
            "predict": cmd_predict, "export": cmd_export}


def _project(path):
    from yolo_studio.core.project.projects import open_project

    return open_project(path)


# ---------------------------------------------------------------------- devices and demo


def cmd_install_desktop(args) -> int:
    from yolo_studio.core import desktop

    paths = desktop.uninstall() if args.uninstall else desktop.install()
    verb = "removed" if args.uninstall else "wrote"
    print("\n".join(f"{verb} {p}" for p in paths) or "nothing to remove")
    return 0


def cmd_devices(args) -> int:
    from yolo_studio.core.devices import describe_devices, lines

    info = describe_devices()
    print(json.dumps(info) if args.json else "\n".join(lines(info)))
    return 0


def cmd_probe(args) -> int:
    """Exit code 0 when every assumption holds, 1 with one line per one that does not."""
    from yolo_studio.compat import model_dict, probe

    found = probe.probe()
    if args.json:
        print(json.dumps({"ultralytics": model_dict.version(), "tested": model_dict.TESTED,
                          "mismatches": [{"subject": m.subject, "what": m.what} for m in found]}))
    elif found:
        print(probe.report(found, per_subject=None), file=sys.stderr)
    else:
        print(f"Ultralytics {model_dict.version()}: every assumption YOLO Studio makes about it holds")
    return 1 if found else 0


def cmd_demo(args) -> int:
    from yolo_studio.training.demo_project import DATA, DEMO_FOLDER, MODEL, PRESET, TASK_DATASETS, create_demo
    from yolo_studio.core.project.projects import workspace_dir

    root = Path(args.dir) if args.dir else workspace_dir() / DEMO_FOLDER
    project = create_demo(root)
    print(f"wrote the demo project {project.root}\n"
          f"  train it: yolo-studio train --project {project.root} --model {project.resolve(MODEL)} "
          f"--data {project.resolve(DATA)} --preset '{PRESET}'\n"
          f"  open it:  yolo-studio gui --project {project.root}\n"
          "  the other tasks:")
    for task, (folder, model) in TASK_DATASETS.items():
        data = project.datasets_dir / folder
        print(f"    {task:<8}  yolo-studio train --project {project.root} --model {model} "
              f"--data {data if task == 'classify' else data / 'data.yaml'} --preset '{PRESET}'")
    return 0


# ---------------------------------------------------------------------- datasets


def cmd_dataset(args) -> int:
    return {"check": _dataset_check, "import": _dataset_import, "list": _dataset_list}[args.dataset_command](args)


def _dataset_check(args) -> int:
    from yolo_studio.core.data.dataset_validate import validate

    def progress(done, total):
        if not args.json and sys.stderr.isatty():
            print(f"\rchecking {done}/{total} images", end="", file=sys.stderr, flush=True)

    report = validate(args.path, args.task, progress)
    if args.json:
        print(json.dumps(report.to_json()))
        return 0 if not report.errors else 1
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"{args.path}: {report.task}, {len(report.names)} classes")
    for split, c in report.splits.items():
        print(f"  {split}: {c['images']} images, {c['labels']} label files, {c['instances']} objects, "
              f"{c['backgrounds']} without labels")
    for finding in report.findings:
        print(f"{finding.severity}: {finding.text()}")
    hidden = sum(report.counts.values()) - len(report.findings)
    if hidden:
        print(f"... and {hidden} more of the same kinds (see --json for counts)")
    print(report.summary())
    return 0 if not report.errors else 1


def _dataset_import(args) -> int:
    from yolo_studio.core.data.exports.plan import preview_text
    from yolo_studio.core.project.dataset_import import (import_dataset, is_yolo_dataset, plan_with_options,
                                                         unpack_for_preview)

    options = {"rename": dict(_pair(r, "--rename", "OLD=NEW") for r in args.rename), "drop": args.drop,
               "keep": args.keep,
               "ratios": _ratios(args.split) if args.split else None, "seed": args.seed, "resplit": args.resplit, "task": args.task,
               "annotator": args.annotator, "again": args.again}
    if args.dry_run:
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(args.source)
            if source.suffix.lower() == ".zip":
                source = unpack_for_preview(source, Path(scratch))
            if is_yolo_dataset(source):
                print(f"{args.source} is a YOLO dataset: it is registered as it is (nothing converted); "
                      "'yolo-studio dataset check' reads its labels")
            else:
                print(preview_text(plan_with_options(source, options).preview()))
        return 0
    result = import_dataset(args.source, _project(args.project), args.name, **options)
    print(result.message)
    return 0


def _ratios(text: str) -> dict:
    ratios = {}
    for key, value in (_pair(p, "--split", "train=0.8,val=0.2") for p in text.split(",")):
        if key not in ("train", "val", "test"):
            raise ValueError(f"--split {text}: the splits are train, val and test (not '{key}')")
        try:
            ratios[key] = float(value)
        except ValueError:
            raise ValueError(f"--split {text}: '{value}' is not a number; write it as train=0.8,val=0.2") from None
    return ratios


def _pair(text: str, option: str, example: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ValueError(f"{option} {text}: write it as {example}")
    return key.strip(), value.strip()


def _dataset_list(args) -> int:
    from yolo_studio.core.project.dataset_import import list_datasets

    for entry in list_datasets(_project(args.project)):
        print(f"{entry.name}\t{entry.task or '-'}\t{entry.data}")
    return 0


# ---------------------------------------------------------------------- runs and registry


def cmd_runs(args) -> int:
    from yolo_studio.training.cluster import cluster_info
    from yolo_studio.training.run_folder import RunFolder
    from yolo_studio.training.run_store import list_runs

    for s in list_runs(_project(args.project).runs_dir):
        on = (cluster_info(RunFolder(s.path)) or {}).get("cluster", "this computer")
        row = {"name": s.name, "status": s.status, "on": on, "model": s.model, "data": s.data,
               "epochs_done": s.epochs_done, "epochs": s.epochs, "best_map": s.best_map, "duration": s.duration,
               "started": s.started}
        if args.json:
            print(json.dumps(row))
        else:
            best = f"{s.best_map:.3f}" if s.best_map is not None else "-"
            print(f"{s.name}\t{s.status}\t{s.epochs_done}/{s.epochs} epochs\tmAP50-95 {best}\t{s.model}\ton {on}")
    return 0


def cmd_registry(args) -> int:
    from yolo_studio.training import registry

    project = _project(args.project)
    if args.registry_command == "add":
        run = Path(args.run) if Path(args.run).is_dir() else project.runs_dir / args.run
        entry = registry.register(project.registry_dir, run, args.name, args.tag)
        print(f"registered {entry.ref}: {entry.metrics} ({entry.weights})")
        return 0
    if args.registry_command in ("promote", "rollback"):
        entry = (registry.promote(project.registry_dir, args.ref, args.alias) if args.registry_command == "promote"
                 else registry.roll_back(project.registry_dir, args.name, args.alias))
        print(f"{entry.name}@{args.alias} is {entry.ref} ({entry.metrics})")
        return 0
    rows = registry.compare(registry.list_entries(project.registry_dir))
    for row in rows:
        print(json.dumps(row) if args.json else "\t".join(str(v if v is not None else "-") for v in row.values()))
    return 0


# ---------------------------------------------------------------------- predict and export


def _weights_and_imgsz(args):
    from yolo_studio.deploy.predict import resolve_model
    from yolo_studio.training.registry import list_entries
    from yolo_studio.training.run_store import run_imgsz

    project = _project(args.project) if args.project else None
    weights = resolve_model(args.model, project)
    imgsz = args.imgsz
    if imgsz is None:
        entry = next((e for e in list_entries(weights.parent.parent.parent) if e.weights == weights), None) \
            if weights.name == "model.pt" else None
        imgsz = entry.imgsz if entry else run_imgsz(weights.parent.parent)
    return weights, imgsz


def cmd_predict(args) -> int:
    from yolo_studio.deploy.predict import predict, timing_summary

    weights, imgsz = _weights_and_imgsz(args)

    def show(r):
        if args.json:
            print(json.dumps(r.to_json()), flush=True)
            return
        found = ", ".join(f"{o['name']} {o['conf']:.2f}" for o in r.objects[:8]) or "nothing"
        frame = f" frame {r.frame}" if r.frame is not None else ""
        t = r.timing
        print(f"{r.source}{frame}: {found} ({t.get('preprocess', 0):.1f} + {t.get('inference', 0):.1f} + "
              f"{t.get('postprocess', 0):.1f} ms)", flush=True)

    results = predict(weights, args.sources, args.conf, args.iou, imgsz, args.device, args.save, on_result=show)
    if not args.json:
        mean = timing_summary(results)
        print(f"{len(results)} images at imgsz {imgsz}; mean ms: " + ", ".join(f"{k} {v}" for k, v in mean.items()))
        if args.save:
            print(f"annotated images in {args.save}")
    return 0


def cmd_export(args) -> int:
    from yolo_studio.deploy import export as exporter

    if args.list:
        for f in exporter.formats():
            state = "available" if f.available else f"needs {', '.join(f.missing)}"
            print(f"{f.name}\t{state}\t{f.description}")
        return 0
    weights, imgsz = _weights_and_imgsz(args)
    out = exporter.export(weights, args.format, imgsz, args.half, args.dynamic, args.simplify, args.opset,
                          args.device)
    result = {"format": args.format, "file": str(out), "imgsz": imgsz}
    if args.verify is not None and args.format == "onnx":
        images = [Path(p) for p in args.verify] or exporter.sample_images(weights)
        if not images:
            raise ValueError("no sample images found for the model's dataset: give them after --verify IMAGE ...")
        check = exporter.verify_onnx(out, weights, images, imgsz)
        result["verification"] = {**check.__dict__, "ok": check.ok}
        if not args.json:
            print(check.text())
    print(json.dumps(result) if args.json else f"wrote {out}")
    return 0 if "verification" not in result or result["verification"]["ok"] else 1
