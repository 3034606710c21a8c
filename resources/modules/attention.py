"""Example custom blocks for YOLO Studio.

Every torch.nn.Module subclass in a file of a modules folder can be named in a model YAML.
Its channel rule says how Ultralytics calls it (see docs/CUSTOM_BLOCKS.md); here it is
inferred from the constructor's first parameters.
"""

import torch
import torch.nn as nn


class SEAttention(nn.Module):
    """Squeeze-and-excitation channel attention; output channels = input channels."""

    # Inferred rule: c1 (first parameter c1): the YAML args [16] become SEAttention(c1, 16).
    def __init__(self, c1, reduction=16):
        super().__init__()
        hidden = max(c1 // reduction, 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Conv2d(c1, hidden, 1), nn.SiLU(), nn.Conv2d(hidden, c1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(self.pool(x))


class DownsampleConv(nn.Module):
    """Stride-2 depthwise-separable convolution that halves the resolution and sets channels."""

    # Inferred rule: base (c1, c2): c2 is width-scaled like Conv's first argument.
    def __init__(self, c1, c2, k=3):
        super().__init__()
        self.dw = nn.Conv2d(c1, c1, k, 2, k // 2, groups=c1, bias=False)
        self.pw = nn.Conv2d(c1, c2, 1, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.pw(self.dw(x))))
