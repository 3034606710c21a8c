"""Smoke test of a built bundle: `make bundle-smoke` (or python packaging/smoke_test.py BUNDLE_EXE).

In a private studio home, offscreen: write the demo project, inspect its model, train one epoch
(the training runs in the bundle's own child process), open the window and report its first
paint. Every step must exit 0. Prints the bundle's size and the start-up time for PERFORMANCE.md.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(exe, *args, env):
    started = time.perf_counter()
    done = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, timeout=1200)
    if done.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout, time.perf_counter() - started


def main() -> None:
    exe = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/yolo-studio/yolo-studio").resolve()
    home = Path(tempfile.mkdtemp(prefix="yolo-studio-bundle-"))
    env = {**os.environ, "YOLO_STUDIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    demo = home / "demo"
    run(exe, "demo", "--dir", demo, env=env)
    out, _ = run(exe, "inspect", demo / "models" / "yolo11n-shapes.yaml", "--imgsz", "128", env=env)
    assert "GFLOPs" in out or "gflops" in out.lower(), out[-500:]
    out, seconds = run(exe, "train", "--project", demo, "--model", demo / "models" / "yolo11n-shapes.yaml", "--data",
                       demo / "datasets" / "shapes" / "data.yaml", "epochs=1", "imgsz=64", "batch=16", "workers=0",
                       "device=cpu", env=env)
    assert "Run completed" in out, out[-2000:]
    paint, _ = run(exe, "gui", "--project", demo, env={**env, "YOLO_STUDIO_STARTUP_PROBE": "1"})
    size = sum(p.stat().st_size for p in exe.parent.rglob("*") if p.is_file() and not p.is_symlink()) / 2**30
    print(f"bundle smoke test passed: demo, inspect, 1-epoch training ({seconds:.0f} s), window")
    print(f"bundle size {size:.2f} GiB ({exe.parent}); {paint.strip()}")


if __name__ == "__main__":
    main()
