"""Following a cluster run: the job's log, read as it comes, becomes the run folder in the project.

``Follower`` is the studio's half of ``training.cluster``: the job's entrypoint (``cluster_job``) prints
the run's events and files into the job's log; this thread reads that log and writes the project's run
folder, so everything that watches a local run watches a cluster run unchanged.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time

from yolo_studio.training.cluster import (LOST_AFTER_S, TERMINAL_JOB, Cluster, _client, _save_info, cluster_info,
                                          job_status)
from yolo_studio.training.cluster_job import MARK
from yolo_studio.training.events import append_event, read_events
from yolo_studio.training.run_folder import RunFolder
from yolo_studio.training.tuning import write_results


class Follower(threading.Thread):
    """Writes the run folder from the job's log as it comes: events, the training log, files.

    Idempotent: following again (the studio reopened) reads the log from its start and skips what the
    run folder has already (``cluster.json`` counts the events and log bytes applied)."""

    def __init__(self, run: RunFolder, on_line=None):
        super().__init__(name=f"follow-{run.path.name}", daemon=True)
        self.folder, self.on_line = run, on_line
        self.info = cluster_info(run)
        if self.info is None:
            raise ValueError(f"{run.path} was not trained on a cluster")
        self.cluster = Cluster(self.info["cluster"], self.info["address"])
        self.status = "RUNNING"
        self.error = ""
        self._quit = threading.Event()
        self._parts: dict = {}
        self._node_run = None
        self._seen = {"events": 0, "log": 0}

    def stop_following(self) -> None:
        self._quit.set()

    def run(self) -> None:  # threading.Thread.run
        import asyncio

        unreachable_since = None
        while not self._quit.is_set():
            try:
                asyncio.run(self._tail())
                self.status = job_status(self.folder)
                if self.status in TERMINAL_JOB or self.status == "LOST":
                    break
                unreachable_since = None
            except Exception as exc:  # noqa: BLE001  (a cluster that went away: retry, then lost)
                self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                if self._forgotten():
                    self.status = "LOST"
                    break
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since >= LOST_AFTER_S:
                    self.status = "LOST"
                    break
            self._quit.wait(2.0)
        if not self._quit.is_set():
            self._finish()

    def _forgotten(self) -> bool:
        """The cluster answers and does not know the job (its head restarted without it)."""
        try:
            return job_status(self.folder) == "LOST"
        except Exception:  # noqa: BLE001  (unreachable: not an answer)
            return False

    async def _tail(self) -> None:
        client = _client(self.cluster)
        self._seen = {"events": 0, "log": 0}
        self._partial = ""
        async for chunk in client.tail_job_logs(self.info["job_id"]):
            self._apply(chunk)
            if self._quit.is_set():
                return

    def _apply(self, chunk: str) -> None:
        lines = (self._partial + chunk).split("\n")
        self._partial = lines.pop()
        log = []
        for line in lines:
            if line.startswith(MARK):
                kind, _, payload = line[len(MARK):].partition(" ")
                self._flush_log(log)
                log = []
                self._message(kind, json.loads(payload))
            else:
                log.append(line + "\n")
        self._flush_log(log)
        _save_info(self.folder, self.info)

    def _flush_log(self, lines: list) -> None:
        if not lines:
            return
        data = "".join(lines).encode("utf-8")
        start = self._seen["log"]
        self._seen["log"] += len(data)
        skip = max(0, self.info["applied"]["log"] - start)
        if skip < len(data):
            self.folder.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.folder.log, "ab") as f:
                f.write(data[skip:])
            self.info["applied"]["log"] += len(data) - skip
        if self.on_line:
            for line in lines:
                self.on_line(line)

    def _message(self, kind: str, payload: dict) -> None:
        if kind == "hello":
            self._node_run = payload["run_dir"]
        elif kind == "event":
            self._seen["events"] += 1
            if self._seen["events"] > self.info["applied"]["events"]:
                event = self._local_paths(payload)
                if event.get("type") == "run_start":  # its pid is the node's: the run is followed, not watched
                    event["cluster_job"] = self.info["job_id"]
                with open(self.folder.events, "a", encoding="utf-8") as f:
                    f.write(json.dumps(event) + "\n")
                self.info["applied"]["events"] += 1
                if event.get("type") == "trial_end":  # every trial's, a resumed tuning's earlier ones too
                    write_results(self.folder, read_events(self.folder.events))
        elif kind == "file":
            self._file_part(payload)

    def _local_paths(self, value):
        """The node's run folder in an event's paths becomes the project's."""
        if isinstance(value, str) and self._node_run and value.startswith(self._node_run):
            return str(self.folder.path) + value[len(self._node_run):]
        if isinstance(value, dict):
            return {k: self._local_paths(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._local_paths(v) for v in value]
        return value

    def _file_part(self, part: dict) -> None:
        rel = part["path"]
        if part["part"] == 0:
            self._parts[rel] = []
        if rel not in self._parts:
            return  # joined the log in the middle of this file: the next copy of it is whole
        self._parts[rel].append(base64.b64decode(part["data"]))
        if part["part"] == part["parts"] - 1:
            data = b"".join(self._parts.pop(rel))
            target = (self.folder.path / rel).resolve()
            if self.folder.path.resolve() not in target.parents or len(data) != part["size"]:
                return  # a path out of the run folder, or a torn file: never written
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, target)

    def _finish(self) -> None:
        """The job ended: what its events do not say, the studio writes (killed, failed, lost)."""
        events = read_events(self.folder.events)
        after = events[max((i for i, e in enumerate(events) if e["type"] == "cluster_job"), default=0):]
        if any(e["type"] in ("run_end", "error", "killed", "lost") for e in after):
            return
        if self.status == "STOPPED":
            append_event(self.folder.events, "killed", job_id=self.info["job_id"])
        elif self.status == "LOST":
            reason = ("the cluster no longer knows the job (its head restarted?)" if self._forgotten() else
                      f"the cluster was unreachable for {LOST_AFTER_S:.0f} s ({self.error})")
            append_event(self.folder.events, "lost", job_id=self.info["job_id"], reason=reason,
                         checkpoint=str(self.folder.last) if self.folder.last.exists() else None)
        else:
            message = ""
            try:
                message = _client(self.cluster).get_job_info(self.info["job_id"]).message or ""
            except Exception:  # noqa: BLE001
                pass
            append_event(self.folder.events, "error", message=f"the cluster job ended ({self.status.lower()}) without "
                         f"finishing the run: {message or 'see the log'}", detail=message)
