"""What this machine trains on: CUDA devices (memory, utilisation) or the CPU (cores, memory).

Plain dicts for the devices panel, preflight and ``yolo-studio devices``. GPUs are read through
NVIDIA's management library (NVML, ``pynvml``), never through CUDA: asking CUDA for a device's free
memory creates a context on it, which holds hundreds of megabytes of that GPU for as long as the
studio runs, taken from the training it prepares. Only the training process touches CUDA.

NVML lists GPUs in PCI bus order; CUDA's default order is fastest first. Trainings are started with
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (``training/launch.py``), so index N here is ``device=N`` there.
"""

from __future__ import annotations

import os
import platform


def describe_devices() -> dict:
    """{"cuda": [device dicts], "cpu": {...}, "torch": version, "cuda_version": str | None, "mps": bool}."""
    import torch

    return {"cuda": nvml_gpus(), "cpu": _cpu(), "torch": torch.__version__, "cuda_version": torch.version.cuda,
            "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}


def nvml_gpus(environ=None) -> list:
    """The GPUs this process may use, in the order ``device=N`` counts them (those ``CUDA_VISIBLE_DEVICES``
    names, in its order): ``{"index", "name", "total_gb", "free_gb", "used_gb", "utilisation",
    "capability"}``. Empty without an NVIDIA driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no pynvml, no driver: no NVIDIA GPU to use
        return []
    try:
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        uuids = [_text(pynvml.nvmlDeviceGetUUID(h)) for h in handles]
        gpus = []
        for index, physical in enumerate(visible_order(uuids, (environ or os.environ).get("CUDA_VISIBLE_DEVICES"))):
            handle = handles[physical]
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                utilisation = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            except Exception:  # not every board reports it
                utilisation = None
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            gpus.append({"index": index, "name": _text(pynvml.nvmlDeviceGetName(handle)),
                         "total_gb": round(memory.total / 2**30, 2), "free_gb": round(memory.free / 2**30, 2),
                         "used_gb": round(memory.used / 2**30, 2), "utilisation": utilisation,
                         "capability": f"{major}.{minor}"})
        return gpus
    except Exception:  # a driver without part of NVML: say nothing rather than something wrong
        return []
    finally:
        pynvml.nvmlShutdown()


def visible_order(uuids: list, visible: str | None) -> list:
    """NVML indices of the GPUs a process sees, in its order, for ``CUDA_VISIBLE_DEVICES`` = ``visible``
    (indices or UUIDs, possibly shortened; CUDA stops at the first entry it cannot read)."""
    if visible is None:
        return list(range(len(uuids)))
    order = []
    for entry in (e.strip() for e in visible.split(",")):
        if entry.isdigit() and int(entry) < len(uuids):
            found = int(entry)
        else:
            found = next((i for i, uuid in enumerate(uuids) if entry and uuid.startswith(entry)), None)
        if found is None or found in order:
            break
        order.append(found)
    return order


def device_choices(gpus: list, mps: bool = False) -> list:
    """``[(label, device)]`` for a device picker, best first: each GPU (``nvml_gpus()``), then Apple's
    MPS if there, then the CPU."""
    out = [(f"GPU {g['index']}: {g['name']} ({g['free_gb']:.0f} of {g['total_gb']:.0f} GiB free)", str(g["index"]))
           for g in gpus]
    return out + ([("Apple GPU (MPS)", "mps")] if mps else []) + [("CPU", "cpu")]


def requested_gpus(device) -> list:
    """CUDA indices a ``device`` argument asks for, as Ultralytics reads it (``0``, ``"0,1"``, ``[0, 1]``,
    ``"[0,1]"``, ``"cuda:0,1"``; ``-1`` is an idle GPU Ultralytics picks, kept as -1); [] for cpu/mps/auto."""
    if isinstance(device, (list, tuple)):
        items = [str(item) for item in device]
    else:
        text = "" if device is None else str(device).lower()
        for spelling in ("cuda:", "[", "]", "(", ")", "'", '"', " "):
            text = text.replace(spelling, "")
        items = [] if text in ("", "cpu", "mps", "cuda") else text.split(",")
    return [int(item) for item in items if item.strip().lstrip("-").isdigit() and int(item) >= -1]


def idle_gpus_chosen(device, gpus: list):
    """``device`` with each ``-1`` (an idle GPU, as Ultralytics reads it) replaced by a GPU of ``gpus``
    (``nvml_gpus()``), most free memory first, when several are asked for: each rank of a multi-GPU run
    would otherwise pick its own. Anything else is returned as it is."""
    wanted = requested_gpus(device)
    if len(wanted) < 2 or -1 not in wanted:
        return device
    taken = {i for i in wanted if i >= 0}
    free = [g["index"] for g in sorted(gpus, key=lambda g: -g["free_gb"]) if g["index"] not in taken]
    if len(free) < wanted.count(-1):
        return device  # preflight says there are not that many
    picks = iter(free)
    return ",".join(str(i if i >= 0 else next(picks)) for i in wanted)


def torch_device_name(device) -> str:
    """One device as ``torch.device`` takes it, from any spelling Ultralytics accepts for one device:
    ``0``, ``"0"``, ``"cuda:0"``, ``"cuda"``, ``"cpu"``, ``"mps"`` (None and "" are the CPU). Raises
    ValueError for several devices or a spelling that names none."""
    text = "cpu" if device is None else str(device).strip().lower().replace(" ", "")
    text = text or "cpu"
    if text in ("cpu", "mps"):
        return text
    index = text[5:] if text.startswith("cuda:") else ("0" if text == "cuda" else text)
    if "," in index:
        raise ValueError(f"device={device}: this runs on one device; pick one GPU (e.g. device=0) or cpu")
    if not index.isdigit():
        raise ValueError(f"device={device}: not a device; use cpu, mps, or a GPU index such as 0")
    return f"cuda:{int(index)}"


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
