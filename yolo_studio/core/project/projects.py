"""Projects on disk: a folder with ``project.yaml`` and the folders the studio writes into.

A project holds everything one piece of work needs: model YAMLs, custom blocks, datasets,
training runs, training presets and the model registry. The studio writes only inside the
open project (and its own data directory). The workspace is the folder new projects go to by
default; the studio remembers it and the recently opened projects in ``studio.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from yolo_studio.core.home import studio_data_dir
from yolo_studio.core.shared_files import read_yaml_mapping, update_yaml

PROJECT_FILE = "project.yaml"
HEADER = "# YOLO Studio project\n"
FOLDERS = ("models", "modules", "datasets", "runs", "registry", "presets")
MAX_RECENT = 10
FORMAT = 1


@dataclass
class Project:
    root: Path
    name: str
    description: str = ""
    created: str = ""
    state: dict = field(default_factory=dict)  # what the studio remembers for this project (last model, form)

    models_dir = property(lambda self: self.root / "models")
    modules_dir = property(lambda self: self.root / "modules")
    datasets_dir = property(lambda self: self.root / "datasets")
    runs_dir = property(lambda self: self.root / "runs")
    registry_dir = property(lambda self: self.root / "registry")
    presets_dir = property(lambda self: self.root / "presets")

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def save(self) -> None:
        """Write the project's name, description and creation time, and its state merged into the file's."""
        self._write(lambda state: state.update(self.state), own_header=True)

    def edit_state(self, change) -> dict:
        """Apply ``change(state)`` to the state as it is in the file now, under the file's lock, and write it:
        the window and ``yolo-studio`` commands may write one project at once, and none drops what the
        others wrote (read-merge-write). ``self.state`` becomes what was written."""
        return self._write(change, own_header=False)

    def _write(self, change, own_header: bool) -> dict:
        def merge(content: dict) -> None:
            state = content.get("state") if isinstance(content.get("state"), dict) else {}
            change(state)
            header = {"name": self.name, "description": self.description, "created": self.created}
            if not own_header:  # the file's own header wins: another writer may have renamed the project
                header = {k: content.get(k) or v for k, v in header.items()}
            content.clear()
            content.update({"format": FORMAT, **header, "state": state})

        written = update_yaml(self.file, merge, HEADER)
        self.state = written["state"]
        return self.state

    def remember(self, **values) -> None:
        """Store values in the project's state (None removes a key) and save the file, merged with what
        other writers saved meanwhile."""
        def change(state: dict) -> None:
            for key, value in values.items():
                if value is None:
                    state.pop(key, None)
                else:
                    state[key] = value

        self.edit_state(change)

    def reload(self) -> bool:
        """Read the state again from the file (another process wrote it); True when it changed."""
        content = read_yaml_mapping(self.file)
        state = content.get("state") if content and isinstance(content.get("state"), dict) else None
        if state is None or state == self.state:
            return False
        self.state = state
        return True

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the project when it is inside it (portable), else absolute."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def resolve(self, path: str | Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else self.root / path


def is_project(path: str | Path) -> bool:
    return (Path(path) / PROJECT_FILE).is_file()


def safe_name(name: str) -> str:
    """A folder name from a project name: letters, digits, ``-`` and ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-") or "project"


def create_project(root: str | Path, name: str | None = None, description: str = "") -> Project:
    """Create a project in ``root`` (a new or empty folder); raises ValueError saying why not."""
    root = Path(root)
    if is_project(root):
        raise ValueError(f"{root} is already a project: open it instead")
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root} is a file: choose a folder for the project")
    if root.is_dir() and any(root.iterdir()):
        raise ValueError(f"{root} is not empty: choose a new or empty folder for the project")
    try:
        for folder in FOLDERS:
            (root / folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the project folder {root}: {exc.strerror or exc}") from None
    project = Project(root.resolve(), name or root.name, description,
                      datetime.now(timezone.utc).isoformat(timespec="seconds"))
    project.save()
    return project


def adopt_project(root: str | Path) -> Project:
    """The project in ``root``; a folder that is not one yet becomes one, keeping its files.

    For a folder the user named as a project on the command line (``yolo-studio train --project``),
    so the studio can open it later.
    """
    root = Path(root)
    if is_project(root):
        return open_project(root)
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root.resolve(), root.resolve().name, created=datetime.now(timezone.utc).isoformat(
        timespec="seconds"))
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
    project.save()
    return project


def open_or_create_project(path: str | Path) -> Project:
    """Open the project in ``path``, or create one there when the folder is new or empty."""
    path = Path(path)
    if is_project(path) or (path.is_dir() and any(path.iterdir())):
        return open_project(path)
    return create_project(path)


def open_project(root: str | Path) -> Project:
    """Read a project; raises ValueError naming the file and what to do."""
    root = Path(root)
    file = root / PROJECT_FILE
    if not file.is_file():
        raise ValueError(f"{root} is not a YOLO Studio project (no {PROJECT_FILE}): pick the project's folder "
                         "or create a new project")
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ValueError(f"{file}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        raise ValueError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}): fix or delete the line") from None
    if not isinstance(content, dict):
        raise ValueError(f"{file}: a project file is a mapping with 'name:'; recreate it with 'name: {root.name}'")
    for folder in FOLDERS:  # a project copied without its empty folders still works
        (root / folder).mkdir(exist_ok=True)
    state = content.get("state") if isinstance(content.get("state"), dict) else {}
    return Project(root.resolve(), str(content.get("name") or root.name), str(content.get("description") or ""),
                   str(content.get("created") or ""), state)


# ---------------------------------------------------------------------- the studio's own settings


def _settings_file() -> Path:
    return studio_data_dir() / "studio.yaml"


SETTINGS_SCHEMA = 1  # the shape of studio.yaml; ``migrate_settings`` brings older files to it


def load_settings() -> dict:
    """The studio's settings (``studio.yaml`` in its data folder): the one store for them all, the
    recent projects and model files included."""
    try:
        content = yaml.safe_load(_settings_file().read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {"schema": SETTINGS_SCHEMA}
    return migrate_settings(content if isinstance(content, dict) else {})


def migrate_settings(content: dict) -> dict:
    """Settings an older studio wrote, in today's shape. Schema 0 (no ``schema`` key) has today's keys;
    its recent model files were in Qt's ``settings.ini`` beside it, which the window moves here once
    (``ui/main_window.py``). A newer schema is left as it is: its keys are read as far as they are known."""
    if int(content.get("schema", 0) or 0) >= SETTINGS_SCHEMA:
        return content
    return {**content, "schema": SETTINGS_SCHEMA}


def save_settings(**values) -> None:
    """Set these settings, merged under the file's lock with what another studio process wrote meanwhile."""
    def change(content: dict) -> None:
        content.update(migrate_settings(content))
        content.update(values)

    try:
        update_yaml(_settings_file(), change)
    except ValueError:  # a broken studio.yaml: start again from the defaults rather than lose the change
        from yolo_studio.core.atomic import write_text_atomic

        write_text_atomic(_settings_file(), yaml.safe_dump({"schema": SETTINGS_SCHEMA, **values}, sort_keys=False))


def workspace_dir() -> Path:
    """Where new projects go: the user's choice, by default ``projects/`` in the studio's data folder."""
    chosen = load_settings().get("workspace")
    return Path(chosen) if chosen else studio_data_dir() / "projects"


def recent_projects() -> list:
    """Recently opened projects that still exist, newest first."""
    return [Path(p) for p in load_settings().get("recent_projects") or [] if is_project(p)]


def add_recent(project: Project) -> None:
    path = str(project.root)
    recent = [str(p) for p in recent_projects() if str(p) != path]
    save_settings(recent_projects=[path] + recent[: MAX_RECENT - 1])


def recent_files() -> list:
    """Model files opened recently, newest first (File > Open recent), whether or not they still exist."""
    return [Path(p) for p in load_settings().get("recent_files") or []]


def add_recent_files(*paths) -> None:
    """Put ``paths`` first in the recent model files (the first newest), at most ``MAX_RECENT``."""
    added = [str(Path(p).resolve()) for p in paths]
    rest = [str(p) for p in recent_files() if str(p) not in added]
    save_settings(recent_files=list(dict.fromkeys(added + rest))[:MAX_RECENT])
