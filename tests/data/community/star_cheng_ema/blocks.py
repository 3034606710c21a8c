"""EMA as in Star-Cheng/yolov8-attention's ultralytics/nn/EMA.py: an unused c2 slot before factor."""

import torch
import torch.nn as nn


class EMA(nn.Module):
    """Efficient multi-scale attention; keeps ``channels``. ``c2`` is accepted and ignored."""

    def __init__(self, channels, c2=None, factor=32):
        super().__init__()
        self.groups = factor
        assert channels // self.groups > 0
        cg = channels // self.groups
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, kernel_size=1)
        self.conv3x3 = nn.Conv2d(cg, cg, kernel_size=3, padding=1)

    def forward(self, x):
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        hw = self.conv1x1(torch.cat([self.pool_h(g), self.pool_w(g).permute(0, 1, 3, 2)], dim=2))
        xh, xw = torch.split(hw, [h, w], dim=2)
        x1 = self.gn(g * xh.sigmoid() * xw.permute(0, 1, 3, 2).sigmoid())
        x2 = self.conv3x3(g)
        a1 = self.softmax(self.agp(x1).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        a2 = self.softmax(self.agp(x2).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        n = b * self.groups
        wts = a1 @ x2.reshape(n, c // self.groups, -1) + a2 @ x1.reshape(n, c // self.groups, -1)
        return (g * wts.reshape(n, 1, h, w).sigmoid()).reshape(b, c, h, w)
