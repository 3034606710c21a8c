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
    assert sorted(p.name for p in bundle.iterdir()) == ["README.txt", "block_layouts.py", "block_loader.py",
                                                        "fork_tasks.py", "fused.yaml", "heads.py", "measuring.py",
                                                        "model_dict.py", "modules", "train.py", "ultralytics_hook.py"]
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


def _fresh_venv(root: Path) -> Path:
    """A new virtual environment holding the bundle's requirements and nothing of the studio: every package
    of this environment linked in, except YOLO Studio and the start-up hooks (.pth files) of this one. Its
    interpreter starts as a user's fresh one does (nothing imports importlib.util for it at start-up)."""
    import site
    import venv

    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    ours = Path(next(p for p in site.getsitepackages() if p.endswith("site-packages")))
    theirs = next((root / "lib").glob("python*/site-packages"))
    for entry in ours.iterdir():
        if entry.suffix == ".pth" or entry.name.startswith(("yolo_studio", "__editable__", "_distutils_hack")):
            continue
        (theirs / entry.name).symlink_to(entry)
    return root / "bin" / "python"


def test_a_bundle_trains_on_a_fresh_interpreter_in_a_new_venv(data_dir, tmp_path):
    """On a fresh Python, the block finder imported importlib.util inside find_spec and recursed into itself
    (RecursionError); the studio's own environment hid it."""
    model = tmp_path / "blocks.yaml"
    model.write_text((data_dir / "models" / "all_rules.yaml").read_text())
    train = write_bundle(model, tmp_path / "bundle", data_dir / "blocks")
    python = _fresh_venv(tmp_path / "venv")
    loaded = subprocess.run([str(python), "-c", "import sys; print('importlib.util' in sys.modules)"],
                            capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr  # as on a user's machine
    data = generate(tmp_path / "data", train=8, val=4, imgsz=64, seed=3)
    result = subprocess.run([str(python), str(train), "--data", str(data), "--epochs", "1", "--imgsz", "64",
                             "batch=4", "workers=0", "device=cpu", "amp=False", "plots=False",
                             f"project={tmp_path / 'runs'}", "name=fresh", "exist_ok=True"],
                            cwd=train.parent, capture_output=True, text=True, timeout=600,
                            env={k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RecursionError" not in result.stderr
    assert (tmp_path / "runs" / "fresh" / "weights" / "last.pt").exists()
