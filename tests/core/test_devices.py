"""The devices panel's data: this machine's CUDA devices or its CPU."""

import pytest

from yolo_studio.core.devices import (describe_devices, device_choices, idle_gpus_chosen, lines, torch_device_name,
                                      visible_order)


def test_devices_describe_this_machine():
    import torch

    info = describe_devices()
    assert len(info["cuda"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert not torch.cuda.is_initialized()  # the studio reads GPUs through NVML and creates no CUDA context
    cpu = info["cpu"]
    assert cpu["logical_cores"] >= 1 and 0 < cpu["available_gb"] <= cpu["total_gb"]
    text = lines(info)
    assert text[-2].startswith("CPU: ") and text[-1].startswith(f"torch {torch.__version__}")
    if not info["cuda"]:
        assert text[0].startswith("No CUDA device")
    for gpu, line in zip(info["cuda"], text):
        assert line.startswith(f"cuda:{gpu['index']} {gpu['name']}") and gpu["free_gb"] <= gpu["total_gb"]


def test_visible_devices_give_the_order_device_indices_count_in():
    uuids = ["GPU-aaaa-1", "GPU-bbbb-2", "GPU-cccc-3"]
    assert visible_order(uuids, None) == [0, 1, 2]
    assert visible_order(uuids, "2,0") == [2, 0]
    assert visible_order(uuids, "GPU-bbbb,GPU-cccc-3") == [1, 2]  # UUIDs, shortened or whole
    assert visible_order(uuids, "1,7,2") == [1]  # CUDA stops at the first entry it cannot read
    assert visible_order(uuids, "") == []


def test_one_device_in_every_spelling_commands_accept():
    for spelling, name in (("0", "cuda:0"), (1, "cuda:1"), ("cuda:2", "cuda:2"), ("cuda", "cuda:0"), ("cpu", "cpu"),
                           (None, "cpu"), ("", "cpu"), ("mps", "mps"), (" 0 ", "cuda:0")):
        assert torch_device_name(spelling) == name, spelling
    for bad in ("0,1", "gpu", "cuda:x"):
        with pytest.raises(ValueError, match="device="):
            torch_device_name(bad)


def test_device_choices_list_gpus_first_then_the_cpu():
    gpus = [{"index": 0, "name": "NVIDIA H200", "free_gb": 120.4, "total_gb": 139.8},
            {"index": 1, "name": "NVIDIA H200", "free_gb": 3.0, "total_gb": 139.8}]
    choices = device_choices(gpus)
    assert [d for _, d in choices] == ["0", "1", "cpu"] and choices[0][0] == "GPU 0: NVIDIA H200 (120 of 140 GiB free)"
    assert [d for _, d in device_choices([], mps=True)] == ["mps", "cpu"]


def test_idle_gpus_are_chosen_once_for_every_rank():
    gpus = [{"index": 0, "free_gb": 3.0}, {"index": 1, "free_gb": 70.0}, {"index": 2, "free_gb": 40.0}]
    assert idle_gpus_chosen("-1,-1", gpus) == "1,2"
    assert idle_gpus_chosen("1,-1", gpus) == "1,2"
    assert idle_gpus_chosen("-1", gpus) == "-1" and idle_gpus_chosen("0,1", gpus) == "0,1"
    assert idle_gpus_chosen("-1,-1", []) == "-1,-1"  # none here: preflight says so
