"""Hydra operations: extract a backbone from a trained detector, add and train heads, detect.

``HydraDetector`` loads the backbone once, loads and unloads heads at run time, runs the backbone
once per image and every loaded head on its features. Heads keep only their own layers in memory.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path

from yolo_studio.hydra import split as hs
from yolo_studio.hydra.store import HeadVersion, HydraStore

HASH_TOLERANCE = 1e-3  # a trained head's backbone may differ from the original by EMA rounding only


def load_detector(weights: str | Path):
    """The DetectionModel of a checkpoint (custom blocks registered), float32, eval mode."""
    from yolo_studio.deploy.predict import load_model

    model = load_model(weights).model
    return model.float().eval()


def sample_inputs(imgsz: int = 128, count: int = 2, seed: int = 0) -> list:
    import torch

    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(1, 3, imgsz, imgsz, generator=generator) for _ in range(count)]


def extract(hydra_dir: str | Path, name: str, weights: str | Path, head: str, split: int | None = None,
            metrics: dict | None = None, classes: list | None = None, dataset_hash: str = "", source_run: str = "",
            metric: str = "f1", imgsz: int = 128) -> dict:
    """Create ``hydra_dir/name`` from a trained detector; its own head becomes ``head`` v1.

    Raises ValueError when the split is impossible or the backbone plus head does not reproduce the
    detector's outputs exactly on sample inputs.
    """
    model = load_detector(weights)
    k = hs.default_split(model) if split is None else int(split)
    hs.check_split(model, k)
    difference = hs.equivalent(model, k, sample_inputs(imgsz))
    if difference != 0.0:
        raise ValueError(f"backbone + head at layer {k} differ from the model by {difference:.2e}: this model "
                         "cannot be split there")
    store = HydraStore(Path(hydra_dir) / name)
    store.create(weights, k, hs.layer_hash(model, k), source_run, metric)
    names = classes if classes is not None else [model.names[i] for i in sorted(model.names)]
    version, promoted, reason = store.add_version(head, weights, metrics or {}, names, dataset_hash,
                                                  "extracted with the backbone", source_run)
    return {"hydra": str(store.root), "split": k, "backbone_hash": store.load()["backbone"]["hash"],
            "head": version.head, "version": version.version, "promoted": promoted, "difference": difference}


def split_options(weights: str | Path, imgsz: int = 640) -> list:
    """Where a detector can be split, with what each choice costs: per split k, the last shared
    layer, the head's share of the FLOPs, and the cost of 6 and 12 heads in models (by FLOPs)."""
    model = load_detector(weights)
    shares = hs.flop_shares(model, imgsz)
    default, backbone_end = hs.default_split(model), hs.backbone_end(model)
    options = []
    for k in range(1, len(model.model)):
        share = shares[k]
        options.append({"split": k, "after": type(model.model[k - 1]).__name__, "head_share": round(share, 4),
                        "heads_6": round(1 + 5 * share, 2), "heads_12": round(1 + 11 * share, 2),
                        "default": k == default, "backbone_end": k == backbone_end})
    return options


def split_mark(option: dict) -> str:
    """What a split option is, for a list of them: the default, the end of the YAML backbone, or nothing."""
    marks = (["default: heads keep their bottom-up path"] if option.get("default") else []) + \
        (["end of the YAML backbone"] if option.get("backbone_end") else [])
    return f" ({'; '.join(marks)})" if marks else ""


def source_details(weights: Path, project) -> dict:
    """What extraction records about a detector of a project: its metrics, classes, dataset hash,
    source run and training size, from its registry entry or its run folder."""
    from yolo_studio.core.data.dataset_check import check_dataset
    from yolo_studio.training.registry import best_metrics, dataset_hash, list_entries
    from yolo_studio.training.run_store import run_imgsz, summarize

    weights = Path(weights)
    run = weights.parent.parent if weights.parent.name == "weights" else None
    details = {"metrics": {}, "classes": None, "dataset_hash": "", "source_run": str(run or ""), "imgsz": 128}
    entry = next((e for e in list_entries(project.registry_dir) if e.weights == weights), None)
    if entry is not None:
        details.update(metrics=entry.metrics, classes=entry.names, dataset_hash=entry.dataset.get("hash", ""),
                       imgsz=entry.imgsz)
    elif run is not None and (summary := summarize(run)) is not None:
        details.update(metrics=best_metrics(run, summary), imgsz=run_imgsz(run, 128))
        data = summary.data
        if data and Path(data).is_file():
            details.update(classes=check_dataset(data).names or None, dataset_hash=dataset_hash(data))
    return details


def extract_in_project(project, name: str, weights: str | Path, head: str, split: int | None = None,
                       metric: str = "f1") -> dict:
    """``extract`` into ``<project>/hydra``, recording the detector's metrics, classes and dataset."""
    details = source_details(Path(weights), project)
    return extract(project.root / "hydra", name, weights, head, split, details["metrics"], details["classes"],
                   details["dataset_hash"], details["source_run"], metric, min(details["imgsz"], 320))


def add_head(store: HydraStore, head: str, weights: str | Path, metrics: dict, classes: list,
             dataset_hash: str = "", notes: str = "", source_run: str = "") -> tuple:
    """Add a trained head version after checking it was trained on this hydra's backbone."""
    state = store.load()
    k = state["split"]
    model = load_detector(weights)
    if len(model.model) <= k:
        raise ValueError(f"{weights}: the model has {len(model.model)} layers, the backbone alone has {k}")
    found = hs.layer_hash(model, k)
    if found != state["backbone"]["hash"]:
        difference = hs.max_backbone_difference(model, load_detector(store.backbone_weights), k)
        if difference > HASH_TOLERANCE:
            raise ValueError(f"{weights} was not trained on the backbone of '{store.name}' (its layers 0..{k - 1} "
                             f"hash {found}, the backbone's {state['backbone']['hash']}; max weight difference "
                             f"{difference:.3g}): train the head with the backbone frozen (yolo-studio hydra "
                             "train-head) and add that run's weights")
    return store.add_version(head, weights, metrics, classes, dataset_hash, notes, source_run)


class HydraDetector:
    """One backbone pass per image, then every loaded head."""

    def __init__(self, store: HydraStore, device: str = "cpu", together: str = "auto"):
        """``together``: "auto" runs heads of one shape as one network where measured faster on this
        device (hydra/merged.py), "always" or "never" decide without measuring."""
        import torch

        from yolo_studio.core.devices import torch_device_name

        self.store = store
        self.device = torch.device(torch_device_name(device))  # "0" as every other command takes it
        self.channels_last = self.device.type == "cpu"
        state = store.load()
        self.k = state["split"]
        self.backbone_hash = state["backbone"]["hash"]
        backbone = load_detector(store.backbone_weights)
        # Parameter-free layers right after the split (Upsample, Concat) are the same in every head:
        # they run once, and heads whose layers match start after them.
        self.shared = hs.shared_prefix(backbone, self.k)
        _drop_layers(backbone, range(self.shared, len(backbone.model)))  # the source's own head is not needed
        self.backbone = self._for_inference(backbone)
        self.stride = int(max(backbone.stride)) if hasattr(backbone, "stride") else 32
        self.heads: dict = {}  # head name -> (model, names, version, first layer it runs)
        self.together = together
        self.generation = 0  # counts loads and unloads: a plan is for one set of heads
        self.plan = None  # merged.Plan, built in the background; detection never waits for it
        self._planning = None  # (generation, imgsz) of the plan being built
        self._plan_lock = threading.Lock()
        self.plan_ready = threading.Event()

    def load_head(self, version: HeadVersion) -> None:
        model = load_detector(version.weights)
        if hs.layer_hash(model, self.k) != self.backbone_hash and \
                hs.max_backbone_difference(model, self._backbone_reference(), self.k) > HASH_TOLERANCE:
            raise ValueError(f"head '{version.head}' v{version.version} was trained on another backbone")
        start = self.shared if hs.same_layers(model, self.backbone, self.k, self.shared) else self.k
        _drop_layers(model, range(start))  # the shared backbone runs instead
        self.heads[version.head] = (self._for_inference(model), version.classes or model.names, version.version,
                                    start)
        self._heads_changed()
        return_freed_memory()

    def _for_inference(self, model):
        """Conv and BatchNorm fused, as Ultralytics predicts; on the CPU in channels-last memory
        format, which oneDNN runs about 1.6x faster at 640 px (docs/PERFORMANCE.md)."""
        import torch

        model = model.fuse(verbose=False).to(self.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def _ms(self, started: float) -> float:
        """Milliseconds since ``started`` once the device has finished its work: CUDA runs kernels
        asynchronously, and without waiting a stage would measure their launch, not the work."""
        if self.device.type == "cuda":
            import torch

            torch.cuda.synchronize(self.device)
        return _ms(started)

    def _backbone_reference(self):
        return load_detector(self.store.backbone_weights)

    def unload_head(self, head: str) -> None:
        self.heads.pop(head, None)
        self._heads_changed()
        return_freed_memory()

    def _heads_changed(self) -> None:
        """A new plan for the new set of heads, in the background; until it is ready heads run one by one.
        Heads that ran together get their own tensors back, so an unloaded head's memory is freed."""
        with self._plan_lock:
            self.generation += 1
            old, self.plan = self.plan, None
            self.plan_ready.clear()
        if old is not None and old.shared:
            for names, _ in old.groups:
                for name in names:
                    if name in self.heads:
                        for tensor in (*self.heads[name][0].parameters(), *self.heads[name][0].buffers()):
                            tensor.data = tensor.data.clone()
        if old is not None or self._planning is not None:
            self._plan_for(old.imgsz if old is not None else self._planning[1])

    def _plan_for(self, imgsz: int) -> None:
        """Start building the plan for the current heads at ``imgsz`` unless it exists or is being built."""
        if self.together == "never" or len(self.heads) < 2:
            return
        with self._plan_lock:
            wanted = (self.generation, imgsz)
            if self._planning == wanted or (self.plan is not None and (self.plan.generation, self.plan.imgsz) == wanted):
                return
            self._planning = wanted
            # the planning thread measures copies: the heads themselves may run meanwhile
            heads = {name: (copy.deepcopy(model), start) for name, (model, _names, _v, start) in self.heads.items()}
        threading.Thread(target=self._build_plan, args=(heads, *wanted), name="hydra-plan", daemon=True).start()

    def _build_plan(self, heads: dict, generation: int, imgsz: int) -> None:
        import torch

        from yolo_studio.hydra import merged

        def features_at(start: int):
            x = torch.zeros(1, 3, imgsz, imgsz, device=self.device)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            features = hs.run_backbone(self.backbone, x, self.k)
            return hs.run_shared(self.backbone, features, self.k, start) if start > self.k else features

        try:
            plan = merged.build_plan(heads, generation, imgsz, features_at, self.device, self.together,
                                     still_wanted=lambda: self.generation == generation)
        except Exception as exc:  # heads keep running one by one; the reason is kept for the timing tooltip
            plan = merged.Plan(generation, imgsz, measured=[{"error": f"{type(exc).__name__}: {exc}"}])
        with self._plan_lock:
            if plan is not None and plan.generation == self.generation:
                self.plan = plan  # its heads share storage on first use, on the detecting thread
            if self._planning == (generation, imgsz):
                self._planning = None
        if plan is not None:
            self.plan_ready.set()

    def wait_for_plan(self, timeout: float | None = None) -> bool:
        """For benchmarks and tests: wait until a plan for the current heads is in use."""
        return self.plan_ready.wait(timeout)

    def load_active(self) -> list:
        versions = self.store.active()
        for version in versions:
            self.load_head(version)
        return versions

    def detect(self, image, imgsz: int = 640, conf: float = 0.25, iou: float = 0.7) -> dict:
        """Objects of every loaded head in one image (a path or a BGR array), with per-stage ms."""
        import cv2
        import numpy as np
        import torch

        from yolo_studio.compat.inference import network_input, non_max_suppression, scale_boxes

        timing = {}
        started = time.perf_counter()
        picture = cv2.imread(str(image)) if not isinstance(image, np.ndarray) else image
        if picture is None:
            raise ValueError(f"{image}: not a readable image")
        x = torch.from_numpy(network_input(picture, imgsz, self.stride)).to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        timing["preprocess"] = _ms(started)
        objects = []
        with torch.no_grad():
            started = time.perf_counter()
            features = {self.k: hs.run_backbone(self.backbone, x, self.k)}
            timing["backbone"] = self._ms(started)
            if self.shared > self.k:  # the parameter-free layers every head computes alike: once
                started = time.perf_counter()
                features[self.shared] = hs.run_shared(self.backbone, features[self.k], self.k, self.shared)
                timing["shared"] = self._ms(started)
            outputs = self._run_heads(features, imgsz, timing)
            for head, (model, names, _version, start) in self.heads.items():
                raw = outputs[head]
                started = time.perf_counter()
                found = non_max_suppression(raw, conf, iou)[0]
                found[:, :4] = scale_boxes(x.shape[2:], found[:, :4], picture.shape[:2])
                for *box, score, cls in found.tolist():
                    label = names[int(cls)] if isinstance(names, list) else names.get(int(cls), str(int(cls)))
                    objects.append({"head": head, "cls": int(cls), "name": label, "conf": round(score, 4),
                                    "box": [round(v, 1) for v in box]})
                timing["postprocess"] = timing.get("postprocess", 0.0) + _ms(started)
        return {"objects": objects, "timing": timing, "width": picture.shape[1], "height": picture.shape[0]}


    def _run_heads(self, features: dict, imgsz: int, timing: dict) -> dict:
        """Each head's raw output. Heads of one shape run together when the current plan says so (their
        time is shared equally among them in ``timing``); the others, or all while a plan is built, one by one."""
        with self._plan_lock:
            plan = self.plan if self.plan is not None and (self.plan.generation, self.plan.imgsz) == \
                (self.generation, imgsz) else None
        if plan is None:
            self._plan_for(imgsz)
        elif not plan.shared:  # here, not on the planning thread: no head runs while its tensors move
            for names, joint in plan.groups:
                joint.share_storage([self.heads[n][0] for n in names])
            plan.shared = True
        outputs = {}
        for names, joint in plan.groups if plan is not None else ():
            started = time.perf_counter()
            start = self.heads[names[0]][3]
            for name, raw in zip(names, joint.run(features[start])):
                outputs[name] = raw
            share = self._ms(started) / len(names)
            timing.update({f"head:{name}": share for name in names})
        for head, (model, _names, _version, start) in self.heads.items():
            if head in outputs:
                continue
            started = time.perf_counter()
            raw = hs.run_head(model, features[start], start)
            outputs[head] = raw[0] if isinstance(raw, (list, tuple)) else raw
            timing[f"head:{head}"] = self._ms(started)
        return outputs


def network_stages(timing: dict) -> dict:
    """The network's stages in a result's timing: for a hydra model its backbone, shared layers and
    heads (``head:<name>``), each on its own; for a model, ``inference``."""
    stages = {stage: ms for stage, ms in timing.items() if stage in ("backbone", "shared") or stage.startswith("head:")}
    return stages or {"inference": timing.get("inference", 0.0)}


def return_freed_memory() -> None:
    """Give the memory of dropped layers back to the system. A head is cut from a whole checkpoint; glibc's
    allocator otherwise keeps what the dropped backbone held, so each loaded head grew the process by
    up to a backbone more than its own weights (docs/PERFORMANCE.md)."""
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to ask
            pass


def _drop_layers(model, indices) -> None:
    import torch

    for i in indices:
        model.model[i] = torch.nn.Identity()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def prepare_head_run(store: HydraStore, head: str, data: str | Path, runs_dir: str | Path, name: str,
                     overrides: dict | None = None):
    """A run folder that trains ``head`` on ``data`` with the hydra's backbone frozen.

    The model is the backbone's detector with ``nc`` set to the dataset's classes; it starts from
    the backbone checkpoint (``pretrained``: every layer of the same shape is loaded) and
    ``freeze`` keeps layers 0..k-1 (and their BatchNorm statistics) as they are.
    """
    import yaml

    from yolo_studio.core.atomic import write_text_atomic
    from yolo_studio.core.data.dataset_check import check_dataset
    from yolo_studio.training.run_folder import checkpoint_blocks, prepare_run

    report = check_dataset(data)
    if report.errors:
        raise ValueError("the dataset has problems: " + "; ".join(report.errors[:3]))
    state = store.load()
    source = load_detector(store.backbone_weights)
    model_yaml = store.root / "heads" / head / "model.yaml"
    write_text_atomic(model_yaml, yaml.safe_dump({**source.yaml, "nc": report.nc}, sort_keys=False))
    settings = {**(overrides or {}), "freeze": state["split"], "pretrained": str(store.backbone_weights)}
    return prepare_run(model_yaml, data, runs_dir, name, settings, "detect", checkpoint_blocks(store.backbone_weights))


def add_trained_head(store: HydraStore, head: str, run, notes: str = "") -> tuple:
    """Store a finished head run's best.pt as the head's next version (backbone hash checked)."""
    from yolo_studio.core.data.dataset_check import check_dataset
    from yolo_studio.training.registry import best_metrics, dataset_hash
    from yolo_studio.training.run_store import summarize

    summary = summarize(run.path)
    if summary is None or not run.best.is_file():
        raise ValueError(f"{run.path} saved no best.pt: the head run did not finish an epoch")
    data = run.spec()["data"]
    return add_head(store, head, run.best, best_metrics(run.path, summary), check_dataset(data).names,
                    dataset_hash(data), notes, str(run.path))


def detect_sources(store: HydraStore, sources, imgsz: int = 640, conf: float = 0.25, iou: float = 0.7,
                   device: str = "cpu", on_result=None, cancelled=None) -> list:
    """Every active head on the images of ``sources``, as ``deploy.predict.ImageResult``s.

    Object names are ``head:class``; timing is preprocess, inference (the backbone, the shared layers and
    every head: so a hydra model compares with a single model in the same table), each of those stages
    on its own, and postprocess. A video is listed with the reason it gives no result.
    """
    from yolo_studio.deploy.predict import VIDEO_SUFFIXES, ImageResult, expand_sources

    detector = HydraDetector(store, device)
    if not detector.load_active():
        raise ValueError(f"'{store.name}' has no active head: promote a version first")
    results = []
    for image in expand_sources(sources):
        if cancelled and cancelled():
            break
        if image.suffix.lower() in VIDEO_SUFFIXES:
            result = ImageResult(str(image), 0, 0, error="a hydra model detects in images: choose frames "
                                                         "exported as images, or a single model for a video")
        else:
            found = detector.detect(image, imgsz, conf, iou)
            t = found["timing"]
            network = network_stages(t)
            objects = [{**o, "name": f"{o['head']}:{o['name']}"} for o in found["objects"]]
            result = ImageResult(str(image), found["width"], found["height"], objects,
                                 {"preprocess": t["preprocess"], "inference": round(sum(network.values()), 2),
                                  **network, "postprocess": round(t.get("postprocess", 0.0), 2)})
        results.append(result)
        if on_result:
            on_result(result)
    return results


def detect_task(on_result, store: str, **kwargs) -> str:
    """``detect_sources`` as a GPU worker process's task (``deploy/gpu_worker.run_in_child``)."""
    from yolo_studio.hydra.store import HydraStore

    detect_sources(HydraStore(store), **kwargs, on_result=on_result)
    return "items"
