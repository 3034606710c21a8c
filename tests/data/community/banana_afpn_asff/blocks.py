"""AFPN adaptive spatial fusion (two and three levels), following zgqtql666/DETR-SCI-Banana's AFPN.py.

As in that file, the helpers (autopad, Conv, Upsample) are defined locally; tasks.py imports only ASFF2 and
ASFF3. ``c1`` is a LIST of input channels and the output has the channels of the input at ``level``.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def autopad(k, p=None, d=1):
    """Padding that keeps the spatial size for stride 1."""
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


class Conv(nn.Module):
    """Local conv-bn-act helper with the usual (c1, c2, k, s, p, g, d, act) signature."""

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = self.default_act if act is True else act if isinstance(act, nn.Module) else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Upsample(nn.Module):
    """Transposed-conv upsampler by 2 or 4 (no layer is built for other factors)."""

    def __init__(self, c1, c2, scale_factor=2):
        super().__init__()
        if scale_factor in (2, 4):
            self.cv1 = nn.ConvTranspose2d(c1, c2, scale_factor, scale_factor, 0, bias=True)

    def forward(self, x):
        return self.cv1(x)


class ASFF2(nn.Module):
    """Fuses two levels at ``level``'s resolution; output channels = c1[level]."""

    def __init__(self, c1, c2, level=0):
        super().__init__()
        c1_l, c1_h = c1[0], c1[1]
        self.level = level
        self.dim = c1_l, c1_h
        self.inter_dim = self.dim[level]
        compress_c = 8
        if level == 0:
            self.stride_level_1 = Upsample(c1_h, self.inter_dim)
        if level == 1:
            self.stride_level_0 = Conv(c1_l, self.inter_dim, 2, 2, 0)
        self.weight_level_0 = Conv(self.inter_dim, compress_c, 1, 1)
        self.weight_level_1 = Conv(self.inter_dim, compress_c, 1, 1)
        self.weights_levels = nn.Conv2d(compress_c * 2, 2, kernel_size=1, stride=1, padding=0)
        self.conv = Conv(self.inter_dim, self.inter_dim, 3, 1)

    def forward(self, x):
        a, b = x[0], x[1]
        if self.level == 0:
            b = self.stride_level_1(b)
        else:
            a = self.stride_level_0(a)
        w = torch.cat((self.weight_level_0(a), self.weight_level_1(b)), 1)
        w = F.softmax(self.weights_levels(w), dim=1)
        return self.conv(a * w[:, 0:1] + b * w[:, 1:2])


class ASFF3(nn.Module):
    """Fuses three levels at ``level``'s resolution; output channels = c1[level]."""

    def __init__(self, c1, c2, level=0):
        super().__init__()
        c1_l, c1_m, c1_h = c1[0], c1[1], c1[2]
        self.level = level
        self.dim = c1_l, c1_m, c1_h
        self.inter_dim = self.dim[level]
        compress_c = 8
        if level == 0:
            self.stride_level_1 = Upsample(c1_m, self.inter_dim)
            self.stride_level_2 = Upsample(c1_h, self.inter_dim, scale_factor=4)
        if level == 1:
            self.stride_level_0 = Conv(c1_l, self.inter_dim, 2, 2, 0)
            self.stride_level_2 = Upsample(c1_h, self.inter_dim)
        if level == 2:
            self.stride_level_0 = Conv(c1_l, self.inter_dim, 4, 4, 0)
            self.stride_level_1 = Conv(c1_m, self.inter_dim, 2, 2, 0)
        self.weight_level_0 = Conv(self.inter_dim, compress_c, 1, 1)
        self.weight_level_1 = Conv(self.inter_dim, compress_c, 1, 1)
        self.weight_level_2 = Conv(self.inter_dim, compress_c, 1, 1)
        self.weights_levels = nn.Conv2d(compress_c * 3, 3, kernel_size=1, stride=1, padding=0)
        self.conv = Conv(self.inter_dim, self.inter_dim, 3, 1)

    def forward(self, x):
        feats = list(x[:3])
        for i in range(3):
            if i != self.level:
                feats[i] = getattr(self, f"stride_level_{i}")(feats[i])
        w = torch.cat([getattr(self, f"weight_level_{i}")(feats[i]) for i in range(3)], 1)
        w = F.softmax(self.weights_levels(w), dim=1)
        return self.conv(sum(feats[i] * w[:, i : i + 1] for i in range(3)))
