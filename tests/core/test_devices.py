"""The devices panel's data: this machine's CUDA devices or its CPU."""

from yolo_studio.core.devices import describe_devices, lines


def test_devices_describe_this_machine():
    import torch

    info = describe_devices()
    assert len(info["cuda"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    cpu = info["cpu"]
    assert cpu["logical_cores"] >= 1 and 0 < cpu["available_gb"] <= cpu["total_gb"]
    text = lines(info)
    assert text[-2].startswith("CPU: ") and text[-1].startswith(f"torch {torch.__version__}")
    if not info["cuda"]:
        assert text[0].startswith("No CUDA device")
    for gpu, line in zip(info["cuda"], text):
        assert line.startswith(f"cuda:{gpu['index']} {gpu['name']}") and gpu["free_gb"] <= gpu["total_gb"]
