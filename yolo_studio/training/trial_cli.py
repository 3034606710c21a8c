"""``python -m yolo_studio.training.trial_cli train key=value ...``: Ultralytics' own command line, with a
run's custom blocks registered first.

A local tuning trains each iteration through Ultralytics' ``MultiTrainer``, which starts its command
line in a new process; that process must know the run's blocks as the runner does, so the tuning
points it here (``compat/tuning.py``). ``YOLO_STUDIO_RUN`` names the run folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RUN_VARIABLE = "YOLO_STUDIO_RUN"


def main() -> int:
    import yolo_studio  # noqa: F401  (offline environment)
    from yolo_studio.core.offline import ultralytics_settings_offline
    from yolo_studio.training.run_folder import RunFolder, register_run_blocks

    run = RunFolder(Path(os.environ[RUN_VARIABLE]))
    register_run_blocks(run, run.model)
    ultralytics_settings_offline()
    from ultralytics.cfg import entrypoint

    entrypoint()
    return 0


if __name__ == "__main__":
    sys.exit(main())
