"""A model whose measuring would exhaust memory is reported as the layer's error; nothing is allocated.

Found by the gesture soak: an expansion of 16 typed into C3k2 at scale x asked for 20 GB, and the
system killed the studio while it built the model for the designer's shapes."""

import resource
import threading

import pytest

from helpers import DEMO_MODEL_TEXT
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import BuildError
from yolo_studio.core.model.inspection import inspect_dict
from yolo_studio.core.model.memory_guard import GIB, OverBudget, memory_budget

MB = 1 << 20


def _demo(**changes) -> dict:
    d = ModelDocument.from_text(DEMO_MODEL_TEXT).to_dict()
    rows = d["backbone"] + d["head"]
    for index, row in changes.items():
        rows[int(index[1:])] = row
    return d


def _error(d, **options) -> BuildError:
    """The error a designer shows: raised while building, or the report's (running at imgsz)."""
    try:
        report = inspect_dict(d, **options)
    except BuildError as exc:
        return exc
    assert report.error is not None, "the model measured without an error"
    return report.error


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def test_a_typo_that_asks_for_gigabytes_of_weights_is_refused_before_allocating():
    d = _demo()
    d["scales"]["x"] = [1.0, 1.5, 512]  # Ultralytics' yolo11x
    row = next(i for i, r in enumerate(d["backbone"]) if r[2] == "C3k2" and len(r[3]) >= 2)
    d["backbone"][row] = [-1, 2, "C3k2", [1024, True, 16]]  # e=16 where 0.25 was meant: 12288 channels at x
    before = _peak_mb()
    with pytest.raises(BuildError) as error:
        inspect_dict(d, scale="x", imgsz=640)
    assert error.value.layer == row
    assert "C3k2 is too large to build:" in error.value.message
    assert "12288×12288×3×3" in error.value.message and "GB" in error.value.message
    assert "imgsz" not in error.value.message  # weights do not depend on the image size
    assert "arguments" in error.value.hint
    assert _peak_mb() - before < 1024  # the 5 GB weight was never touched


def test_maps_enlarged_again_and_again_are_refused_at_the_layer_that_would_not_fit():
    d = _demo()
    d["backbone"][1:1] = [[-1, 1, "nn.Upsample", [None, 2, "nearest"]] for _ in range(4)]
    d["head"] = [[-1, 1, "Conv", [8, 1, 1]], [-1, 1, "Classify", [10]]]  # small and valid after the backbone
    d["backbone"] = d["backbone"][:6]
    error = _error(d, scale="n", imgsz=640, memory_limit=256 * MB)
    # predicted before the resampling runs; or, where the process grew meanwhile (other threads of a busy
    # test process), measured after one of the resamplings, which then names its output instead
    assert "too large to run at imgsz" in error.message, error
    assert "resampling to" in error.message or "its output" in error.message, error
    assert d["backbone"][error.layer][2] == "nn.Upsample"


def test_attention_over_a_large_map_is_refused_before_the_scores_exist():
    d = _demo()
    d["backbone"][1] = [-1, 1, "C2PSA", [64]]  # attention right after the stem: every pixel attends every pixel
    error = _error(d, scale="n", imgsz=640)
    assert error.layer == 1
    assert "attention over 102,400 positions" in error.message, error


def test_a_refused_build_takes_no_time_and_keeps_no_memory():
    """e=8 at scale x: each weight fits the budget, their total does not. Their random initialisation used
    to fill 4 GB (13 s) before the total showed, and the failed build's frames kept it."""
    import gc
    import time

    from yolo_studio.core.model.memory_guard import _resident

    d = _demo()
    d["scales"]["x"] = [1.0, 1.5, 512]
    d["backbone"][2] = [-1, 2, "C3k2", [1024, True, 8]]
    before, started = _resident(), time.perf_counter()
    error = _error(d, scale="x", imgsz=640)
    assert "its weights and those of the layers before it would need" in error.message, error
    assert time.perf_counter() - started < 10
    gc.collect()
    assert _resident() - before < 512 * MB


def test_sizes_read_as_more_than_the_budget():
    from yolo_studio.core.model.memory_guard import sizes_text

    assert sizes_text(int(4.04 * GIB), 4 * GIB) == ("4.04 GB", "4.00 GB")
    assert sizes_text(5 * GIB, 4 * GIB) == ("5.0 GB", "4.0 GB")


def test_ordinary_models_measure_as_before_within_a_small_budget():
    report = inspect_dict(_demo(), scale="n", imgsz=640, memory_limit=512 * MB)
    assert report.error is None and report.params > 0


def test_the_budget_counts_this_thread_only_and_stops_when_left():
    import torch.nn as nn

    budget = memory_budget(1 * MB)
    other = []
    with budget:
        thread = threading.Thread(target=lambda: other.append(nn.Linear(1024, 1024)))  # 4 MB elsewhere
        thread.start()
        thread.join()
        with pytest.raises(OverBudget):
            nn.Linear(1024, 1024)
    assert other and nn.Linear(1024, 1024) is not None  # outside the budget: no checks
    assert OverBudget(2 * GIB, GIB, "x").needed == 2 * GIB
