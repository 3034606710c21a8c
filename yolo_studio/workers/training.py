"""Supervising a training process from the studio: a QThread that tails its events and log.

The training runs in a child process (``training.launch``); this thread only reads files and
emits plain data, so the UI never blocks on training and a crash in training is just an
ended process. The same thread attaches to a run it did not start (re-attach after the studio
was closed and opened again): it follows the pid from the run's events.
"""

from __future__ import annotations

import threading

from PySide6 import QtCore

from yolo_studio.training import launch
from yolo_studio.core.processes import pid_alive, started_at
from yolo_studio.training.events import EventTail, append_event, read_events, run_processes, run_status
from yolo_studio.training.run_folder import RunFolder
from yolo_studio.workers.lifetime import disconnect_all, keep_until_finished

POLL_MS = 100


class RunSupervisor(QtCore.QThread):
    """Follows one run: ``events`` (a list of event dicts), ``log`` (new text), ``ended`` (status)."""

    events = QtCore.Signal(list)
    log = QtCore.Signal(str)
    ended = QtCore.Signal(str)

    def __init__(self, run: RunFolder, process=None, parent=None, follower=None):
        super().__init__(parent)
        self.run_folder = run
        self.process = process  # a Popen we started, or None when attached to a running run
        self.follower = follower  # a cluster run: training.cluster.Follower writes the run folder from the job
        # the process by pid and start time: a pid alone could be a later, unrelated process
        self.pid, self.started = (process.pid, started_at(process.pid)) if process is not None else \
            (None, None) if follower is not None else launch.current_process(run)
        self._detach = False
        self.stop_requested = False
        self.setObjectName(f"supervise-{run.path.name}")

    @classmethod
    def on_cluster(cls, run: RunFolder, parent=None) -> RunSupervisor:
        """Follow a run submitted to a Ray cluster (submitted now, or found when the studio opens)."""
        from yolo_studio.training.cluster_follow import Follower

        return cls(run, None, parent, follower=Follower(run))

    @classmethod
    def start_run(cls, run: RunFolder, resume: bool = False, parent=None) -> RunSupervisor:
        """Start the training process; the supervisor is returned not yet started: connect its
        signals first, then ``start()`` it (an emission before the connection would be lost)."""
        process = launch.start(run, resume=resume, device=launch.resume_device(run))
        return cls(run, process, parent)

    def start(self, *args) -> None:
        keep_until_finished(self, on_orphaned=self._orphaned)
        super().start(*args)

    def _orphaned(self) -> None:
        """The window is gone: stop following (the training goes on) without telling it."""
        self._detach = True
        if self.follower is not None:
            self.follower.stop_following()
        disconnect_all(self.events, self.log, self.ended)

    def run(self) -> None:  # QThread.run: the supervising loop
        """Emit the run's events and log from the start (plots and log replay), then as they come."""
        tail, log_offset = EventTail(self.run_folder.events), 0
        if self.follower is not None:
            self.follower.start()
        while not self._detach:
            if events := tail.read():
                self.events.emit(events)
            log_offset = self._emit_log(log_offset)
            if self._ended():
                break
            QtCore.QThread.msleep(POLL_MS)
        if self._detach:
            return
        killer = getattr(self, "_killer", None)
        if killer is not None:  # a Kill under way records "killed" once every process has ended
            killer.join(timeout=30)
        if events := tail.read():
            self.events.emit(events)
        self._emit_log(log_offset)
        status = run_status(read_events(self.run_folder.events))
        self.ended.emit("crashed" if status in ("running", "new") else status)

    def _ended(self) -> bool:
        if self.follower is not None:
            return not self.follower.is_alive()
        ended = self.process.poll() is not None if self.process is not None else not pid_alive(self.pid, self.started)
        if ended:
            self._end_orphans()
        return ended

    def _end_orphans(self) -> None:
        """The launcher ended (killed, or died by itself): ranks it left behind would train on unseen, so
        they are ended too (the run is then crashed, resumable from its last checkpoint)."""
        orphans = [p for p in run_processes(read_events(self.run_folder.events)) if pid_alive(*p)]
        if orphans:
            launch.end_processes(orphans)
            append_event(self.run_folder.events, "note", message=f"the training process ended; {len(orphans)} of "
                                                                 "its processes were left running and were ended")

    def _emit_log(self, offset: int) -> int:
        try:
            with open(self.run_folder.log, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            return offset
        if chunk:
            self.log.emit(chunk.decode("utf-8", "replace"))
        return offset + len(chunk)

    def request_stop(self) -> None:
        """First press: graceful stop between batches. Second press: kill."""
        if not self.stop_requested:
            self.stop_requested = True
            if self.follower is not None:  # a one-line job sets the run's stop flag: not on the UI thread
                from yolo_studio.training import cluster

                threading.Thread(target=_quietly, args=(cluster.request_stop, self.run_folder), daemon=True).start()
            else:
                launch.request_stop(self.run_folder)
        else:
            self.kill()

    def kill(self) -> None:
        """Kill the run: off the UI thread (ending every process and waiting for them can take seconds)."""
        if self.follower is not None:
            from yolo_studio.training import cluster

            threading.Thread(target=_quietly, args=(cluster.stop_job, self.run_folder), daemon=True).start()
        elif self.pid:
            self._killer = threading.Thread(target=launch.kill, args=(self.run_folder, self.pid, self.started),
                                            name=f"kill-{self.run_folder.path.name}", daemon=True)
            self._killer.start()

    def detach(self) -> None:
        """Stop following; the training process keeps running (the studio is closing)."""
        self._detach = True
        if self.follower is not None:
            self.follower.stop_following()
        self.wait()


def _quietly(action, *args) -> None:
    """A stop sent to a cluster from a helper thread: a cluster gone meanwhile is the follower's news."""
    try:
        action(*args)
    except Exception:  # noqa: BLE001
        pass
