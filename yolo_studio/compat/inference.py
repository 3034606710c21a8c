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
