"""The GPU check's plumbing: its two sizes (on a GPU, and the CPU rehearsal), the table it writes row by row
against its deadline, and commands run in a session of their own so that running out of time ends all of
what they started. The rows themselves are in gpu_check.py."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"imgsz": 320, "epochs": 2, "long_epochs": 25, "images": (256, 64), "device": "0", "workers": 4}
REHEARSAL = {"imgsz": 64, "epochs": 1, "long_epochs": 1, "images": (32, 8), "device": "cpu", "workers": 0}


class Check:
    """The rows so far, the run's deadline, and what later rows reuse (the data, the trained weights)."""

    def __init__(self, work: Path, deadline: float, out: Path | None, rehearse: bool):
        self.work, self.deadline, self.out, self.rehearse = work, deadline, out, rehearse
        self.settings = REHEARSAL if rehearse else SETTINGS
        self.rows: list = []  # (what, result, evidence)
        self.data = None
        self.best = None  # weights of the short training (custom blocks)
        self.detector = None  # weights of the long training, which detects
        self.device_name = "CPU only"

    @property
    def device(self) -> str:
        return self.settings["device"]

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def row(self, what: str, result: str, evidence: str = "") -> None:
        self.rows.append((what, result, evidence.replace("|", "/").replace("\n", " ")))
        print(f"[gpu_check] {what}: {result} {evidence}", flush=True)
        if self.out is not None:  # row by row: a run cut short still leaves what it found
            self.out.write_text(self.table())

    def table(self) -> str:
        lines = [f"GPU check, {time.strftime('%Y-%m-%d')}, {self.device_name}" +
                 (" (rehearsal on the CPU)" if self.rehearse else ""), "",
                 "| check | result | evidence |", "|---|---|---|"]
        lines += [f"| {what} | {result} | {evidence} |" for what, result, evidence in self.rows]
        return "\n".join(lines) + "\n"


def bounded(command: list, timeout: float, cwd=ROOT, env: dict | None = None) -> tuple:
    """(return code or None if it ran out of time, output): a command in a session of its own, so that running
    out of time ends it with every process it started (a trainer's dataloader workers and ranks included)."""
    child = subprocess.Popen([str(c) for c in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             cwd=cwd, env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        out, _ = child.communicate(timeout=max(timeout, 1))
        return child.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, _ = child.communicate()
        return None, out
