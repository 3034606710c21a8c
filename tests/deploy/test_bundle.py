"""A bundle trains with plain Ultralytics in a fresh process that never imports YOLO Studio."""

import subprocess
import sys
import textwrap
from pathlib import Path

from yolo_studio.deploy.bundle import write_bundle
from yolo_studio.core.data.demo_dataset import generate

TESTS = Path(__file__).resolve().parent.parent  # tests/


def test_generated_train_py_trains_one_epoch_without_the_studio(data_dir, tmp_path):
    model = tmp_path / "fused.yaml"  # the custom-rules model plus a CBAM, which only the hook can place
    text = (data_dir / "models" / "all_rules.yaml").read_text()
    model.write_text(text.replace("  - [-1, 1, Shift, [0.5]] # 5", "  - [-1, 1, CBAM, [7]] # 5"))
    train = write_bundle(model, tmp_path / "bundle", data_dir / "blocks")
    bundle = train.parent
    assert sorted(p.name for p in bundle.iterdir()) == ["README.txt", "block_layouts.py", "block_loader.py", "fused.yaml",
                                                        "measuring.py", "model_dict.py", "modules", "train.py",
                                                        "ultralytics_hook.py"]
    assert "ULTRALYTICS_BLOCKS = ['CBAM']" in train.read_text()
    data = generate(tmp_path / "data", train=16, val=8, imgsz=64, seed=2)
    run = f"""
        import sys, runpy
        sys.path.insert(0, {str(TESTS)!r})
        import network_guard; network_guard.install()
        sys.argv = ["train.py", "--data", {str(data)!r}, "--epochs", "1", "--imgsz", "64", "batch=8", "workers=0",
                    "device=cpu", "amp=False", "plots=False", "project={tmp_path / 'runs'}", "name=b", "exist_ok=True"]
        runpy.run_path({str(train)!r}, run_name="__main__")
        print("studio imported:", any(m.startswith("yolo_studio.") or m == "yolo_studio" for m in sys.modules))
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(run)], cwd=bundle, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "studio imported: False"
    assert (tmp_path / "runs" / "b" / "weights" / "last.pt").exists()


def test_bundle_refuses_a_model_with_errors(data_dir, tmp_path):
    code = "import sys; from yolo_studio.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", code, "bundle", str(data_dir / "malformed" / "unknown_module.yaml"),
                             "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1 and "unknown module 'Convv'" in result.stdout
    assert not (tmp_path / "out").exists()
