"""Content-guided attention fusion of two maps, following zgqtql666/DETR-SCI-Banana's CGAFusion.py.

The helpers reuse Ultralytics' class names (SpatialAttention, ChannelAttention) with different signatures
and outputs (attention maps, not re-weighted features). PixelAttention.forward needs TWO tensors, so it
cannot be smoke-tested as a one-input YAML block.
"""

import torch
import torch.nn as nn


class SpatialAttention(nn.Module):
    """Returns a 1-channel spatial map from mean/max pooling (no channel argument)."""

    def __init__(self):
        super().__init__()
        self.sa = nn.Conv2d(2, 1, 7, padding=3, padding_mode="reflect", bias=True)

    def forward(self, x):
        return self.sa(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1))


class ChannelAttention(nn.Module):
    """Returns a (B, dim, 1, 1) channel map."""

    def __init__(self, dim, reduction=8):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.ca = nn.Sequential(
            nn.Conv2d(dim, dim // reduction, 1, padding=0, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim // reduction, dim, 1, padding=0, bias=True),
        )

    def forward(self, x):
        return self.ca(self.gap(x))


class PixelAttention(nn.Module):
    """Grouped 7x7 conv over interleaved (feature, coarse attention) pairs -> per-pixel gate."""

    def __init__(self, dim):
        super().__init__()
        self.pa2 = nn.Conv2d(2 * dim, dim, 7, padding=3, padding_mode="reflect", groups=dim, bias=True)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x, pattn1):
        b, c, h, w = x.shape
        pair = torch.stack([x, pattn1.expand_as(x)], dim=2).reshape(b, 2 * c, h, w)
        return self.sigmoid(self.pa2(pair))


class CGAFusion(nn.Module):
    """Fuses two maps of ``dim`` channels; the output has ``dim`` channels."""

    def __init__(self, dim, reduction=8):
        super().__init__()
        self.sa = SpatialAttention()
        self.ca = ChannelAttention(dim, reduction)
        self.pa = PixelAttention(dim)
        self.conv = nn.Conv2d(dim, dim, 1, bias=True)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x1, x2 = x[0], x[1]
        initial = x1 + 0.5 * x2
        pattn1 = self.sa(initial) + self.ca(initial)
        pattn2 = self.sigmoid(self.pa(initial, pattn1))
        return self.conv(initial + pattn2 * x1 + (1 - pattn2) * x2)
