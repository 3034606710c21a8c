"""Files with many writers: the window, the command line and a cluster job may write one project at once.

Every write of such a file (``project.yaml``, the studio's ``studio.yaml``, its trusted folders) is a
read-merge-write under a lock file beside it: the writer reads the file as it is now, applies only its
own change and writes it back atomically, all while holding the lock. A writer that read the file a
minute ago therefore never drops what another wrote since. The lock is ``filelock``'s (an OS file lock,
released when its process ends, even by ``kill -9``).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import yaml
from filelock import FileLock, Timeout

from yolo_studio.core.atomic import write_text_atomic

LOCK_TIMEOUT_S = 30.0


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextmanager
def locked(path: str | Path):
    """Hold ``path``'s lock for the block; raises OSError naming the file if another writer keeps it too long."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(path)), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout:
        raise OSError(f"{path} is being written by another YOLO Studio process for over {LOCK_TIMEOUT_S:.0f} s: "
                      f"try again, or delete {lock_path(path)} if no studio or yolo-studio command runs") from None
    try:
        yield
    finally:
        lock.release()


def read_yaml_mapping(path: str | Path) -> dict | None:
    """The file's mapping; {} when it does not exist; None when it is not a YAML mapping (a broken file is
    never overwritten by a merge: the caller says what is wrong)."""
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return content if isinstance(content, dict) else ({} if content is None else None)


def update_yaml(path: str | Path, change: Callable[[dict], None], header: str = "") -> dict:
    """Read ``path``'s mapping, apply ``change`` to it and write it back, under the file's lock; returns what
    was written. A file that is not a mapping raises ValueError instead of being replaced."""
    path = Path(path)
    with locked(path):
        content = read_yaml_mapping(path)
        if content is None:
            raise ValueError(f"{path}: not a YAML mapping any more (edited by hand?): fix it, or move it away and "
                             "try again")
        change(content)
        write_text_atomic(path, header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True))
    return content


def update_json(path: str | Path, change: Callable[[dict], None]) -> dict:
    """``update_yaml`` for a JSON object (an unreadable file starts again from {})."""
    path = Path(path)
    with locked(path):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            content = {}
        if not isinstance(content, dict):
            content = {}
        change(content)
        write_text_atomic(path, json.dumps(content, indent=1))
    return content
