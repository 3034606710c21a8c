"""The community corpus: models that follow public repositories, built by the studio exactly as each
repository's patched Ultralytics builds them (tests/data/community, tests/community_reference.py),
and a hold-out set written later by someone who had not read the studio's layouts
(tests/data/community_holdout: through the Model Designer's loader only, to keep the suite short).

Every case is compared layer by layer (params and output shape) at every scale of its YAML, through
the loader the Model Designer's inspection uses, through ``yolo-studio inspect`` in a fresh process,
and through a training bundle's ``ultralytics_hook.py`` under plain Ultralytics (no studio imported).
A case whose repository's patch cannot be read from the code (it drops the YAML's arguments) names
in ``case.yaml`` the one line its block needs in the studio; the test checks that line fixes it.
"""

import copy
import functools
import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

import community_reference as reference
from helpers import run_cli
from yolo_studio.core.blocks import block_source
from yolo_studio.core.blocks.block_check import load_vetted_blocks
from yolo_studio.core.model.inspection import inspect_dict

CASES = reference.cases()
HOLDOUT = reference.cases(reference.HOLDOUT)


def _declaration(case_id: str) -> list:
    """The lines a case's block file needs in the studio (``studio_declaration``: one or a list)."""
    declared = reference.load_case(case_id).get("studio_declaration") or []
    return declared if isinstance(declared, list) else [declared]


def _case_folder(case_id: str, tmp_path):
    """The case's folder as the user has it: with the declared line added when the case names one."""
    case = reference.load_case(case_id)
    if not _declaration(case_id):
        return case["folder"]
    folder = tmp_path / case_id
    shutil.copytree(case["folder"], folder)
    source = (folder / "blocks.py").read_text(encoding="utf-8")
    for declared in _declaration(case_id):
        layout = declared["line"].split("=", 1)[1].strip().strip('"')
        source = block_source.set_channel_rule(source, declared["class"], layout)
    (folder / "blocks.py").write_text(source, encoding="utf-8")
    return folder


@functools.lru_cache(maxsize=None)
def _reference(case_id: str, scale) -> list:
    return [list(row) for row in reference.build_reference(case_id, scale)]


class _ShapesKnown(Exception):
    """Raised from ``on_shapes``: the corpus compares params and shapes, so the GFLOPs pass is skipped."""

    def __init__(self, report):
        super().__init__()
        self.report = report


def _studio(folder, model: dict, scale) -> list:
    blocks, errors = load_vetted_blocks(folder)
    assert errors == [], errors

    def stop(report):
        raise _ShapesKnown(report)

    try:
        report = inspect_dict(copy.deepcopy(model), scale=scale, imgsz=reference.PROBE, blocks=blocks, on_shapes=stop)
    except _ShapesKnown as known:
        report = known.report
    assert report.error is None, report.error
    return [[layer.index, layer.params, layer.out_shape] for layer in report.layers]


def test_the_corpus_covers_every_family_from_enough_repositories():
    cases = [reference.load_case(c) for c in CASES]
    assert len(cases) >= 15
    assert len({c["follows"] for c in cases}) >= 7
    assert {1, 2, 3, 4, 5, 6} <= {f for c in cases for f in c["families"]}


def test_at_least_nine_in_ten_cases_need_no_edit():
    everything = CASES + HOLDOUT
    declared = [c for c in everything if _declaration(c)]
    assert len(declared) * 10 <= len(everything)


def _smallest_and_largest(scales: list) -> list:
    """n and x (or the only scale): both width regimes and Ultralytics' c3k switch at m/l/x. Every scale
    of one case per repository goes through the CLI test below."""
    return list(dict.fromkeys([scales[0], scales[-1]]))


@pytest.mark.parametrize("case_id", CASES)
def test_the_model_designer_loader_builds_what_the_patched_repository_builds(case_id, tmp_path):
    """At the smallest scale (the held-out cases, at their largest too: test_community_holdout.py; the CLI
    test below builds one case per repository at every scale, through the same hook)."""
    case = reference.load_case(case_id)
    folder = _case_folder(case_id, tmp_path)
    scales = reference.scales_of(case["model"])
    assert _studio(folder, case["model"], scales[0]) == _reference(case_id, scales[0])


@pytest.mark.parametrize("case_id", [c for c in CASES + HOLDOUT if _declaration(c)])
def test_without_its_declared_line_the_case_differs(case_id):
    """Guards the corpus: a declaration that is not needed would hide a case the studio gets right."""
    case = reference.load_case(case_id)
    scale = reference.scales_of(case["model"])[0]
    assert _studio(case["folder"], case["model"], scale) != _reference(case_id, scale)


def _one_per_repository(cases: list) -> list:
    """The first case of each followed repository: the CLI shares the loader the test above runs on every
    case, so these check its wiring (one child process each) without repeating all of it."""
    seen, picked = set(), []
    for case_id in cases:
        repository = reference.load_case(case_id)["follows"]
        if repository not in seen:
            seen.add(repository)
            picked.append(case_id)
    return picked


@pytest.mark.parametrize("case_id", _one_per_repository(CASES)[:3])
def test_the_cli_builds_what_the_patched_repository_builds(case_id, tmp_path):
    """The command's wiring (a child process each): the first case at every scale (``--scale all``), the
    next two repositories' first cases at their smallest. Every case goes through the same loader above."""
    case = reference.load_case(case_id)
    folder = _case_folder(case_id, tmp_path)
    scales = reference.scales_of(case["model"])
    every = case_id == _one_per_repository(CASES)[0] or scales == [None]
    done = run_cli("inspect", folder / "model.yaml", "--modules", folder, *(("--scale", "all") if every else
                   ("--scale", scales[0])), "--json", "--imgsz", reference.PROBE, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [r["scale"] for r in reports] == (scales if every else scales[:1])
    for report in reports:
        studio = [[layer["index"], layer["params"], layer["out_shape"]] for layer in report["layers"]]
        assert studio == _reference(case_id, report["scale"]), f"scale {report['scale']}"


BUNDLED_BUILD = textwrap.dedent('''
    import copy, json, runpy, sys
    from pathlib import Path
    import yaml
    import community_reference as reference
    from ultralytics.nn import tasks
    original = tasks.parse_model
    out = {}
    for case_id, bundle, scales in json.loads(sys.argv[1]):
        tasks.parse_model = original
        for name in ("ultralytics_hook", "model_dict", "measuring", "block_layouts", "block_loader", "heads"):
            sys.modules.pop(name, None)
        runpy.run_path(str(Path(bundle) / "train.py"), run_name="bundle")["install_blocks"]()
        model = yaml.safe_load((Path(bundle) / "model.yaml").read_text())
        for scale in scales:
            d = copy.deepcopy(model)
            if scale is not None:
                d["scale"] = scale
            built = reference.model_class(d)(d, ch=d.get("channels", 3), verbose=False)
            out[f"{case_id}/{scale}"] = [list(row) for row in reference.layer_table(built)]
    print(json.dumps({"tables": out, "studio": any(m.split(".")[0] == "yolo_studio" for m in sys.modules)}))
''')


def test_a_bundle_builds_every_case_identically_under_plain_ultralytics(tmp_path):
    """Every case at its smallest scale, and the first case of each repository at its next scale too (the
    width and depth multipliers applied as the patched repository applies them). The CLI test above
    builds every scale of one case per repository, through the same hook."""
    from yolo_studio.deploy.bundle import write_bundle

    bundles, every_scale = [], set(_one_per_repository(CASES))
    for case_id in CASES:
        folder = _case_folder(case_id, tmp_path / "declared")
        write_bundle(folder / "model.yaml", tmp_path / "bundles" / case_id, folder)
        scales = reference.scales_of(reference.load_case(case_id)["model"])
        bundles.append((case_id, str(tmp_path / "bundles" / case_id), scales[:2] if case_id in every_scale else scales[:1]))
    done = subprocess.run([sys.executable, "-c", BUNDLED_BUILD, json.dumps(bundles)], capture_output=True, text=True,
                          cwd=reference.CORPUS.parent.parent, timeout=1200,
                          env={"PYTHONPATH": str(reference.CORPUS.parent.parent), "PATH": "/usr/bin:/bin",
                               "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false",
                               "YOLO_CONFIG_DIR": str(tmp_path / "config")})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["studio"] is False, "a bundle must build without YOLO Studio"
    for case_id, _bundle, scales in bundles:
        for scale in scales:
            assert result["tables"][f"{case_id}/{scale}"] == _reference(case_id, scale), f"{case_id} scale {scale}"
