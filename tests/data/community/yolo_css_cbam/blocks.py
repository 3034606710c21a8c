"""Ultralytics' own CBAM(c1, kernel_size=7), as yjhhaha/YOLO-CSS imports it from ultralytics.nn.modules."""

from ultralytics.nn.modules import CBAM

__all__ = ("CBAM",)
