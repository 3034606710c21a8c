"""The GPU check runs anywhere: on this CPU its rehearsal runs every row a CPU can run, with the evidence each row
shows on a GPU, and says of each GPU-only row that it needs one; its deadline holds and its table is written row
by row. (On a GPU, benchmarks/gpu_check.sh runs every row: docs/PERFORMANCE.md.)"""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GPU_ONLY = ("batch=-1 (AutoBatch) on one GPU", "out of memory (imgsz 1280, batch 512)", "two GPUs on NCCL (device=0,1)",
            "FP16 against FP32 predictions", "TensorRT engine")


def _rows(table: Path) -> dict:
    lines = [line for line in table.read_text().splitlines() if line.startswith("| ") and "---" not in line][1:]
    return {cells[0]: (cells[1], cells[2]) for cells in
            ([c.strip() for c in line.strip("|").split(" | ")] for line in lines)}


@pytest.fixture(autouse=True)
def no_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the script runs its GPU rows (benchmarks/gpu_check.sh)")


def test_the_rehearsal_runs_every_cpu_row_with_its_evidence(tmp_path):
    table = tmp_path / "gpu.md"
    done = subprocess.run([str(ROOT / "benchmarks" / "gpu_check.sh"), "--rehearse", "--out", str(table)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    rows = _rows(table)
    assert rows["environment"][0] == "ok" and "CUDA_DEVICE_ORDER PCI_BUS_ID" in rows["environment"][1]
    for what in GPU_ONLY:
        assert rows[what] == ("skipped", "needs a CUDA device"), what
    ran = {what: result for what, (result, _) in rows.items() if what not in GPU_ONLY and what != "total"}
    assert all(result in ("ok", "skipped") for result in ran.values()), ran
    assert sum(result == "ok" for result in ran.values()) >= 9, ran
    train = rows["yolo-studio train: custom blocks, AMP, workers, cache=ram"][1]
    assert "AMP False" in train and "files downloaded none" in train and "process RSS" in train  # evidence, not "ok"
    assert "CUDA context in the studio's process afterwards: none" in \
        rows["studio inference on the device (worker process) against the CPU"][1]


def test_the_deadline_holds_and_the_table_is_written_as_it_goes(tmp_path):
    table = tmp_path / "gpu.md"
    done = subprocess.run([str(ROOT / "benchmarks" / "gpu_check.sh"), "--rehearse", "--deadline", "8", "--out",
                           str(table)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    rows = _rows(table)
    assert any(result == "skipped" and "out of time" in evidence for result, evidence in rows.values()), rows
    seconds = float(rows["total"][1].split(" s ")[0])
    assert seconds <= 8 + 15 and done.returncode == 0, rows  # a row may finish past its start's margin, not more
