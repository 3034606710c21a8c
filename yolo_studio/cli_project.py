"""``yolo-studio`` commands around projects: demo, dataset, runs, registry, predict, export.

Kept apart from ``cli.py`` (the model commands) so each file stays readable. Every handler takes
the parsed arguments and returns an exit code: 0 done, 1 a user mistake (printed, no traceback).
"""

from __future__ import annotations

import json
import sys
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
    imp = ds_sub.add_parser("import", help="add a dataset folder, data YAML or release ZIP to a project")
    imp.add_argument("source", metavar="SOURCE")
    imp.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    imp.add_argument("--name", default=None, help="dataset name in the project (default: from the source)")
    lst = ds_sub.add_parser("list", help="the datasets of a project")
    lst.add_argument("--project", default=".", metavar="DIR", help="project folder (default .)")
    return {"demo": cmd_demo, "dataset": cmd_dataset}


def _project(path):
    from yolo_studio.core.projects import open_project

    return open_project(path)


# ---------------------------------------------------------------------- demo


def cmd_demo(args) -> int:
    from yolo_studio.core.demo_project import DATA, DEMO_FOLDER, MODEL, PRESET, create_demo
    from yolo_studio.core.projects import workspace_dir

    root = Path(args.dir) if args.dir else workspace_dir() / DEMO_FOLDER
    project = create_demo(root)
    print(f"wrote the demo project {project.root}\n"
          f"  train it: yolo-studio train --project {project.root} --model {project.resolve(MODEL)} "
          f"--data {project.resolve(DATA)} --preset '{PRESET}'\n"
          f"  open it:  yolo-studio gui --project {project.root}")
    return 0


# ---------------------------------------------------------------------- datasets


def cmd_dataset(args) -> int:
    return {"check": _dataset_check, "import": _dataset_import, "list": _dataset_list}[args.dataset_command](args)


def _dataset_check(args) -> int:
    from yolo_studio.core.dataset_validate import validate

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
    from yolo_studio.core.dataset_import import import_dataset

    result = import_dataset(args.source, _project(args.project), args.name)
    print(result.message)
    return 0


def _dataset_list(args) -> int:
    from yolo_studio.core.dataset_import import list_datasets

    for entry in list_datasets(_project(args.project)):
        print(f"{entry.name}\t{entry.task or '-'}\t{entry.data}")
    return 0
