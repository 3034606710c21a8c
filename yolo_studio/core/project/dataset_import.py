"""Datasets of a project: import a folder, a data YAML, a release ZIP or an annotation tool's export, list
them, remove them.

A YOLO dataset (folder or YAML) stays where it is (datasets can be large): the project records where it is.
An export (COCO, VOC, CVAT, LabelMe, Label Studio, Darknet, DOTA, class folders: ``core/data/exports``) is
read and previewed first (:func:`plan_import`), then written as YOLO labels into ``datasets/<name>/`` with its
images linked, not copied (:func:`import_export`); importing the same export again finds that import.
A folder with ``images/`` and ``labels/`` but no data YAML gets one written in the project's
``datasets/<name>/``. A ZIP is extracted into ``datasets/<release>/`` with a marker holding the
archive's hash, so importing the same release again finds the extraction instead of repeating it.
Nothing is deleted unless ``remove_dataset(..., delete_files=True)`` is asked for, and then only
inside the project.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.data.dataset_check import read_data_yaml
from yolo_studio.core.data.dataset_validate import folder_layout, is_classify_folder
from yolo_studio.core.data.exports import read_export
from yolo_studio.core.data.exports import write as writing
from yolo_studio.core.data.exports.plan import ImportPlan
from yolo_studio.core.project.projects import Project, safe_name

MARKER = ".yolo-studio-release.json"


@dataclass
class DatasetEntry:
    name: str
    data: Path  # a data YAML, or a classification folder
    task: str = ""
    release: str = ""  # the ZIP it was extracted from
    extracted: bool = False  # the files live in the project's datasets/ folder

    @property
    def folder(self) -> Path:
        return self.data if self.data.is_dir() else self.data.parent


@dataclass
class ImportResult:
    entry: DatasetEntry
    message: str
    already: bool = False


def list_datasets(project: Project) -> list:
    """The project's registered datasets, then any ``datasets/*/data.yaml`` not registered (generated ones)
    unless the user removed it from the list."""
    entries, seen = [], set()
    for item in project.state.get("datasets") or []:
        if isinstance(item, dict) and item.get("name") and item.get("data"):
            entry = DatasetEntry(item["name"], project.resolve(item["data"]), item.get("task", ""),
                                 item.get("release", ""), bool(item.get("extracted")))
            entries.append(entry)
            seen.add(entry.data.resolve())
    forgotten = {project.resolve(p).resolve() for p in project.state.get("forgotten_datasets") or []}
    for data in sorted(project.datasets_dir.glob("*/data.yaml")):
        if data.resolve() not in seen and data.resolve() not in forgotten:
            entries.append(DatasetEntry(data.parent.name, data, extracted=True))
    return entries


def is_yolo_dataset(source: Path) -> bool:
    """A data YAML, or a folder Ultralytics trains as it is (data YAML, images/<split> with labels/ of
    YOLO .txt files, train/<class>); images/<split> beside a COCO JSON is an export, not this."""
    if source.is_file():
        return source.suffix.lower() in (".yaml", ".yml")
    return (source / "data.yaml").is_file() or any(_looks_like_data_yaml(p) for p in sorted(source.glob("*.yaml"))) \
        or is_classify_folder(source) or (bool(folder_layout(source)) and any((source / "labels").rglob("*.txt")))


def plan_import(source: str | Path, task: str | None = None, annotator: str | None = None,
                project: Project | None = None) -> ImportPlan:
    """Read an annotation export (nothing written); the plan's preview is what the user checks first. With
    ``project``, ``plan.earlier`` names the dataset this export was imported as before ("" when none)."""
    plan = ImportPlan(read_export(source, task=task, annotator=annotator))
    if project is not None:
        earlier = earlier_import(project, writing.fingerprint(plan))
        plan.earlier = earlier.name if earlier is not None else ""
    return plan


def earlier_import(project: Project, digest: str) -> DatasetEntry | None:
    """The project's dataset imported from the same export (same annotation files), if any."""
    for entry in list_datasets(project):
        for folder in (entry.folder, entry.folder.parent):
            if writing.read_record(folder).get("fingerprint") == digest:
                return entry
    return None


def import_export(plan: ImportPlan, project: Project, name: str | None = None, progress=None, cancelled=None,
                  into: Path | None = None, again: bool = False) -> ImportResult:
    """Write ``plan`` as a YOLO dataset in the project (``into``: that folder instead of datasets/<name>/).
    An export imported before is found, not written twice, unless ``again`` or another ``name`` is asked for."""
    digest = writing.fingerprint(plan)
    earlier = earlier_import(project, digest)
    if earlier is not None and not again and (name is None or name == earlier.name):
        return ImportResult(earlier, f"this export was imported before: dataset '{earlier.name}' "
                            f"({earlier.data}); to keep a second import of it, give it another name", True)
    taken = {e.name for e in list_datasets(project)}
    if name is not None and name in taken:
        raise ValueError(f"the project already has a dataset named '{name}': choose another name")
    if not plan.present():
        raise ValueError(f"{plan.export.source}: none of the {len(plan.export.items)} images the annotations "
                         "list is on disk: put the images where the export expects them (beside the annotation "
                         "file or in its images/ folder)")
    if not plan.classes() and plan.export.task != "classify":
        raise ValueError(f"{plan.export.source}: no classes left to train (all dropped, or no objects)")
    target = into or free_folder(project, safe_name(name or default_name(plan)))
    written = writing.write(plan, target, progress, cancelled, digest)
    entry = DatasetEntry(name or (target.parent.name if into else target.name), written.data, plan.export.task,
                         extracted=True)
    what = f"{written.linked.total()} images in {len(plan.classes())} classes" if plan.export.task == "classify" \
        else f"{written.labels} label files, {written.objects} objects"
    if written.left_out:
        what += f"; {written.left_out} objects left out: no area inside their image, or its size unreadable"
    return _register(project, entry, f"imported {plan.export.format} export into {target} ({what}; images: "
                     f"{written.how()})")


def default_name(plan: ImportPlan) -> str:
    """The dataset's name unless the user gives one: the export's folder (or file) name."""
    source = plan.export.source
    return source.stem if source.is_file() else source.name


def free_folder(project: Project, base: str) -> Path:
    """``datasets/<base>``, or ``<base>-2``, ``-3``, ...: a folder that does not exist and a dataset name not taken."""
    taken = {e.name for e in list_datasets(project)}
    target, n = project.datasets_dir / base, 2
    while target.exists() or target.name in taken:
        target, n = project.datasets_dir / f"{base}-{n}", n + 1
    return target


def import_dataset(source: str | Path, project: Project, name: str | None = None, **options) -> ImportResult:
    """Register a YOLO dataset (for a ZIP, extract it), or convert an annotation export with ``options``
    (rename, drop, keep, ratios, seed, resplit, task, annotator, again; progress and cancelled callbacks); raises ValueError saying what is wrong."""
    source = Path(source)
    if not source.exists():
        raise ValueError(f"{source} does not exist")
    if source.suffix.lower() == ".zip":
        return _import_zip(source, project, name, options)
    if is_yolo_dataset(source):
        if source.is_file():
            read_data_yaml(source)  # refuses a file that is not a data YAML, with the reason
            return _register(project, DatasetEntry(name or source.parent.name, source.resolve()), "registered")
        return _register(project, _entry_for_folder(source, project, name or source.name), "registered")
    return import_export(plan_with_options(source, options), project, name, options.get("progress"),
                         options.get("cancelled"), again=options.get("again", False))


def plan_with_options(source: Path, options: dict) -> ImportPlan:
    """The plan for an export with the choices of the command line or the dialog (see import_dataset)."""
    plan = plan_import(source, options.get("task"), options.get("annotator"))
    plan.rename = dict(options.get("rename") or {})
    plan.drop = (plan.drop | set(options.get("drop") or ())) - set(options.get("keep") or ())
    unknown = sorted((set(plan.rename) | plan.drop | set(options.get("keep") or ())) - set(plan.export.classes))
    if unknown:
        raise ValueError(f"{source}: no class named {', '.join(unknown)} in this export "
                         f"(its classes: {', '.join(plan.export.classes)})")
    if options.get("ratios"):
        plan.ratios = dict(options["ratios"])
    plan.seed = int(options.get("seed") or 0)
    plan.resplit = bool(options.get("resplit"))
    if plan.ratio_problem():
        raise ValueError(f"split {plan.ratios}: {plan.ratio_problem()}")
    return plan


def _entry_for_folder(folder: Path, project: Project, name: str) -> DatasetEntry:
    folder = folder.resolve()
    if (folder / "data.yaml").is_file():
        return DatasetEntry(name, folder / "data.yaml")
    yamls = [p for p in sorted(folder.glob("*.yaml")) if _looks_like_data_yaml(p)]
    if yamls:
        return DatasetEntry(name, yamls[0])
    if is_classify_folder(folder):
        return DatasetEntry(name, folder, "classify")
    layout = folder_layout(folder)
    if not layout:
        raise ValueError(f"{folder}: no data YAML, no images/<split> folders and no train/<class> folders: "
                         "not a YOLO dataset (see docs/DATASETS.md for the layouts)")
    target = project.datasets_dir / safe_name(name) / "data.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, f"# Written by YOLO Studio for the dataset folder {folder}\n"
                      + yaml.safe_dump({"path": str(folder), **layout}, sort_keys=False))
    return DatasetEntry(name, target)


def _looks_like_data_yaml(path: Path) -> bool:
    try:
        data = read_data_yaml(path)
    except ValueError:
        return False
    return "train" in data and ("names" in data or "nc" in data)


def extracted_before(archive: Path, project: Project, digest: str | None = None) -> ImportResult | None:
    """The project's dataset extracted from this very archive (same SHA-256), if any."""
    digest = digest or _sha256(archive)
    for entry in list_datasets(project):
        marker = _marker(entry)
        if marker.get("sha256") == digest and entry.folder.exists():
            return ImportResult(entry, f"{archive.name} is already extracted in {_release_root(entry)}", True)
    return None


def _import_zip(archive: Path, project: Project, name: str | None, options: dict | None = None) -> ImportResult:
    digest = _sha256(archive)
    base = safe_name(name or archive.stem)
    already = extracted_before(archive, project, digest)
    if already is not None:
        return already
    target = free_folder(project, base)
    try:
        _extract(archive, target)
    except ValueError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    write_text_atomic(target / MARKER, json.dumps({"zip": str(archive.resolve()), "sha256": digest}, indent=1))
    root = _dataset_root(target)
    try:
        if not is_yolo_dataset(root):  # an annotation export: converted beside its extraction
            options = options or {}
            plan = plan_with_options(root, options)
            result = import_export(plan, project, name or target.name, options.get("progress"),
                                   options.get("cancelled"), into=target / "yolo", again=True)
            result.entry.release = str(archive.resolve())
            _register(project, result.entry, "")  # the entry again, now with the archive it came from
            return ImportResult(result.entry, f"extracted {archive.name} into {target}; {result.message}")
        entry = _entry_for_folder(root, project, target.name)
    except writing.Cancelled:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except ValueError as exc:
        shutil.rmtree(target, ignore_errors=True)
        said = str(exc)  # the extraction is gone: speak of the archive, not of the folder it was in
        for folder in (str(root), str(target)):
            said = said[len(folder):].lstrip(": ") if said.startswith(folder) else said
        raise ValueError(f"{archive}: {said}") from None
    entry.release, entry.extracted = str(archive.resolve()), True
    return _register(project, entry, f"extracted {archive.name} into {target}")


def _extract(archive: Path, target: Path) -> None:
    """Extract a ZIP into ``target``, refusing the whole archive when a member would land outside it."""
    try:
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                if not (target / member).resolve().is_relative_to(target.resolve()):
                    raise ValueError(f"{archive}: the member '{member}' would be written outside the dataset "
                                     "folder: the archive is unsafe and was not extracted")
            z.extractall(target)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{archive}: not a readable ZIP archive ({exc})") from None


def unpack_for_preview(archive: Path, scratch: Path) -> Path:
    """Extract a ZIP into ``scratch`` (a temporary folder) to preview it; returns the dataset's folder."""
    _extract(archive, scratch)
    return _dataset_root(scratch)


def _dataset_root(folder: Path) -> Path:
    """The folder holding the dataset: the extraction itself, or its single top-level folder."""
    children = [p for p in folder.iterdir() if p.name != MARKER]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return folder


def _release_root(entry: DatasetEntry) -> Path:
    folder = entry.folder
    while not (folder / MARKER).is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _marker(entry: DatasetEntry) -> dict:
    if not entry.extracted:
        return {}
    try:
        return json.loads((_release_root(entry) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _register(project: Project, entry: DatasetEntry, message: str) -> ImportResult:
    item = {"name": entry.name, "data": project.relative(entry.data), "task": entry.task,
            "release": entry.release, "extracted": entry.extracted}

    def add(state: dict) -> None:  # on the project file as it is now: other imports may have run meanwhile
        state["datasets"] = [i for i in state.get("datasets") or [] if isinstance(i, dict)
                             and i.get("name") != entry.name] + [item]
        if state.get("forgotten_datasets"):
            state["forgotten_datasets"] = [p for p in state["forgotten_datasets"] if p != item["data"]]

    project.edit_state(add)
    return ImportResult(entry, f"{message}: dataset '{entry.name}' ({entry.data})")


def extraction_folder(entry: DatasetEntry, project: Project) -> Path | None:
    """The folder a release was extracted into, when it lies inside the project (deletable), else None."""
    if not entry.extracted:
        return None
    folder = _release_root(entry) if (entry.release or _marker(entry)) else entry.folder
    inside = folder.resolve().is_relative_to(project.datasets_dir.resolve()) and folder.resolve() != \
        project.datasets_dir.resolve()
    return folder if inside else None


def remove_dataset(project: Project, name: str, delete_files: bool = False) -> None:
    """Forget a dataset; with ``delete_files`` also delete its extraction inside the project."""
    entry = next((e for e in list_datasets(project) if e.name == name), None)
    if entry is None:
        raise ValueError(f"no dataset named '{name}' in the project")
    if delete_files:
        folder = extraction_folder(entry, project)
        if folder is not None:
            shutil.rmtree(folder)
    inside = entry.data.resolve().is_relative_to(project.datasets_dir.resolve())

    def forget(state: dict) -> None:
        state["datasets"] = [i for i in state.get("datasets") or [] if isinstance(i, dict) and i.get("name") != name]
        if inside and not delete_files:  # its files stay in datasets/: not listed again as a generated one
            state["forgotten_datasets"] = sorted({*(state.get("forgotten_datasets") or []),
                                                  project.relative(entry.data)})

    project.edit_state(forget)
