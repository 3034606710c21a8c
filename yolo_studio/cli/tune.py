"""``yolo-studio tune``: hyperparameter tuning from a terminal, with the Tune page's options.

Trials run one after another here (Ultralytics' ``Tuner``), or in parallel on a Ray cluster
(``--cluster``: Ray Tune with ASHA). One line per finished trial; the tuning is a run folder
(``tune_results.csv``, ``best_hyperparameters.yaml``) that ``--resume`` continues.
"""

from __future__ import annotations

import sys


def add_parsers(sub) -> dict:
    p = sub.add_parser("tune", help="tune hyperparameters (here, or on a Ray cluster) in a run folder",
                       description="Search hyperparameters from Ultralytics' default space. Ctrl+C stops after the "
                                   "current trial here (the tuning stays resumable); twice kills.")
    p.add_argument("--model", metavar="MODEL", help="model YAML, or a checkpoint (.pt)")
    p.add_argument("--data", metavar="DATA.yaml")
    p.add_argument("--modules", default=None, metavar="DIR", help="folder of custom block files (*.py)")
    p.add_argument("--project", default=".", metavar="DIR")
    p.add_argument("--name", default=None, help="run name (default: tune, tune-2, ...)")
    p.add_argument("--iterations", type=int, default=10, help="trials (default 10)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    p.add_argument("--fitness", default="fitness",
                   help="what to maximise: Ultralytics' fitness (default) or a metric, e.g. 'metrics/mAP50(B)'")
    p.add_argument("--hours", type=float, default=None, help="stop after this many hours (with --iterations)")
    p.add_argument("--only", default=None, metavar="K1,K2", help="tune only these hyperparameters")
    p.add_argument("--range", action="append", default=[], metavar="KEY=MIN:MAX",
                   help="a range other than Ultralytics' default (repeatable)")
    p.add_argument("--cluster", default=None, metavar="NAME|URL", help="trials in parallel on a Ray cluster")
    p.add_argument("--gpus-per-trial", type=int, default=0)
    p.add_argument("--grace-period", type=int, default=1, help="epochs before ASHA may stop a trial (cluster)")
    p.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a stopped tuning")
    p.add_argument("--list-space", action="store_true", help="print the default search space and exit")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="fixed training arguments, as for `yolo train`")
    return {"tune": cmd_tune}


def search_space(only: str | None, ranges: list) -> dict:
    """Ultralytics' default space, narrowed to ``only`` and with ``ranges`` (``KEY=MIN:MAX``) applied."""
    from yolo_studio.training.tuning import default_space

    space = default_space()
    if only:
        wanted = [k.strip() for k in only.split(",") if k.strip()]
        unknown = [k for k in wanted if k not in space]
        if unknown:
            raise ValueError(f"not in the search space: {', '.join(unknown)} (see yolo-studio tune --list-space)")
        space = {k: space[k] for k in wanted}
    for text in ranges:
        key, _, bounds = text.partition("=")
        low, _, high = bounds.partition(":")
        try:
            space[key.strip()] = [float(low), float(high)]
        except ValueError:
            raise ValueError(f"--range {text}: give it as KEY=MIN:MAX, e.g. lr0=0.001:0.02") from None
    return space


def cmd_tune(args) -> int:
    import os

    from yolo_studio.training import headless, tuning
    from yolo_studio.training.train_config import parse_overrides

    os.environ["YOLO_VERBOSE"] = "true"
    out = lambda line: print(line, flush=True)  # noqa: E731
    if args.list_space:
        for key, (low, high) in tuning.default_space().items():
            print(f"{key}\t{low:g}\t{high:g}")
        return 0
    if args.resume:
        return headless.tune_resume(args.resume, out, args.cluster)
    if not args.model or not args.data:
        print("error: give --model MODEL.yaml and --data DATA.yaml (or --resume RUN_DIR)", file=sys.stderr)
        return 2
    settings = tuning.tune_settings(search_space(args.only, args.range), args.iterations, args.epochs, args.fitness,
                                    args.hours, args.gpus_per_trial, args.grace_period)
    return headless.tune_new(args.model, args.data, args.project, args.name, parse_overrides(args.overrides),
                             settings, args.modules, out, cluster=args.cluster)

