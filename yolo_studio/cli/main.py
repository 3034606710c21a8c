"""The ``yolo-studio`` command.

Subcommands: ``inspect`` (build and report per layer), ``check`` (validate without torch),
``fmt`` (load and write back), ``train`` (a run folder, headless). User mistakes end with a clear message and exit code 1, never a
traceback; exit code 2 is a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yolo_studio import __version__
from yolo_studio.cli.evaluate import add_parsers as add_evaluate_parsers
from yolo_studio.cli.hydra import add_parsers as add_hydra_parsers
from yolo_studio.cli.tune import add_parsers as add_tune_parsers
from yolo_studio.cli.project import add_parsers
from yolo_studio.cli.weights import add_parsers as add_weights_parsers
from yolo_studio.core.errors import ModelYamlError, StudioError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="yolo-studio", description="Design, train and test Ultralytics YOLO models offline.")
    p.add_argument("--version", action="version", version=f"yolo-studio {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ins = sub.add_parser("inspect", help="build models as Ultralytics does and report every layer")
    ins.add_argument("files", nargs="+", metavar="MODEL.yaml")
    ins.add_argument("--scale", default=None, help="scale to build (n, s, m, l, x) or 'all'; default: the first")
    ins.add_argument("--imgsz", type=int, default=640, help="square input size for shapes and GFLOPs (default 640)")
    ins.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    ins.add_argument("--json", action="store_true", help="one JSON object per line per (file, scale)")

    chk = sub.add_parser("check", help="validate model YAML without building it (fast, no torch)")
    chk.add_argument("files", nargs="+", metavar="MODEL.yaml")
    chk.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    chk.add_argument("--json", action="store_true", help="print the problems as JSON")

    gui = sub.add_parser("gui", help="open the studio window (the default with no command)")
    gui.add_argument("model", nargs="?", metavar="MODEL.yaml")
    gui.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    gui.add_argument("--project", default=None, metavar="DIR",
                     help="project folder to open (created when new or empty); default: the last one, else the demo")


    ren = sub.add_parser("render", help="draw a model's canvas offscreen to a PNG or SVG")
    ren.add_argument("model", metavar="MODEL.yaml")
    ren.add_argument("-o", "--output", required=True, metavar="OUT.png|OUT.svg")
    ren.add_argument("--scale", default=None, help="scale whose shapes and params the nodes show")
    ren.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    ren.add_argument("--json", action="store_true", help='print {"nodes": N, "edges": E}')

    mod = sub.add_parser("modules", help="custom block files")
    mod_sub = mod.add_subparsers(dest="modules_command", metavar="ACTION", required=True)
    mchk = mod_sub.add_parser("check", help="compile, import and smoke-test every block of a file")
    mchk.add_argument("file", metavar="FILE.py")
    mchk.add_argument("--json", action="store_true", help="print the result as one JSON object")
    mchk.add_argument("--timeout", type=float, default=30.0, help="seconds before the check is stopped (30)")
    mchk.add_argument("--onnx", action="store_true", help="also export each passing block alone to ONNX")

    bun = sub.add_parser("bundle", help="write a folder that trains the model with plain Ultralytics")
    bun.add_argument("model", metavar="MODEL.yaml")
    bun.add_argument("-o", "--output", required=True, metavar="OUT/")
    bun.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")

    trn = sub.add_parser("train", help="train a model in a run folder (same events and files as the studio)",
                         description="Train in <project>/runs/<name>/ with live events; Ctrl+C stops after "
                                     "the current batch (resumable), twice kills.")
    trn.add_argument("--model", metavar="MODEL", help="model YAML to train, or a checkpoint (.pt) to fine-tune")
    trn.add_argument("--weights", default=None, metavar="WEIGHTS.pt",
                     help="start a YAML model from these weights, each layer from the layer it matches")
    trn.add_argument("--data", metavar="DATA.yaml", help="dataset YAML")
    trn.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    trn.add_argument("--project", default=".", metavar="DIR", help="project folder; runs go to DIR/runs (default .)")
    trn.add_argument("--name", default=None, help="run name (default: train, train-2, ...)")
    trn.add_argument("--preset", default=None, help="a built-in preset or one of DIR/presets/*.yaml")
    trn.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a stopped, killed or crashed run")
    trn.add_argument("--continue", dest="continue_run", default=None, metavar="RUN_DIR",
                     help="a new run from a finished run's last weights and arguments (e.g. epochs=20 more)")
    trn.add_argument("--cluster", default=None, metavar="NAME|URL",
                     help="train on a Ray cluster: a name from Settings or its address, http://HEAD:8265")
    trn.add_argument("--gpus", type=int, default=0, help="GPUs per run on the cluster (default 0: its CPUs)")
    trn.add_argument("--attach", default=None, metavar="RUN_DIR", help="follow a cluster run again")
    trn.add_argument("--tensorboard", action="store_true", help="TensorBoard event files in the run folder")
    trn.add_argument("--mlflow", action="store_true", help="log to a local MLflow store in PROJECT/mlruns")
    trn.add_argument("overrides", nargs="*", metavar="key=value", help="training arguments, as for `yolo train`")

    project_handlers = {**add_parsers(sub), **add_hydra_parsers(sub), **add_weights_parsers(sub),
                        **add_tune_parsers(sub), **add_evaluate_parsers(sub)}

    fmt = sub.add_parser("fmt", help="load a model YAML and write it back in the studio's format")
    fmt.add_argument("file", metavar="MODEL.yaml")
    fmt.add_argument("-o", "--output", default=None, metavar="OUT", help="write here instead of in place")
    p.set_defaults(project_handlers=project_handlers)
    return p


def main(argv: list | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `yolo-studio ... | head`: the reader has all it wanted
        _silence_stdout()
        return 141  # what a shell reports for a process ended by SIGPIPE


def _resolve_model_names(args) -> None:
    """``yolo11n.yaml`` and the other names Ultralytics resolves itself work wherever a model YAML goes; the
    file and scale each one means is said once (on stderr: --json output stays one object a line)."""
    from yolo_studio.core.model.model_names import model_file

    def resolve(value):
        path, note = model_file(value)
        if note:
            print(f"note: {note}", file=sys.stderr)
        return str(path) if note else value

    if isinstance(getattr(args, "model", None), str):
        args.model = resolve(args.model)
    if isinstance(getattr(args, "files", None), list):
        args.files = [resolve(f) for f in args.files]


def parse(argv: list | None):
    """The command line; `train --model m.yaml epochs=3` takes key=value arguments after the options too."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) in ("train", "tune") and all("=" in e and not e.startswith("-") for e in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _main(argv: list | None) -> int:
    args = parse(argv)
    if args.command is None:
        args = _parser().parse_args(["gui", *(argv or sys.argv[1:])])
    if args.command != "fmt":  # fmt rewrites the file it is given: never Ultralytics' own
        _resolve_model_names(args)
    handler = {"inspect": cmd_inspect, "check": cmd_check, "fmt": cmd_fmt, "gui": cmd_gui,
               "render": cmd_render, "modules": cmd_modules, "bundle": cmd_bundle, "train": cmd_train,
               **args.project_handlers}[args.command]
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, while it can still be handled
        return code
    except (StudioError, ValueError) as exc:  # user mistakes: a clear message, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not report the closed pipe."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# --------------------------------------------------------------------------- check


def _load_with_problems(file: str, modules: str | None, unconfirmed: list | None = None):
    """(document or None, problems as dicts) for one file; ``unconfirmed`` receives the layers that
    only a build can confirm."""
    from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks
    from yolo_studio.core.model.document import ModelDocument
    from yolo_studio.core.model.validation import needs_build, validate

    try:
        doc = ModelDocument.load(file)
    except ModelYamlError as exc:
        return None, [{"severity": "error", "section": None, "layer": None, "line": exc.line,
                       "message": exc.message, "hint": exc.hint}]
    catalog, block_errors = catalog_with_blocks(modules)
    problems = [{"severity": "error", "section": "modules", "layer": None, "line": None,  # the line is the block
                 "message": str(e), "hint": "Fix the block file."} for e in block_errors]  # file's, in the message
    problems += [p.to_dict() for p in validate(doc, catalog)]
    if unconfirmed is not None:
        unconfirmed.extend(needs_build(doc, catalog))
    return doc, problems


def _describe(file: str, p: dict) -> str:
    where = f"{file}:{p['line']}" if p.get("line") else file
    layer = f" layer {p['layer']} ({p['section']}):" if p.get("layer") is not None else ""
    text = f"{where}: {p['severity']}:{layer} {p['message']}"
    return text + (f"\n  hint: {p['hint']}" if p.get("hint") else "")


def cmd_check(args) -> int:
    failed = False
    for file in args.files:
        confirm = []
        doc, problems = _load_with_problems(file, args.modules, confirm)
        errors = [p for p in problems if p["severity"] == "error"]
        failed |= bool(errors)
        if args.json:
            print(json.dumps({"file": file, "ok": not errors, "needs_build": confirm, "problems": problems}))
            continue
        for p in problems:
            print(_describe(file, p))
        if errors:
            continue
        if confirm:
            print(f"{file}: no problems found without a build, but needs a build to confirm: the calls of layers "
                  f"{', '.join(map(str, confirm))} (custom blocks) are decided on their real inputs; run "
                  f"`yolo-studio inspect {file}" + (f" --modules {args.modules}`" if args.modules else "`"))
        elif not problems:
            print(f"{file}: OK ({len(doc.rows)} layers)")
    return 1 if failed else 0


# --------------------------------------------------------------------------- train


def cmd_train(args) -> int:
    from yolo_studio.training.train_config import parse_overrides
    from yolo_studio.training import headless

    import os

    os.environ["YOLO_VERBOSE"] = "true"  # before Ultralytics is imported: the run log is its full output
    out = lambda line: print(line, flush=True)  # noqa: E731
    if args.attach:
        return _attach(args.attach, out)
    if args.resume:
        return headless.train_resume(args.resume, out, args.cluster, args.gpus)
    if args.continue_run:
        try:
            return headless.train_continue(args.continue_run, parse_overrides(args.overrides), args.name, out)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if not args.model or not args.data:
        print("error: give --model MODEL.yaml (or WEIGHTS.pt) and --data DATA.yaml (or --resume RUN_DIR)",
              file=sys.stderr)
        return 2
    try:
        overrides = parse_overrides(args.overrides)
        return headless.train_new(args.model, args.data, args.project, args.name, overrides, args.preset,
                                  args.modules, out, {"tensorboard": args.tensorboard, "mlflow": args.mlflow},
                                  weights=args.weights, cluster=args.cluster, gpus=args.gpus)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _attach(run_dir, out) -> int:
    from yolo_studio.training import cluster, headless
    from yolo_studio.training.run_folder import RunFolder

    run = RunFolder(Path(run_dir).resolve())
    if not cluster.is_cluster_run(run):
        print(f"error: {run.path} was not trained on a cluster (a local run is watched with yolo-studio runs)",
              file=sys.stderr)
        return 1
    return headless.attach_cluster(run, out)


# --------------------------------------------------------------------------- modules


def cmd_modules(args) -> int:
    from yolo_studio.core.blocks.block_check import check_file

    result = check_file(args.file, timeout=args.timeout, onnx=args.onnx)
    if args.json:
        print(json.dumps(result))
        return 0 if result["ok"] else 1
    if result["error"]:
        e = result["error"]
        where = f"{args.file}:{e['line']}" if e.get("line") else args.file
        print(f"{where}: error ({e['kind']}): {e['message']}")
    for b in result["blocks"]:
        where = f"{args.file}:{b['line']}" if b.get("line") else args.file
        rule = f"rule {b['rule']}" + (" (declared)" if b["declared"] else " (inferred)")
        if b["ok"]:
            shape = "x".join(map(str, b["out_shape"]))
            print(f"{where}: {b['name']}: ok, {rule}, out {shape}, {b['params']:,} params, {b['ms']} ms")
            if "onnx" in b:
                print(f"{where}: {b['name']}: onnx: {'ok' if b['onnx']['ok'] else 'fails'}: {b['onnx']['message']}")
            for problem in b.get("training") or ():
                line = f"{args.file}:{problem['line']}" if problem.get("line") else where
                print(f"{line}: {b['name']}: warning: fails with {problem['when']} inputs, as in a GPU training "
                      f"({problem['message']}): {problem['advice']}")
        else:
            e = b["error"]
            line = f"{args.file}:{e['line']}" if e.get("line") else where
            used = f"it is used inside {b['helper']}, " if b.get("helper") else ""
            print(f"{line}: {b['name']}: warning: not built alone ({e['where']}: {e['message']}); {used}a model "
                  "that names it builds it on its real inputs")
    return 0 if result["ok"] else 1


def cmd_bundle(args) -> int:
    from yolo_studio.deploy.bundle import write_bundle

    doc, problems = _load_with_problems(args.model, args.modules)
    errors = [p for p in problems if p["severity"] == "error"]
    if errors:
        for p in errors:
            print(_describe(args.model, p))
        print("error: fix the model before bundling it")
        return 1
    train = write_bundle(args.model, args.output, args.modules)
    print(f"wrote {train.parent}: run `python {train} --data DATA.yaml --epochs N` on any machine with ultralytics")
    return 0


# --------------------------------------------------------------------------- fmt


def cmd_fmt(args) -> int:
    from yolo_studio.core.model.document import ModelDocument

    doc = ModelDocument.load(args.file)
    out = doc.save(args.output or args.file)
    print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- windows


def cmd_gui(args) -> int:
    from yolo_studio.app import run_gui

    return run_gui(args.model, args.modules, args.project)


def cmd_render(args) -> int:
    from yolo_studio.app import render
    from yolo_studio.core.model.document import ModelDocument

    ModelDocument.load(args.model)  # a bad file is a clear error before any window work
    result = render(args.model, args.output, scale=args.scale, modules_dir=args.modules)
    print(json.dumps(result) if args.json else f"wrote {args.output}: {result['nodes']} nodes, {result['edges']} edges")
    return 0


# --------------------------------------------------------------------------- inspect


def _table(file: str, report) -> str:
    from yolo_studio.core.model.graph_model import format_shape

    head = (f"{file}  scale {report.scale or '-'}  imgsz {report.imgsz}  task {report.task} ({report.model_class})")
    lines = [head, f"{'#':>4}  {'from':<14}{'n':>3}  {'module':<18}{'args':<34}{'out shape':<16}{'params':>12}{'GFLOPs':>9}"]
    for layer in report.layers:
        args = str(layer.args)
        args = args if len(args) <= 32 else args[:29] + "..."
        lines.append(f"{layer.index:>4}  {str(layer.from_):<14}{layer.repeats:>3}  {layer.module:<18}{args:<34}"
                     f"{format_shape(layer.out_shape, 'x') or '-':<16}{layer.params:>12,}{layer.gflops:>9.3f}")
    lines.append(f"      {len(report.layers)} layers, {report.params:,} parameters, {report.gflops:.1f} GFLOPs")
    lines += [f"note: {n}" for n in report.notes]
    if report.error is not None:
        lines.append(f"error: {report.error.describe()}")
    return "\n".join(lines)


def _report_json(file: str, report) -> dict:
    return {"file": file, "scale": report.scale, "imgsz": report.imgsz, "task": report.task,
            "params": report.params, "gflops": report.gflops,
            "layers": [layer.to_dict() for layer in report.layers], "notes": report.notes}


def _error_json(file: str, scale, layer, message: str, line=None, hint: str = "") -> dict:
    return {"file": file, "scale": scale, "error": {"layer": layer, "message": message, "line": line, "hint": hint}}


def cmd_inspect(args) -> int:
    from yolo_studio.core.errors import BuildError

    from yolo_studio.core.blocks.block_check import load_vetted_blocks

    failed = False

    def emit_error(file, scale, layer, message, line=None, hint=""):
        nonlocal failed
        failed = True
        if args.json:
            print(json.dumps(_error_json(file, scale, layer, message, line, hint)), flush=True)
        else:
            where = f"{file}:{line}" if line else file
            print(f"{where}: error" + (f": layer {layer}" if layer is not None else "") + f": {message}"
                  + (f"\n  hint: {hint}" if hint else ""), file=sys.stderr)

    # the same loader as the Model Designer: a file loads when it compiles and imports
    blocks, block_errors = load_vetted_blocks(args.modules) if args.modules else ({}, [])
    if block_errors:
        for file in args.files:
            for exc in block_errors:
                emit_error(file, None, None, f"custom blocks: {exc}", None, "Fix the block file, then inspect again.")
        return 1
    from yolo_studio.core.model.inspection import inspect_dict

    for file in args.files:
        doc, problems = _load_with_problems(file, args.modules)
        errors = [p for p in problems if p["severity"] == "error"]
        if errors:
            first = errors[0]
            emit_error(file, args.scale if args.scale != "all" else None, first["layer"], first["message"],
                       first.get("line"), first.get("hint", ""))
            continue
        scales = doc.scales() if args.scale == "all" else [args.scale]
        if args.scale == "all" and not scales:
            scales = [None]
        for scale in scales:
            try:
                report = inspect_dict(doc.to_dict(), scale=scale, imgsz=args.imgsz, blocks=blocks)
            except BuildError as exc:
                emit_error(file, scale, exc.layer, exc.message, None, exc.hint)
                continue
            if report.error is not None:
                emit_error(file, report.scale, report.error.layer, report.error.message, None, report.error.hint)
                continue
            if args.json:
                print(json.dumps(_report_json(file, report), default=str), flush=True)
            else:
                print(_table(file, report) + "\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
