"""``events.jsonl``: one JSON object a line, appended by the training process, tailed by the studio.

Event types (every event has ``type`` and ``time``):

- ``run_start``: ``pid``, ``resumed``, ``epochs``, ``config`` (the resolved arguments), ``save_dir``
- ``batch``: ``epoch`` (1-based), ``epochs``, ``batch``, ``batches``, ``losses`` {name: value}, ``memory_gb``
  (throttled: at most a few a second)
- ``epoch_end``: ``epoch``, ``epochs``, ``metrics`` (exactly the row Ultralytics writes to results.csv,
  without ``epoch`` and ``time``), ``epoch_time``, ``eta``, ``memory_gb``
- ``final``: ``metrics`` of the best weights after the last epoch (Ultralytics' extra
  ``on_fit_epoch_end`` after ``final_eval``; never another epoch)
- ``checkpoint``: ``epoch``, ``path``
- ``transfer``: ``weights``, ``headline``, ``total``, ``loaded``, ``plain`` (a YAML model started from a
  checkpoint: tensors the studio transferred by structure, and what plain Ultralytics would have)
- ``run_end``: ``status`` (completed | stopped), ``best_epoch``, ``best_fitness``, ``best``, ``last``
- ``error``: ``message`` (what to do), ``detail`` (the exception)
- ``killed``: written by the supervisor when it kills the process
- ``cluster_job``: ``cluster``, ``address``, ``job_id``, ``gpus``, ``resumed`` (written by the studio when
  it submits the run to a Ray cluster; the node's events follow it, copied from the job's log)
- ``lost``: ``job_id``, ``reason``, ``checkpoint`` (the cluster no longer knows the job, or stayed
  unreachable: the run resumes from its last checkpoint)
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from yolo_studio.core.processes import pid_alive  # noqa: F401  (part of this module's interface)

TERMINAL = ("run_end", "error", "killed", "lost")


class EventWriter:
    """Appends events; each line is flushed so a reader never waits for a buffer."""

    def __init__(self, path: str | Path, echo=None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self.echo = echo  # called with each event written (the headless command prints epochs)

    def write(self, type_: str, **fields) -> dict:
        event = {"type": type_, "time": round(time.time(), 3), **fields}
        self._file.write(json.dumps(event, default=_plain) + "\n")
        self._file.flush()
        if self.echo is not None:
            self.echo(event)
        return event

    def close(self) -> None:
        self._file.close()


def append_event(path: str | Path, type_: str, **fields) -> dict:
    writer = EventWriter(path)
    try:
        return writer.write(type_, **fields)
    finally:
        writer.close()


def _plain(value):
    """JSON for numpy and torch scalars, paths and anything else printable."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, RuntimeError):
            pass
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class EventTail:
    """Reads new complete lines of an events file from where it stopped last time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.offset = 0
        self._partial = b""

    def read(self) -> list:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a torn line (the writer was killed mid-write): skip it
        return events


def read_events(path: str | Path) -> list:
    return EventTail(path).read()


def training_process(events: list) -> tuple:
    """(pid, start time) of the process that trains the run (the distributed launcher's for several
    GPUs, the root of every rank), from its latest start; (None, None) if it never started."""
    starts = [e for e in events if e["type"] == "run_start"]
    if not starts:
        return None, None
    last = starts[-1]
    if last.get("launcher_pid"):
        return last["launcher_pid"], last.get("launcher_started")
    return last.get("pid"), last.get("started")


def run_processes(events: list) -> list:
    """[(pid, start time)] of every process of the run's latest start: the distributed launcher, rank 0 (its
    ``run_start``) and each other rank (their ``rank_start``). A rank whose launcher died is no longer under
    it: only these records find it."""
    starts = [i for i, e in enumerate(events) if e["type"] == "run_start"]
    if not starts:
        return []
    first = events[starts[-1]]
    found = [(first.get("launcher_pid"), first.get("launcher_started")), (first.get("pid"), first.get("started"))]
    # a rank may record itself just before rank 0's run_start: the ranks of the same launcher count too
    found += [(e.get("pid"), e.get("started")) for e in events[max(starts[-1] - 8, 0):]
              if e["type"] == "rank_start" and e.get("launcher_pid") == first.get("launcher_pid")]
    return [(pid, started) for pid, started in dict.fromkeys(found) if pid]


def on_cluster(events: list) -> bool:
    """Whether the run's latest start went to a cluster: a ``cluster_job``, or a ``run_start`` copied from
    a node (it names the job), and no local start after it."""
    for event in reversed(events):
        if event["type"] == "cluster_job" or (event["type"] == "run_start" and event.get("cluster_job")):
            return True
        if event["type"] == "run_start":
            return False
    return False


def run_alive(events: list) -> bool:
    """Whether the process that trains the run still runs: its pid and its start time (an older run
    recorded no start time: its pid alone, as before). A cluster run counts as alive until the studio
    records how its job ended (its pids are the node's, not this computer's)."""
    if on_cluster(events):
        return True
    pid, started = training_process(events)
    return pid_alive(pid, started)


ENDED_EARLY = ("stopped", "killed", "failed", "crashed", "lost")  # statuses a run can resume from


def run_status(events: list, alive: bool | None = None) -> str:
    """new | queued | running | completed | stopped | failed | killed | lost | crashed, from a run's
    events and whether its training process still runs (``alive``; None: asked of the system,
    ``run_alive``). ``queued``: submitted to a cluster, not started there yet."""
    starts = [i for i, e in enumerate(events) if e["type"] in ("run_start", "cluster_job")]
    last_start = starts[-1] if starts else 0
    after = events[last_start:]  # without a start, an error is a run that failed while getting ready
    # its final checkpoint written: completed, even if the final validation or the plots then failed or died
    trained = any(e["type"] == "trained" for e in after)
    for event in reversed(after):
        if event["type"] == "run_end":
            return event.get("status", "completed")
        if event["type"] == "error":
            return "completed" if trained else "failed"
        if event["type"] in ("killed", "lost"):
            return "completed" if trained else event["type"]
    if not starts:
        return "new"
    if events[last_start]["type"] == "cluster_job":
        return "queued" if (run_alive(events) if alive is None else alive) else "crashed"
    if run_alive(events) if alive is None else alive:
        return "running"
    return "completed" if trained else "crashed"


def epoch_history(events: list) -> list:
    """The ``epoch_end`` events in epoch order, the latest wins when a resumed run repeats an epoch."""
    by_epoch = {}
    for event in events:
        if event["type"] == "epoch_end":
            by_epoch[event["epoch"]] = event
    return [by_epoch[k] for k in sorted(by_epoch)]


_SUFFIX = re.compile(r"\(([A-Z])\)$")  # Ultralytics marks box, mask and pose metrics (B), (M), (P)


def metric_group(key: str) -> tuple:
    """(plot title, curve label, dashed) of a metric key, from the key alone: a run's own keys make its
    plots, whatever the task. ``train/box_loss`` and ``val/box_loss`` share the plot "box_loss" (val
    dashed); ``metrics/mAP50(B)`` and ``metrics/mAP50-95(B)`` share "mAP (B)"; the learning rates of
    the parameter groups share "learning rate"; ``metrics/accuracy_top1`` and ``_top5`` share "accuracy"."""
    section, _, name = key.partition("/")
    if not name:
        return key, key, False
    if section in ("train", "val"):
        return name, section, section == "val"
    if section == "lr":
        return "learning rate", name, False
    marker = _SUFFIX.search(name)
    kind = f" ({marker.group(1)})" if marker else ""
    bare = _SUFFIX.sub("", name)
    if bare.startswith("mAP"):
        return f"mAP{kind}", bare, False
    if bare in ("precision", "recall"):
        return f"precision / recall{kind}", bare[0].upper(), False
    if bare.startswith("accuracy"):
        return "accuracy", bare.replace("accuracy_", ""), False
    return f"{bare}{kind}", bare, False


def metric_keys(history: list) -> list:
    """Every metric key of ``epoch_end`` events, in first-seen order."""
    keys: dict = {}
    for event in history:
        for key, value in (event.get("metrics") or {}).items():
            if value is not None:
                keys.setdefault(key, None)
    return list(keys)
