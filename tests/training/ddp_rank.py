"""One rank of a two-rank run on the CPU (gloo), started by torch.distributed.run as the studio starts
several GPUs: the studio's real batch callback (``EventCallbacks``) inside a loop shaped as
Ultralytics' (an all-reduce per batch, as backward does; the callback; ``if trainer.stop: break``;
then validation's broadcast). Ultralytics itself cannot run DDP without CUDA.

    python -m torch.distributed.run --nproc_per_node=2 tests/training/ddp_rank.py RUN_DIR [--forever]

Each rank prints ``rank R stopped after batch B`` and writes its pid to RUN_DIR/pids/R.
"""

import datetime
import os
import random
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from yolo_studio.training.events import EventWriter
from yolo_studio.training.run_folder import RunFolder
from yolo_studio.core.processes import started_at, this_process
from yolo_studio.training.runner import EventCallbacks, _NoEvents, announce_rank


class Trainer:
    """What the callback reads of Ultralytics' trainer."""

    def __init__(self):
        self.epoch, self.epochs, self.train_loader = 0, 1, range(1_000_000)
        self.tloss, self.device, self.stop = None, torch.device("cpu"), False
        self.metrics, self.lr, self.fitness, self.epoch_time = {}, {}, None, 1.0


def main() -> int:
    run, forever = RunFolder(Path(sys.argv[1])), "--forever" in sys.argv
    rank = int(os.environ["RANK"])
    (run.path / "pids").mkdir(exist_ok=True)
    (run.path / "pids" / str(rank)).write_text(str(os.getpid()))
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=20))
    writer = EventWriter(run.events) if rank == 0 else _NoEvents()
    announce_rank(run)  # every process of the run is on record, as the runner records them
    me, launcher = this_process(), os.getppid()
    writer.write("run_start", pid=me["pid"], started=me["started"], launcher_pid=launcher,
                 launcher_started=started_at(launcher))
    callbacks = EventCallbacks(run, writer)
    trainer, grads, jitter = Trainer(), torch.ones(256), random.Random(rank * 7919 + os.getpid())
    batch = 0
    while True:
        batch += 1
        dist.all_reduce(grads)  # backward's all-reduce
        time.sleep(jitter.uniform(0, 0.02))  # ranks reach the callback at different moments, as on real GPUs
        callbacks.on_train_batch_end(trainer)
        if trainer.stop and not forever:
            break
    dist.broadcast_object_list([trainer.stop], 0)  # validation's broadcast
    callbacks.on_train_epoch_end(trainer)  # every rank runs the epoch's callbacks
    callbacks.on_fit_epoch_end(trainer)
    print(f"rank {rank} stopped after batch {batch}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
