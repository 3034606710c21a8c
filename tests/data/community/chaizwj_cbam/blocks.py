"""Ultralytics' own CBAM(c1, kernel_size=7), as chaizwj/yolov8-tricks uses it (stock conv.py CBAM)."""

from ultralytics.nn.modules import CBAM

__all__ = ("CBAM",)
