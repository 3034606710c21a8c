"""What an import will write, decided before anything is written: the classes after the user's renames, merges
and drops, the split, and the preview the user sees (window and ``--dry-run`` alike)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from yolo_studio.core.data import split as splitting
from yolo_studio.core.data.exports.model import FORMATS, SKIP_REASONS, Export

DEFAULT_RATIOS = {"train": 0.8, "val": 0.2, "test": 0.0}


@dataclass
class ImportPlan:
    export: Export
    rename: dict = field(default_factory=dict)  # old name -> new name (two old names, one new: merged)
    drop: set = field(default_factory=set)  # old names left out
    ratios: dict = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    seed: int = 0
    resplit: bool = False  # split by ratio even when the export has its own split
    earlier: str = ""  # the project's dataset imported from the same export before, if any
    _splits: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.drop:
            self.drop = set(self.export.untrained)

    def new_name(self, old: str) -> str | None:
        return None if old in self.drop else self.rename.get(old, old) or old

    def classes(self) -> list:
        """The dataset's class names in id order: the export's order, renamed, merged and dropped."""
        result = []
        for old in self.export.classes:
            new = self.new_name(old)
            if new is not None and new not in result:
                result.append(new)
        return result

    def present(self) -> list:
        """Items whose image is on disk (or embedded in the annotation)."""
        return [i for i in self.export.items if i.image is not None or i.image_bytes is not None]

    def missing(self) -> list:
        return [i for i in self.export.items if i.image is None and i.image_bytes is None]

    def uses_export_split(self) -> bool:
        return bool(self.export.splits) and not self.resplit

    def ratio_problem(self) -> str:
        """Why the ratios cannot split this export ("" when they can): train and val each need a share."""
        if self.uses_export_split():
            return ""
        if any(not isinstance(v, (int, float)) or v < 0 for v in self.ratios.values()):
            return "ratios are numbers of 0 or more"
        if self.ratios.get("train", 0) <= 0 or self.ratios.get("val", 0) <= 0:
            return "train and val each need a ratio above 0 (e.g. train 0.8, val 0.2)"
        return ""

    def splits(self) -> list:
        """The split of each present item (worked out once for each set of choices: preview, then write)."""
        key = (self.uses_export_split(), tuple(sorted(self.ratios.items())), self.seed,
               tuple(sorted(self.rename.items())), tuple(sorted(self.drop)), len(self.export.items))
        if self._splits is None or self._splits[0] != key:
            items = self.present()
            if self.uses_export_split():
                result = [i.split or "train" for i in items]
            else:
                labels = [{self.new_name(o.label) for o in i.objects} - {None} for i in items]
                result = splitting.assign([i.name for i in items], labels, self.ratios, self.seed)
            self._splits = (key, result)
        return self._splits[1]

    def objects_per_class(self) -> Counter:
        counts = Counter()
        for item in self.present():
            counts.update(n for n in (self.new_name(o.label) for o in item.objects) if n is not None)
        return counts

    def preview(self) -> dict:
        """Everything the preview shows, as plain data."""
        export, present = self.export, self.present()
        per_class = self.objects_per_class()
        dropped = Counter(o.label for i in present for o in i.objects if o.label in self.drop)
        per_split = Counter(self.splits() if not self.ratio_problem() else [])
        return {
            "format": export.format, "format_name": FORMATS.get(export.format, export.format),
            "task": export.task, "source": str(export.source), "kpt_shape": export.kpt_shape,
            "images": len(present), "missing": [i.name for i in self.missing()],
            "classes": [{"id": n, "name": name, "objects": per_class.get(name, 0),
                         "from": [old for old in export.classes if self.new_name(old) == name]}
                        for n, name in enumerate(self.classes())],
            "dropped": dict(dropped),
            "skipped": self._skipped(),
            "without_objects": sum(1 for i in present if not i.objects),
            "split": {"from_export": self.uses_export_split(), "counts": {s: per_split.get(s, 0) for s in
                      splitting.SPLITS if per_split.get(s)}, "ratios": self.ratios, "seed": self.seed},
            "notes": list(export.notes), "choices": dict(export.choices), "earlier": self.earlier,
        }


    def _skipped(self) -> dict:
        """Objects not imported, by reason; the objects of images listed but absent among them."""
        export = self.export
        skipped = {r: {"count": n, "why": SKIP_REASONS.get(r, r), "examples": export.skip_examples.get(r, [])}
                   for r, n in export.skipped.items()}
        lost = [(i.name, len(i.objects)) for i in self.missing() if i.objects]
        if lost:
            earlier = skipped.get("missing_image", {"count": 0, "examples": []})
            skipped["missing_image"] = {"count": earlier["count"] + sum(n for _, n in lost),
                                        "why": SKIP_REASONS["missing_image"],
                                        "examples": (earlier["examples"] + [f"{name}: {n} objects" for name, n in
                                                                            lost])[:5]}
        return skipped


def preview_text(preview: dict) -> str:
    """The preview as the command line prints it."""
    lines = [f"format: {preview['format_name']}    task: {preview['task']}"
             + (f"    kpt_shape: {preview['kpt_shape']}" if preview["kpt_shape"] else ""),
             f"images: {preview['images']} found, {len(preview['missing'])} listed but absent"
             + (f" (e.g. {', '.join(preview['missing'][:3])})" if preview["missing"] else ""),
             f"images without objects: {preview['without_objects']}", "classes (id  name  objects):"]
    for c in preview["classes"]:
        merged = f"  <- {', '.join(c['from'])}" if c["from"] != [c["name"]] else ""
        lines.append(f"  {c['id']:>3}  {c['name']}  {c['objects']}{merged}")
    for name, n in preview["dropped"].items():
        lines.append(f"  dropped: {name} ({n} objects)")
    for reason, s in preview["skipped"].items():
        lines.append(f"skipped {s['count']} {s['why']}" + (f": e.g. {s['examples'][0]}" if s["examples"] else ""))
    split = preview["split"]
    how = "the export's own split" if split["from_export"] else \
        f"split by ratio {', '.join(f'{k} {v:g}' for k, v in split['ratios'].items() if v)} (seed {split['seed']})"
    lines.append(f"split: {how}: " + ", ".join(f"{k} {v}" for k, v in split["counts"].items()))
    lines += [f"note: {n}" for n in preview["notes"]]
    if preview["earlier"]:
        lines.append(f"note: this export was imported before as '{preview['earlier']}': give another --name "
                     "to import it again")
    return "\n".join(lines)
