"""A window that goes while its thread still runs must not take the studio with it.

Qt aborts the process when a running QThread is destroyed. Each case runs in its own process, so a
regression fails this test with Qt's message instead of ending the whole suite."""

import subprocess
import sys
import textwrap

PRELUDE = """
    import gc, os, threading, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import shiboken6
    from PySide6 import QtWidgets
    from yolo_studio.workers import lifetime
    app = QtWidgets.QApplication([])

    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
"""


def run_case(body: str) -> str:
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_window_deleted_while_its_job_runs_cancels_the_job_and_hears_nothing_more():
    out = run_case("""
        from yolo_studio.workers.job import JobThread
        window, heard, started = QtWidgets.QWidget(), [], threading.Event()

        def work(job):
            started.set()
            while not job.is_cancelled():
                time.sleep(0.01)
            return "cancelled"

        job = JobThread(work, "slow", window)
        job.finished_with.connect(lambda result: heard.append(window.objectName()))  # would raise: window gone
        job.start()
        started.wait(10)
        shiboken6.delete(window)  # as Qt deletes a closed window, children first
        del job
        gc.collect()
        pump(0.5)
        print(heard, lifetime.live_threads())
    """)
    assert out.strip() == "[] []"


def test_a_task_thread_whose_owner_goes_mid_task_finishes_it_and_ends():
    out = run_case("""
        from yolo_studio.workers.task import TaskThread
        window = QtWidgets.QWidget()
        task = TaskThread("measure", window)
        task.submit(time.sleep, 0.3)
        time.sleep(0.05)
        shiboken6.delete(window)
        del task
        gc.collect()
        pump(1.0)
        print(len(lifetime.live_threads()))
    """)
    assert out.strip() == "0"


def test_a_task_thread_dropped_by_the_garbage_collector_and_threads_left_at_exit():
    out = run_case("""
        from yolo_studio.workers.task import TaskThread
        from yolo_studio.workers.job import JobThread

        class Owner:  # a reference cycle: only the collector frees it, at a moment no one chose
            def __init__(self):
                self.me, self.task = self, TaskThread("cycle")
        Owner()
        gc.collect()
        pump(0.3)
        print(len(lifetime.live_threads()))
        left = JobThread(lambda job: [time.sleep(0.01) for _ in range(1000) if not job.is_cancelled()])
        left.start()  # still running when the interpreter exits: cancelled and waited for
    """)
    assert out.strip() == "0"
