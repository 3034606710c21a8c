"""Benchmark: importing a COCO JSON of 5,000 images and 50,000 boxes (issue 28's numbers).

- import: from the user's "Import" (the file picked) to the dataset written: the JSON read, the split made,
  5,000 label files written and 5,000 images linked. Compared, side by side in the same run, with
  Ultralytics' ``convert_coco`` on the same file (which writes the label files only: no split, no images,
  no data YAML). Target: at most 1.2x its time.
- preview: in the Datasets tab, from the file picked to the preview dialog shown (the JSON read in a
  worker, images looked for, classes counted, the split planned, the dialog built). Target: under 2 s.
- memory: the importing process's peak resident memory. Target: under 2x the JSON's size + 200 MB.

Each measurement runs in a fresh process (module imports excluded: the studio has them loaded), the two
converters alternating, ROUNDS times; medians are reported.

    .venv/bin/python benchmarks/bench_import.py [--dir FOLDER]

``--dir``: where the export and the imports are written (default: the system's temporary folder). File
creation dominates both sides, so the file system shows in the figures: /dev/shm (memory) shows the
converters' own work; a disk mounted with 'discard' after deleting many files adds seconds to both.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROUNDS = 5
IMAGES, BOXES, CLASSES = 5000, 50_000, 20

# The process's own peak resident memory (VmHWM: getrusage's maxrss keeps the parent's peak across exec).
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

STUDIO = r"""
import json, sys, time
from pathlib import Path
%s
from yolo_studio.core.project.dataset_import import import_export, plan_import
from yolo_studio.core.project.projects import create_project
json_file, out = Path(sys.argv[1]), Path(sys.argv[2])
project = create_project(out)
t = time.perf_counter()
plan = plan_import(json_file)
preview = plan.preview()
t_preview = time.perf_counter() - t
result = import_export(plan, project, "big")
t_import = time.perf_counter() - t
assert preview["images"] == %d and result.entry.data.is_file()
print(json.dumps({"preview": t_preview, "import": t_import, "rss_mb": peak_mb()}))
""" % (PEAK, IMAGES)

ULTRALYTICS = r"""
import json, sys, time
from pathlib import Path
%s
from ultralytics.data.converter import convert_coco
json_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
t = time.perf_counter()
convert_coco(labels_dir=str(json_dir), save_dir=str(out), use_segments=False, cls91to80=False)
print(json.dumps({"import": time.perf_counter() - t, "rss_mb": peak_mb()}))
""" % PEAK


WINDOW = r"""
import json, os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from pathlib import Path
from PySide6 import QtWidgets
app = QtWidgets.QApplication([])
from yolo_studio.core.project.projects import create_project
from yolo_studio.ui.datasets.tab import DatasetsTab
tab = DatasetsTab(create_project(Path(sys.argv[2])))
tab.show()
app.processEvents()
t = time.perf_counter()
tab.import_source(sys.argv[1])  # what the file dialog's Open does
while getattr(tab, "preview", None) is None or not tab.preview.isVisible():
    app.processEvents()
    time.sleep(0.005)
app.processEvents()  # its first paint
print(json.dumps({"window": time.perf_counter() - t}))
"""


def make_coco(folder: Path) -> Path:
    """5,000 images (one tiny JPEG, copied) and 50,000 boxes over 20 categories with ids 1..20."""
    from PIL import Image

    rng = random.Random(0)
    images = folder / "images"
    images.mkdir(parents=True)
    Image.new("RGB", (64, 48), (90, 90, 90)).save(images / "0.jpg")
    for i in range(1, IMAGES):
        shutil.copyfile(images / "0.jpg", images / f"{i}.jpg")
    annotations = []
    for n in range(BOXES):
        x, y = rng.uniform(0, 40), rng.uniform(0, 30)
        annotations.append({"id": n + 1, "image_id": n % IMAGES + 1, "category_id": rng.randint(1, CLASSES),
                            "bbox": [round(x, 2), round(y, 2), round(rng.uniform(2, 20), 2), round(rng.uniform(2, 15), 2)],
                            "area": 100.0, "iscrowd": 0, "segmentation": []})
    content = {"images": [{"id": i + 1, "file_name": f"{i}.jpg", "width": 64, "height": 48} for i in range(IMAGES)],
               "annotations": annotations,
               "categories": [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in range(1, CLASSES + 1)]}
    target = folder / "annotations" / "instances_train.json"
    target.parent.mkdir()
    target.write_text(json.dumps(content))
    return target


def run(code: str, *args) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    where = sys.argv[sys.argv.index("--dir") + 1] if "--dir" in sys.argv else None
    with tempfile.TemporaryDirectory(dir=where) as scratch:
        scratch = Path(scratch)
        json_file = make_coco(scratch / "export")
        size_mb = json_file.stat().st_size / 2**20
        studio, ultra, window = [], [], []
        for n in range(ROUNDS):
            window.append(run(WINDOW, json_file, scratch / f"w{n}"))
            # nothing is deleted between rounds: on a file system mounted with 'discard', removing thousands
            # of files slows the next round's file creation by seconds
            ultra.append(run(ULTRALYTICS, json_file.parent, scratch / f"u{n}"))
            studio.append(run(STUDIO, json_file, scratch / f"s{n}"))
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    ratios = [s["import"] / u["import"] for s, u in zip(studio, ultra)]
    print(f"COCO JSON: {IMAGES} images, {BOXES} boxes, {size_mb:.1f} MB; {ROUNDS} rounds, alternating\n")
    print("rounds, import seconds (convert_coco / studio): "
          + ", ".join(f"{u['import']:.2f} / {t['import']:.2f}" for u, t in zip(ultra, studio)) + "\n")
    print("| measurement | median | target |\n|---|---|---|")
    print(f"| Ultralytics convert_coco (labels only) | {med(ultra, 'import'):.2f} s | |")
    print(f"| studio import (labels, split, images linked, data YAML) | {med(studio, 'import'):.2f} s | |")
    print(f"| ratio studio / convert_coco (median of the rounds' ratios) | {statistics.median(ratios):.2f} | <= 1.2 |")
    print(f"| preview read (the JSON read, images found, classes counted, split planned) | "
          f"{med(studio, 'preview'):.2f} s | |")
    print(f"| Datasets tab: file picked -> preview dialog shown | {med(window, 'window'):.2f} s | < 2 s |")
    print(f"| studio peak memory | {med(studio, 'rss_mb'):.0f} MB | < {2 * size_mb + 200:.0f} MB |")
    print(f"| convert_coco peak memory (with torch imported) | {med(ultra, 'rss_mb'):.0f} MB | |")


if __name__ == "__main__":
    main()
