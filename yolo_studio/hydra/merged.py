"""Heads run together: heads of one shape stacked into one batched network.

Heads at one split have the same architecture; only their weights differ (and Detect's class
branch, when their datasets have different numbers of classes). Heads whose tensors have the same
names and shapes are stacked (``torch.func.stack_module_state``) and run in one call mapped over the
heads (``torch.func.vmap``): PyTorch turns the mapped convolutions into grouped ones, one kernel for
all heads instead of one per head. The outputs equal the per-head path (``split.run_head``).

Whether that is faster depends on the device, the image size and the memory layout: on a 2-core CPU
at 640 px in channels-last it was slower, in NCHW and at small images faster (docs/PERFORMANCE.md).
So the detector does not guess: ``build_plan`` measures both ways once per device, image size and
head shape, remembers the answer in the studio's cache, and keeps the faster.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field

import torch  # this module is imported only where heads run, never at the studio's start

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.home import studio_cache_dir
from yolo_studio.hydra import split as hs

CHOICES_FILE = "hydra-heads-together.json"
ROUNDS = 3  # timed rounds each way, alternating, after one warm-up


def shape_key(model, start: int) -> tuple:
    """Heads with equal keys can be stacked: the same first layer and tensors of the same names and shapes."""
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    return (start, *sorted((name, tuple(t.shape)) for name, t in tensors.items()))


class _Head(torch.nn.Module):
    """The per-head path as a module whose weights ``functional_call`` can swap."""

    def __init__(self, model, start: int):
        super().__init__()
        self.m, self.start = model, start

    def forward(self, saved, last):
        out = hs.run_head(self.m, hs.Features(saved, last), self.start)
        return out[0] if isinstance(out, (list, tuple)) else out


class MergedHeads:
    """Heads of one shape (``shape_key``) run as one network; ``run(features)`` returns one output per head."""

    def __init__(self, models: list, start: int):
        from torch.func import functional_call, stack_module_state, vmap

        keys = {shape_key(m, start) for m in models}
        if len(keys) != 1:
            raise ValueError("only heads with tensors of the same names and shapes run together")
        heads = [_Head(m, start) for m in models]
        self.params, self.buffers = stack_module_state(heads)
        template = _Head(copy.deepcopy(models[0]), start)  # real tensors: Detect reads its stride as a number

        def one(params, buffers, saved, last):
            return functional_call(template, (params, buffers), (saved, last))

        self._run = vmap(one, in_dims=(0, 0, None, None))

    def share_storage(self, models: list) -> None:
        """Point each head's own tensors into the stacked ones: running together then costs no memory
        beyond the heads' own (the per-head path still works, on the same numbers)."""
        for i, model in enumerate(models):
            for store, tensors in ((self.params, model.named_parameters()), (self.buffers, model.named_buffers())):
                for name, tensor in tensors:
                    tensor.data = store[f"m.{name}"][i]

    def run(self, features: hs.Features) -> list:
        stacked = self._run(self.params, self.buffers, features.saved, features.last)
        return list(stacked.unbind(0))


@dataclass
class Plan:
    """Which heads run together, for one set of loaded heads (``generation``) at one image size."""

    generation: int
    imgsz: int
    groups: list = field(default_factory=list)  # [(head names, MergedHeads)]
    measured: list = field(default_factory=list)  # [{"heads", "separate_ms", "together_ms", "choice"}]
    shared: bool = False  # the heads' own tensors point into the stacked ones (MergedHeads.share_storage)

    def together(self) -> set:
        return {name for names, _ in self.groups for name in names}


def device_label(device: torch.device) -> str:
    """What a measured choice holds for: the same device, thread count and PyTorch."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"cpu {platform.machine()} x{os.cpu_count()} threads {torch.get_num_threads()}"
    return f"{name} | torch {torch.__version__}"


def _choices_path():
    return studio_cache_dir() / CHOICES_FILE


def _read_choices() -> dict:
    try:
        return json.loads(_choices_path().read_text())
    except (OSError, ValueError):
        return {}


def _remember(key: str, record: dict) -> None:
    choices = _read_choices()
    choices[key] = record
    write_text_atomic(_choices_path(), json.dumps(choices, indent=1, sort_keys=True))


def _median_ms(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(models: list, merged: MergedHeads, features: hs.Features, start: int, device: torch.device,
            rounds: int = ROUNDS) -> tuple:
    """Milliseconds for the heads one after another and together, alternating, medians."""
    def apart():
        for model in models:
            hs.run_head(model, features, start)
        _sync(device)

    def together():
        merged.run(features)
        _sync(device)

    apart(), together()  # warm-up: first calls pick kernels and allocate
    separate, joint = [], []
    for _ in range(rounds):
        separate.append(_median_ms(apart, 1))
        joint.append(_median_ms(together, 1))
    return statistics.median(separate), statistics.median(joint)


def build_plan(heads: dict, generation: int, imgsz: int, features_at, device: torch.device, mode: str = "auto",
               still_wanted=lambda: True) -> Plan | None:
    """The plan for ``heads`` (name -> (model, start)): groups of two or more heads of one shape run
    together when ``mode`` is "always", or when "auto" and measured faster on this device (measured
    once, then read from the cache). ``features_at(start)`` gives features at ``imgsz`` to measure on.
    Returns None when ``still_wanted()`` turns false (heads changed meanwhile)."""
    groups: dict = {}
    for name, (model, start) in heads.items():
        groups.setdefault(shape_key(model, start), []).append(name)
    plan = Plan(generation, imgsz)
    for key, names in groups.items():
        if len(names) < 2 or not still_wanted():
            continue
        models, start = [heads[n][0] for n in names], heads[names[0]][1]
        merged = MergedHeads(models, start)
        choice_key = f"{device_label(device)} | {imgsz} px | {len(names)} heads | {hash_key(key)}"
        record = _read_choices().get(choice_key) if mode == "auto" else None
        if record is None and mode == "auto":
            with torch.no_grad():
                separate, joint = measure(models, merged, features_at(start), start, device)
            record = {"separate_ms": round(separate, 2), "together_ms": round(joint, 2),
                      "choice": "together" if joint < separate else "separate"}
            _remember(choice_key, record)
        if mode == "always" or record["choice"] == "together":
            plan.groups.append((tuple(names), merged))
        plan.measured.append({"heads": list(names), **(record or {"choice": "together"})})
    return plan if still_wanted() else None


def hash_key(key: tuple) -> str:
    import hashlib

    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]
