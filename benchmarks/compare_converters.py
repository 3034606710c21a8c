"""Compare kept converter libraries with our own export readers on the real-structure export corpus.

For each case of ``tests/data/exports/<case>/`` and each library that claims the case's format, the export is
loaded (or converted) with the library's documented public API, the images and the trainable objects per class
name are counted, and the counts are compared with the case's ``expected.yaml`` (and with our importer's preview).
Libraries that are not importable in the running interpreter are skipped, so the script runs in the app's
virtual environment (Ultralytics, our importer) and in a separate one (supervision, globox, datumaro); ``--json``
keeps one run's results and ``--merge`` prints the table of several runs together.

Each cell is one of:
- ok: the images and the objects per class match expected.yaml, and the task's geometry (polygons, keypoints,
  rotated corners) is kept;
- ok if filtered: the raw result keeps objects that must be skipped (crowd, difficult), but the library marks
  them with a flag the caller can filter on; after that filter the counts match;
- wrong: the counts or the geometry differ (the note says how);
- not supported: the library has no reader for the format;
- crashed: the reader raised (exception type and message);
- refuse cases: "refused" when the reader raises on a file that is not an export, "accepted" when it returns
  an (empty) dataset without complaint.

Glue a user of the library would have to write is done here and said in the notes (a data.yaml written from
classes.txt for supervision, ``map_labels`` from obj.names for globox, the images/train + labels/train_original
layout Ultralytics' DOTA converter requires, and the image folder of each COCO JSON).

``--bench`` also times each library on one synthetic COCO file (2,000 images, 20,000 boxes, tiny JPEGs in a
temporary folder): each run in a fresh child process, median of 3, with the child's peak RSS.

    .venv/bin/python benchmarks/compare_converters.py --json app.json --bench
    ../cmpvenv/bin/python benchmarks/compare_converters.py --json libs.json --bench
    python3 benchmarks/compare_converters.py --merge app.json libs.json
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from converter_adapters import (ADAPTERS, FIXES, LIBRARIES, NotSupported, _root_cause, importable,  # noqa: E402
                                library_version, quiet, read_yaml, sanitise)

# ----------------------------------------------------------------------------------------------- judging

def diff_text(got: Counter, want: dict) -> str:
    parts = []
    for name in sorted(set(got) | set(want)):
        g, w = got.get(name, 0), want.get(name, 0)
        if g != w:
            parts.append(f"{name} {g} (want {w})")
    return ", ".join(parts)


def judge(case: dict, lib: str, fixing: bool = False) -> dict:
    want_objects = case["expected"].get("objects") or {}
    try:
        r = ADAPTERS[lib](case)
    except NotSupported as e:
        return {"status": "not supported", "note": str(e)}
    except Exception as e:  # noqa: BLE001 - a crash is a result here
        if case["format"] == "refuse":
            return {"status": "refused", "note": _root_cause(e)}
        note = _root_cause(e)
        fix = None if fixing or lib not in FIXES else FIXES[lib](case)
        if fix:
            how, fixed_pick = fix
            again = judge(dict(case, pick=fixed_pick), lib, fixing=True)
            note += f". After {how}: {again['status']}" + (f" ({again['note']})" if again.get("note") else "")
        return {"status": "crashed", "note": note}
    notes = list(r["notes"])
    if case["format"] == "refuse":
        return {"status": "accepted", "note": f"returned {r['images']} images, {sum(r['objects'].values())} "
                                               "objects without an error", "call": r.get("call")}
    want_images = case["expected"]["images"]
    problems = []
    if r["images"] is not None and r["images"] != want_images:
        problems.append(f"images {r['images']} (want {want_images})")
    if r.get("missing_kept"):
        problems.append(f"{r['missing_kept']} listed-but-absent image(s) kept as items")
    objects_ok = dict(+r["objects"]) == want_objects
    filtered_ok = r["filtered"] is not None and dict(+r["filtered"]) == want_objects
    if not objects_ok:
        problems.append("objects " + diff_text(r["objects"], want_objects))
    if r["geometry"]:
        problems.append(r["geometry"])
    if not problems:
        status = "ok"
    elif filtered_ok and all(p.startswith("objects ") for p in problems):
        status = "ok if filtered"
    else:
        status = "wrong"
    return {"status": status, "note": "; ".join(problems + notes), "call": r.get("call"),
            "objects": dict(r["objects"]), "images": r["images"]}


def load_cases(corpus: Path) -> list:
    cases = []
    for folder in sorted(p for p in corpus.iterdir() if (p / "expected.yaml").is_file()):
        expected = read_yaml(folder / "expected.yaml")
        cases.append({"name": folder.name, "expected": expected, "format": expected["format"],
                      "task": expected.get("task"), "kpt_shape": expected.get("kpt_shape"),
                      "pick": (folder / "export" / expected["pick"]).resolve()})
    return cases


def run_corpus(corpus: Path) -> dict:
    libs = [lib for lib in LIBRARIES if importable(lib)]
    results = {"versions": {lib: (library_version(lib) if lib != "ours" else "this repo") for lib in libs},
               "python": sys.version.split()[0], "cases": {}}
    for case in load_cases(corpus):
        row = results["cases"].setdefault(case["name"], {"format": case["format"], "task": case["task"]})
        for lib in libs:
            cell = judge(case, lib)
            cell["note"] = sanitise(cell.get("note") or "")
            row[lib] = cell
    return results


def merge(results: list) -> dict:
    out = {"versions": {}, "python": results[0]["python"], "cases": {}}
    for r in results:
        for lib, v in r["versions"].items():
            out["versions"].setdefault(lib, v)
        for name, row in r["cases"].items():
            dest = out["cases"].setdefault(name, {})
            for k, v in row.items():
                dest.setdefault(k, v)
        for k in ("bench",):
            if k in r:
                out.setdefault(k, {}).update({lib: v for lib, v in r[k].items() if lib not in out.get(k, {})})
    return out


def markdown(results: dict) -> str:
    libs = [lib for lib in LIBRARIES if lib in results["versions"]]
    head = "| case | format / task | " + " | ".join(
        f"{lib} {results['versions'][lib]}" if lib != "ours" else "ours" for lib in libs) + " |"
    lines = [head, "|" + " --- |" * (len(libs) + 2)]
    details = []
    for name, row in results["cases"].items():
        cells = []
        for lib in libs:
            cell = row.get(lib)
            if cell is None:
                cells.append("-")
                continue
            cells.append(cell["status"])
            if cell["status"] == "not supported" or (lib == "ours" and cell["status"] == "ok"):
                continue
            call = f" `{cell['call']}`" if cell.get("call") else ""
            details.append(f"- **{name} / {lib}** ({cell['status']}){call}: {cell.get('note') or '-'}")
        lines.append(f"| {name} | {row['format']} / {row.get('task') or '-'} | " + " | ".join(cells) + " |")
    out = "\n".join(lines) + "\n\nNotes:\n\n" + "\n".join(details) + "\n"
    if results.get("bench"):
        out += "\n" + bench_markdown(results["bench"])
    return out


# ----------------------------------------------------------------------------------------------- benchmark

BENCH_IMAGES, BENCH_BOXES, BENCH_RUNS = 2000, 20000, 3
BENCH_CLASSES = ["person", "bicycle", "car", "motorcycle", "bus", "truck", "dog", "cat", "chair", "bottle"]


def make_synthetic_coco(root: Path) -> Path:
    """A COCO detection export: annotations/instances_train.json and images/train/*.jpg (tiny, 64x48 files;
    the JSON declares 640x480, which no library under test checks)."""
    import random
    rng = random.Random(0)
    images_dir = root / "images" / "train"
    images_dir.mkdir(parents=True)
    jpeg = _tiny_jpeg()
    images, annotations = [], []
    for i in range(BENCH_IMAGES):
        name = f"{i:012d}.jpg"
        (images_dir / name).write_bytes(jpeg)
        images.append({"id": i + 1, "file_name": name, "width": 640, "height": 480, "license": 0,
                       "flickr_url": "", "coco_url": "", "date_captured": 0})
    for n in range(BENCH_BOXES):
        w, h = rng.uniform(8, 200), rng.uniform(8, 200)
        x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
        annotations.append({"id": n + 1, "image_id": rng.randrange(BENCH_IMAGES) + 1,
                            "category_id": rng.randrange(len(BENCH_CLASSES)) + 1, "segmentation": [],
                            "area": w * h, "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                            "iscrowd": 0})
    (root / "annotations").mkdir()
    js = root / "annotations" / "instances_train.json"
    js.write_text(json.dumps({"info": {}, "licenses": [], "images": images, "annotations": annotations,
                              "categories": [{"id": k + 1, "name": c, "supercategory": ""}
                                             for k, c in enumerate(BENCH_CLASSES)]}))
    return js


def _tiny_jpeg() -> bytes:
    try:
        from PIL import Image
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, "JPEG")
        return buf.getvalue()
    except ImportError:
        import cv2
        import numpy as np
        return cv2.imencode(".jpg", np.full((48, 64, 3), 120, np.uint8))[1].tobytes()


def peak_rss_mb() -> float:
    """Peak resident memory of this process. /proc's VmHWM where there is one: getrusage's ru_maxrss also counts
    the parent's memory at the fork/exec that started this process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_once(lib: str, root: Path) -> dict:
    """In a child process: import, then load + count; the wall times and the peak RSS of the process."""
    t0 = time.perf_counter()
    js = root / "annotations" / "instances_train.json"
    images = root / "images" / "train"
    with quiet():
        if lib == "ours":
            from yolo_studio.core.data.exports import read_export
            from yolo_studio.core.data.exports.plan import ImportPlan
        elif lib == "ultralytics":
            from ultralytics.data.converter import convert_coco
        elif lib == "supervision":
            import supervision as sv
        elif lib == "globox":
            from globox import AnnotationSet
        elif lib == "datumaro":
            import datumaro as dm
        t1 = time.perf_counter()
        rss_import = peak_rss_mb()
        if lib == "ours":
            n = sum(c["objects"] for c in ImportPlan(read_export(root)).preview()["classes"])
        elif lib == "ultralytics":
            out = Path(tempfile.mkdtemp(prefix="cmp_bench_"))
            convert_coco(str(js.parent), save_dir=str(out / "out"), cls91to80=False)
            n = sum(len(p.read_text().splitlines()) for p in (out / "out" / "labels").rglob("*.txt"))
            shutil.rmtree(out)
        elif lib == "supervision":
            ds = sv.DetectionDataset.from_coco(str(images), str(js))
            n = sum(len(d) for d in ds.annotations.values())
        elif lib == "globox":
            n = sum(len(a.boxes) for a in AnnotationSet.from_coco(js))
        elif lib == "datumaro":
            ds = dm.Dataset.import_from(str(root), "coco_instances")
            n = sum(len(item.annotations) for item in ds)
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "load_s": t2 - t1, "objects": n,
            "rss_import_mb": rss_import, "rss_peak_mb": peak_rss_mb()}


def run_bench() -> dict:
    out = {}
    with tempfile.TemporaryDirectory(prefix="cmp_synth_") as tmp:
        root = Path(tmp)
        make_synthetic_coco(root)
        for lib in LIBRARIES:
            if not importable(lib):
                continue
            runs = []
            for _ in range(BENCH_RUNS):
                proc = subprocess.run([sys.executable, __file__, "--bench-one", lib, str(root)],
                                      capture_output=True, text=True)
                if proc.returncode:
                    runs = [{"error": proc.stderr.strip().splitlines()[-1][:200]}]
                    break
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            if "error" in runs[0]:
                out[lib] = runs[0]
                continue
            out[lib] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            out[lib]["runs_load_s"] = [round(r["load_s"], 3) for r in runs]
    return out


def bench_markdown(bench: dict) -> str:
    lines = [f"Synthetic COCO: {BENCH_IMAGES} images, {BENCH_BOXES} boxes; each number the median of "
             f"{BENCH_RUNS} fresh processes.", "",
             "| library | import s | load + count s | (3 runs) | objects | peak RSS after import MB | peak RSS MB |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for lib in LIBRARIES:
        b = bench.get(lib)
        if not b:
            continue
        if "error" in b:
            lines.append(f"| {lib} | error: {b['error']} | | | | | |")
            continue
        lines.append(f"| {lib} | {b['import_s']:.2f} | {b['load_s']:.2f} | {b['runs_load_s']} | {int(b['objects'])} "
                     f"| {b['rss_import_mb']:.0f} | {b['rss_peak_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "data" / "exports")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--bench", action="store_true", help="also time each library on a synthetic COCO file")
    parser.add_argument("--merge", type=Path, nargs="+", help="print the table of these JSON results together")
    parser.add_argument("--bench-one", nargs=2, metavar=("LIB", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bench_one:
        print(json.dumps(bench_once(args.bench_one[0], Path(args.bench_one[1]))))
        return
    if args.merge:
        print(markdown(merge([json.loads(p.read_text()) for p in args.merge])))
        return
    results = run_corpus(args.corpus)
    if args.bench:
        results["bench"] = run_bench()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(markdown(results))


if __name__ == "__main__":
    main()
