"""The package switches Ultralytics offline before it can be imported."""

import os
import subprocess
import sys
from pathlib import Path


def test_environment_is_offline_after_import():
    import yolo_studio  # noqa: F401

    assert os.environ["YOLO_OFFLINE"] == "1"
    assert os.environ["YOLO_AUTOINSTALL"] == "false"
    config = Path(os.environ["YOLO_CONFIG_DIR"])
    assert (config / "Ultralytics" / "Arial.ttf").stat().st_size > 100_000
    assert str(config).startswith(os.environ["YOLO_STUDIO_SESSION_HOME"])  # set at import, before each test's own


def test_ultralytics_sees_the_studio_config_and_sync_off(tmp_path):
    code = ("import yolo_studio, os; from yolo_studio.core.offline import ultralytics_settings_offline;"
            "ultralytics_settings_offline(); from ultralytics.utils import SETTINGS, USER_CONFIG_DIR;"
            "from ultralytics.utils.checks import check_font; check_font('Arial.Unicode.ttf');"
            "print(USER_CONFIG_DIR); print(SETTINGS['sync'])")
    env = {**os.environ, "YOLO_STUDIO_HOME": str(tmp_path)}
    env.pop("YOLO_CONFIG_DIR", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    config_dir, sync = out.stdout.strip().splitlines()[-2:]
    assert Path(config_dir) == tmp_path / "ultralytics" / "Ultralytics"
    assert sync == "False"
    assert (Path(config_dir) / "Arial.ttf").exists()  # check_font finds it here and never downloads
    assert (Path(config_dir) / "Arial.Unicode.ttf").exists()  # labels that are not ASCII (Ultralytics' plots)


def test_every_process_numbers_gpus_in_pci_order_as_the_device_picker_does():
    """Only training got CUDA_DEVICE_ORDER=PCI_BUS_ID: inference, export and hydra counted GPUs fastest first."""
    code = "import yolo_studio, os, subprocess, sys; print(subprocess.run([sys.executable, '-c', " \
           "'import os; print(os.environ.get(\"CUDA_DEVICE_ORDER\"))'], capture_output=True, text=True).stdout)"
    env = {**os.environ, "CUDA_DEVICE_ORDER": "FASTEST_FIRST"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "PCI_BUS_ID", done.stderr
