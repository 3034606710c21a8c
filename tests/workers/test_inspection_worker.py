"""The inspection worker's warm-up: what it loads, and what it must not (seconds of imports)."""

import subprocess
import sys
import textwrap


def test_the_warm_up_builds_a_custom_row_without_the_meta_device_imports():
    """The warm-up's tiny model has a custom row (it once failed silently, warming nothing), and its
    measuring runs on the CPU: the meta device's first use imports PyTorch's compiler stack and sympy
    (over a second), which the first shapes must not wait for."""
    script = textwrap.dedent("""
        import sys
        from yolo_studio.workers.inspection import inspect_tiny_model
        report = inspect_tiny_model()
        assert report.error is None and report.layers[1].module == "WarmUpBlock", report
        assert report.layers[1].out_shape == [8, 32, 32], report.layers[1]
        print(sorted(m for m in ("torch._dynamo", "sympy") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_warming_the_meta_device_lets_large_models_measure_there():
    script = textwrap.dedent("""
        import sys
        from yolo_studio.compat import measuring
        assert not measuring.meta_ready()
        measuring.warm_meta_device()
        assert measuring.meta_ready()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
