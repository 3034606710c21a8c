"""Ultralytics' pre- and post-processing, for the studio's own inference paths (ONNX verification,
hydra detection): the letterbox its predictor feeds a network, its NMS and its box scaling."""

from __future__ import annotations


def network_input(picture, size: int, stride: int = 32):
    """The input Ultralytics' predictor makes from a BGR image: letterboxed to ``size`` (no auto
    padding), RGB, CHW, 0..1, a batch of one, as a float32 numpy array."""
    import numpy as np
    from ultralytics.data.augment import LetterBox

    boxed = LetterBox(new_shape=(size, size), auto=False, stride=stride)(image=picture)
    return np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def non_max_suppression(prediction, conf: float, iou: float, **kwargs):
    """Ultralytics' NMS (``ultralytics.utils.nms`` in 8.4; ``utils.ops`` before)."""
    from ultralytics.utils.nms import non_max_suppression as nms

    return nms(prediction, conf, iou, **kwargs)


def scale_boxes(network_shape, boxes, image_shape):
    """Boxes from the letterboxed network input back to the original image, in place."""
    from ultralytics.utils.ops import scale_boxes as scale

    return scale(network_shape, boxes, image_shape)


def inference_outputs(prediction) -> list:
    """The tensors an eval-mode forward pass returns for inference, in the order an ONNX export lists its
    outputs: Ultralytics 8.4 returns ``(y, extras)`` where ``y`` is one tensor (detect, pose, obb, classify)
    or ``(y, proto)`` (segment); a bare tensor is its own output."""
    import torch

    if isinstance(prediction, torch.Tensor):
        return [prediction]
    first = prediction[0] if isinstance(prediction, (list, tuple)) and prediction else prediction
    if isinstance(first, torch.Tensor):
        return [first]
    return [t for t in first if isinstance(t, torch.Tensor)]


def output_parts(task: str, index: int, shape: tuple, nc: int, kpt_shape=None) -> list:
    """What each channel range of output ``index`` of a ``task`` model holds, as (kind, first, last) on
    axis 1: boxes (pixels), class scores (0..1), mask coefficients, keypoints (x, y in pixels, visibility
    0..1), angles (radians), mask prototypes, class probabilities. This is the layout of Ultralytics'
    heads' inference output (4 box values, ``nc`` scores, then the task's own)."""
    channels = shape[1] if len(shape) > 1 else 0
    if task == "classify":
        return [("class probabilities", 0, channels)]
    if task == "segment" and index == 1:
        return [("mask prototypes", 0, channels)]
    parts = [("boxes", 0, 4), ("class scores", 4, 4 + nc)]
    rest = channels - 4 - nc
    if task == "segment" and rest > 0:
        parts.append(("mask coefficients", 4 + nc, channels))
    elif task == "obb" and rest > 0:
        parts.append(("angles", 4 + nc, channels))
    elif task == "pose" and rest > 0 and kpt_shape:
        dims = kpt_shape[1]
        start = 4 + nc
        parts.append(("keypoints", start, channels))
        if dims == 3:  # every third keypoint value is a visibility score, not a position
            parts.append(("keypoint visibility", start, channels, dims))
    elif rest > 0:
        parts.append(("other", 4 + nc, channels))
    return parts
