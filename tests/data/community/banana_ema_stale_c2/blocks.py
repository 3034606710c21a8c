"""Efficient Multi-scale Attention, following zgqtql666/DETR-SCI-Banana's EfficientMultiScaleAttention.py."""

import torch
import torch.nn as nn


class EMA(nn.Module):
    """Grouped cross-spatial attention; keeps the input's channels (``channels`` must divide by ``factor``)."""

    def __init__(self, channels, factor=8):
        super().__init__()
        self.groups = factor
        assert channels // self.groups > 0
        cg = channels // self.groups
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, kernel_size=1, stride=1, padding=0)
        self.conv3x3 = nn.Conv2d(cg, cg, kernel_size=3, stride=1, padding=1)

    def forward(self, x):
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        xh = self.pool_h(g)
        xw = self.pool_w(g).permute(0, 1, 3, 2)
        hw = self.conv1x1(torch.cat([xh, xw], dim=2))
        xh, xw = torch.split(hw, [h, w], dim=2)
        x1 = self.gn(g * xh.sigmoid() * xw.permute(0, 1, 3, 2).sigmoid())
        x2 = self.conv3x3(g)
        a1 = self.softmax(self.agp(x1).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        a2 = self.softmax(self.agp(x2).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        v1 = x2.reshape(b * self.groups, c // self.groups, -1)
        v2 = x1.reshape(b * self.groups, c // self.groups, -1)
        weights = (a1 @ v1 + a2 @ v2).reshape(b * self.groups, 1, h, w)
        return (g * weights.sigmoid()).reshape(b, c, h, w)
