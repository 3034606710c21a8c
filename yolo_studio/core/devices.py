"""What this machine trains on: CUDA devices (memory, utilisation) or the CPU (cores, memory).

Plain dicts for the devices panel and ``yolo-studio devices``. torch is imported inside the
function; utilisation needs NVIDIA's management library (``pynvml``), else it is None.
"""

from __future__ import annotations

import os
import platform


def describe_devices() -> dict:
    """{"cuda": [device dicts], "cpu": {...}, "torch": version, "cuda_version": str | None}."""
    import torch

    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            props = torch.cuda.get_device_properties(i)
            try:
                utilisation = torch.cuda.utilization(i)
            except Exception:  # no pynvml, or a driver without NVML
                utilisation = None
            gpus.append({"index": i, "name": props.name, "total_gb": round(total / 2**30, 2),
                         "free_gb": round(free / 2**30, 2), "used_gb": round((total - free) / 2**30, 2),
                         "utilisation": utilisation, "capability": f"{props.major}.{props.minor}"})
    return {"cuda": gpus, "cpu": _cpu(), "torch": torch.__version__, "cuda_version": torch.version.cuda,
            "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}


def _cpu() -> dict:
    import psutil

    memory = psutil.virtual_memory()
    return {"name": _cpu_name(), "logical_cores": os.cpu_count(), "physical_cores": psutil.cpu_count(logical=False),
            "total_gb": round(memory.total / 2**30, 1), "available_gb": round(memory.available / 2**30, 1),
            "load": psutil.cpu_percent(interval=0.2)}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def lines(info: dict) -> list:
    """Human lines for the panel and the CLI."""
    out = []
    for g in info["cuda"]:
        use = f", {g['utilisation']}% busy" if g["utilisation"] is not None else ""
        out.append(f"cuda:{g['index']} {g['name']} (compute {g['capability']}): {g['used_gb']:.1f} of "
                   f"{g['total_gb']:.1f} GiB used{use}")
    if not info["cuda"]:
        out.append("No CUDA device: training runs on the CPU" + (" (Apple MPS available: device=mps)"
                                                                  if info["mps"] else ""))
    c = info["cpu"]
    out.append(f"CPU: {c['name']}, {c['physical_cores']} cores / {c['logical_cores']} threads, "
               f"{c['available_gb']:.1f} of {c['total_gb']:.1f} GiB memory free, {c['load']:.0f}% load")
    out.append(f"torch {info['torch']}" + (f", CUDA {info['cuda_version']}" if info["cuda_version"] else ""))
    return out
