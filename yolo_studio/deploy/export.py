"""Export a trained model with Ultralytics' exporter, offline, and verify the exported ONNX model.

Only formats whose packages are installed are offered (Ultralytics would otherwise try to pip
install them, which offline means a failure after a wait). ``verify_onnx`` runs the exported file
with onnxruntime on sample images and compares its raw output with the PyTorch model's on the very
same input tensors: the largest absolute difference and the latency of each are reported.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path

# Ultralytics format -> (packages it needs, what the user gets)
FORMATS = {
    "onnx": (("onnx",), "ONNX (.onnx), runs with onnxruntime and most inference engines"),
    "torchscript": ((), "TorchScript (.torchscript), runs with libtorch without Python"),
    "openvino": (("openvino",), "OpenVINO IR folder, for Intel CPUs and GPUs"),
    "engine": (("tensorrt",), "TensorRT engine (.engine), NVIDIA GPUs only"),
    "coreml": (("coremltools",), "Core ML (.mlpackage), Apple devices"),
    "ncnn": (("ncnn", "pnnx"), "NCNN folder, mobile and embedded"),
    "tflite": (("tensorflow",), "TensorFlow Lite (.tflite)"),
}
OPTIONS = ("imgsz", "half", "dynamic", "simplify", "opset")


@dataclass
class Format:
    name: str
    description: str
    available: bool
    missing: tuple = ()


def formats(device: str = "cpu") -> list:
    """Every export format, with whether it can be made here on ``device`` (its packages installed;
    TensorRT needs the export to run on a CUDA GPU)."""
    on_gpu = on_cuda(device)
    out = []
    for name, (packages, description) in FORMATS.items():
        missing = tuple(p for p in packages if importlib.util.find_spec(p) is None)
        if name == "engine" and not on_gpu:
            missing = (*missing, "the export to run on a CUDA GPU (choose one as the device)")
        out.append(Format(name, description, not missing, missing))
    return out


def on_cuda(device) -> bool:
    """Whether ``device`` (any spelling commands accept) is a CUDA GPU."""
    from yolo_studio.core.devices import torch_device_name

    try:
        return torch_device_name(device).startswith("cuda")
    except ValueError:
        return False


def export(weights: str | Path, fmt: str = "onnx", imgsz: int = 640, half: bool = False, dynamic: bool = False,
           simplify: bool = False, opset: int | None = None, device: str = "cpu") -> Path:
    """Export; returns the written file (or folder). Raises ValueError for a format not available here, or
    FP16 weights asked of a CPU export (Ultralytics makes half precision on a GPU only)."""
    chosen = next((f for f in formats(device) if f.name == fmt), None)
    if chosen is None:
        raise ValueError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
    if not chosen.available:
        raise ValueError(f"{fmt} export cannot be made here: it needs {' and '.join(chosen.missing)} (not installed "
                         "here; the studio does not install packages at run time); or choose onnx or torchscript")
    if half and not on_cuda(device):
        raise ValueError("FP16 weights (half) are made on a CUDA GPU only: choose a GPU as the device, or export "
                         "without half")
    if simplify and importlib.util.find_spec("onnxslim") is None:
        raise ValueError("simplify needs the onnxslim package, not installed here")
    from yolo_studio.deploy.predict import load_model

    model = load_model(weights)
    kwargs = {"format": fmt, "imgsz": imgsz, "half": half, "dynamic": dynamic, "simplify": simplify,
              "device": device}
    if opset:
        kwargs["opset"] = int(opset)
    try:
        out = model.export(**kwargs)
    except Exception as exc:  # Ultralytics raises plain exceptions for unsupported combinations
        raise ValueError(f"{fmt} export failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}") \
            from None
    if not out or not Path(out).exists():
        raise ValueError(f"{fmt} export wrote nothing: see the log above")
    return Path(out)


@dataclass
class Verification:
    images: int
    max_abs_diff: float
    mean_abs_diff: float
    torch_ms: float  # mean per image, batch 1, after one warm-up run
    onnx_ms: float
    tolerance: float
    parts: list = field(default_factory=list)  # per output kind: {"kind", "max_abs_diff", "tolerance"}

    @property
    def ok(self) -> bool:
        if self.parts:
            return all(p["max_abs_diff"] <= p["tolerance"] for p in self.parts)
        return self.max_abs_diff <= self.tolerance

    def text(self) -> str:
        verdict = "matches" if self.ok else "DIFFERS from"
        kinds = "; ".join((f"{p['boxes']} detections after NMS, {p['unmatched']} unmatched, lowest IoU "
                           f"{p['lowest_iou']:.3f}" if "boxes" in p else f"{p['kind']} {p['max_abs_diff']:.2e}") +
                          (" (over " + f"{p['tolerance']:g})" if p["max_abs_diff"] > p["tolerance"] else "")
                          for p in self.parts)
        return (f"ONNX output {verdict} PyTorch on {self.images} images: max |diff| {self.max_abs_diff:.2e}, "
                f"mean {self.mean_abs_diff:.2e}" + (f"; by output: {kinds}" if kinds else
                                                   f" (tolerance {self.tolerance:g})") +
                f"; latency PyTorch {self.torch_ms:.1f} ms, onnxruntime {self.onnx_ms:.1f} ms per image")


HALF_TOLERANCE = 1.0  # a float16 model's pixel outputs (boxes, keypoints at imgsz) differ by up to ~0.5 px
# A float16 model's other outputs, held to their own scale: one tolerance of a pixel would let every class
# score be wrong and still "match".
HALF_TOLERANCES = {"boxes": 1.0, "keypoints": 1.0, "class scores": 0.02, "class probabilities": 0.02,
                   "keypoint visibility": 0.02, "angles": 0.02, "mask coefficients": 0.1, "mask prototypes": 0.1,
                   "other": 1.0}


def _parts_of(task: str, index: int, array, nc: int, kpt_shape) -> list:
    """(kind, values) of one output, split by what its channels hold (``compat.inference.output_parts``)."""
    import numpy as np

    from yolo_studio.compat.inference import output_parts

    out = []
    for part in output_parts(task, index, array.shape, nc, kpt_shape):
        kind, first, last = part[:3]
        values = array[:, first:last]
        if kind == "keypoints" and kpt_shape and kpt_shape[1] == 3:  # positions only: visibility is its own
            keep = [k for k in range(values.shape[1]) if k % 3 != 2]
            values = values[:, keep]
        elif kind == "keypoint visibility":
            values = values[:, 2::3]
        out.append((kind, np.asarray(values, dtype=np.float32)))
    return out


def verify_onnx(onnx_file: str | Path, weights: str | Path, images: list, imgsz: int = 640,
                tolerance: float = 1e-3, device: str = "cpu") -> Verification:
    """Run both models on the same letterboxed images and compare every output, part by part: boxes,
    class scores, mask coefficients and prototypes, keypoints and their visibility, angles, class
    probabilities, each held to its own tolerance. The ONNX model is fed its own input type: a float16
    export (``half=True`` from a GPU) takes float16 images and gets ``HALF_TOLERANCES``."""
    import numpy as np
    import onnxruntime
    import torch

    from yolo_studio.compat.inference import inference_outputs
    from yolo_studio.deploy.predict import load_model

    if not images:
        raise ValueError("verification needs at least one sample image")
    # on the device it will run on: CUDA's provider for a GPU export where onnxruntime has it
    cuda = on_cuda(device) and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CUDAExecutionProvider"] if cuda else
                                           ["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    half = feed.type == "tensor(float16)"
    fixed = [d for d in feed.shape[2:] if isinstance(d, int)]
    size = fixed[0] if fixed else imgsz
    loaded = load_model(weights)
    task, nc = loaded.task, len(loaded.names or {})
    net = loaded.model.float().eval()
    kpt_shape = getattr(net, "kpt_shape", None) or (getattr(net, "yaml", None) or {}).get("kpt_shape")
    worst: dict = {}
    decoded = {"boxes": 0, "unmatched": 0, "lowest_iou": 1.0}
    diffs, torch_times, onnx_times = [], [], []
    for n, image in enumerate(images):
        tensor = _letterbox(image, size)
        with torch.no_grad():
            started = time.perf_counter()
            expected = [t.numpy() for t in inference_outputs(net(torch.from_numpy(tensor)))]
            torch_time = time.perf_counter() - started
        started = time.perf_counter()
        actual = session.run(None, {feed.name: tensor.astype(np.float16) if half else tensor})
        onnx_time = time.perf_counter() - started
        if len(actual) < len(expected):
            raise ValueError(f"the ONNX model has {len(actual)} outputs where PyTorch gives {len(expected)}: "
                             "the export lost an output")
        if task in ("detect", "segment", "pose"):
            _match_detections(expected[0], actual[0], nc, decoded)
        for index, (want, got) in enumerate(zip(expected, actual)):
            if got.shape != want.shape:
                raise ValueError(f"ONNX output {index} has shape {got.shape}, PyTorch's {want.shape}")
            diff = np.abs(got.astype(np.float32) - want.astype(np.float32))
            diffs.append((float(diff.max()), float(diff.mean())))
            for (kind, a), (_kind, b) in zip(_parts_of(task, index, got, nc, kpt_shape),
                                             _parts_of(task, index, want, nc, kpt_shape)):
                if a.size:
                    worst[kind] = max(worst.get(kind, 0.0), float(np.abs(a - b).max()))
        if n > 0 or len(images) == 1:  # the first run of each includes one-off setup
            torch_times.append(torch_time)
            onnx_times.append(onnx_time)
    parts = [{"kind": kind, "max_abs_diff": value,
              "tolerance": max(tolerance, HALF_TOLERANCES.get(kind, HALF_TOLERANCE)) if half else tolerance}
             for kind, value in worst.items()]
    if decoded["boxes"]:  # what a user gets: the detections after NMS, matched by IoU
        parts.append({"kind": "detections after NMS", "max_abs_diff": 1 - decoded["lowest_iou"] + decoded["unmatched"],
                      "tolerance": 1 - MIN_IOU, "boxes": decoded["boxes"], "unmatched": decoded["unmatched"],
                      "lowest_iou": round(decoded["lowest_iou"], 4)})
    return Verification(len(images), max(d[0] for d in diffs), sum(d[1] for d in diffs) / len(diffs),
                        1000 * sum(torch_times) / len(torch_times), 1000 * sum(onnx_times) / len(onnx_times),
                        max(tolerance, HALF_TOLERANCE) if half else tolerance, parts)


MIN_IOU = 0.9  # a detection of the exported model overlaps PyTorch's by at least this
CONF, MARGIN = 0.25, 0.05  # the predictor's default threshold; a box this close to it may fall either side


def _match_detections(expected, actual, nc: int, decoded: dict) -> None:
    """PyTorch's and the export's detections after Ultralytics' NMS: each PyTorch box clearly above the
    threshold must have a box of its class in the export's with IoU >= ``MIN_IOU``."""
    import numpy as np
    import torch

    from yolo_studio.compat.inference import non_max_suppression

    def boxes(raw, conf):
        found = non_max_suppression(torch.from_numpy(np.asarray(raw, dtype=np.float32)), conf, 0.7, nc=nc)[0]
        return found[:, :6].tolist()

    theirs = boxes(actual, CONF - MARGIN)
    for box in boxes(expected, CONF + MARGIN):
        decoded["boxes"] += 1
        same = [box_iou(box[:4], other[:4]) for other in theirs if int(other[5]) == int(box[5])]
        if not same or max(same) < MIN_IOU:
            decoded["unmatched"] += 1
        else:
            decoded["lowest_iou"] = min(decoded["lowest_iou"], max(same))


def box_iou(a, b) -> float:
    """IoU of two boxes given as x1, y1, x2, y2."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def _letterbox(image: str | Path, size: int):
    """The network input Ultralytics' predictor makes: letterboxed, RGB, CHW, 0..1, batch of one."""
    import cv2

    from yolo_studio.compat.inference import network_input

    picture = cv2.imread(str(image))
    if picture is None:
        raise ValueError(f"{image}: not a readable image")
    return network_input(picture, size)


def sample_images(weights: str | Path, count: int = 8) -> list:
    """Validation images of the dataset the model was trained on (from its run or registry entry)."""
    import yaml

    from yolo_studio.core.data.dataset_check import images_in, read_data_yaml, split_folders

    weights = Path(weights)
    for spec_file in (weights.parent.parent / "artifacts" / "run.yaml", weights.parent / "entry.yaml"):
        try:
            spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        data = spec.get("data") or (spec.get("dataset") or {}).get("path")
        if data and Path(data).is_file():
            folders = [f for f in split_folders(data, read_data_yaml(data), "val") if f.exists()]
            if folders:
                return images_in(folders[0])[:count]
    return []
