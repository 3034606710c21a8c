"""Haar wavelet pooling / unpooling, following the YOLO11 framework vendored by qiuxiaolong857/LGAE-CSPL."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _haar_filters():
    """The four 2x2 Haar analysis filters (LL, LH, HL, HH), flipped for use as conv kernels, shape (4, 1, 2, 2)."""
    ll = np.array([[0.5, 0.5], [0.5, 0.5]])
    lh = np.array([[-0.5, -0.5], [0.5, 0.5]])
    hl = np.array([[-0.5, 0.5], [-0.5, 0.5]])
    hh = np.array([[0.5, -0.5], [-0.5, 0.5]])
    bank = np.stack([f[None, ::-1, ::-1] for f in (ll, lh, hl, hh)], axis=0)
    return torch.tensor(bank.copy()).to(torch.get_default_dtype())


class WaveletPool(nn.Module):
    """Stride-2 Haar analysis applied per channel: (B, C, H, W) -> (B, 4C, H/2, W/2)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(_haar_filters(), requires_grad=False)

    def forward(self, x):
        c = x.shape[1]
        return F.conv2d(x, self.weight.repeat(c, 1, 1, 1), groups=c, stride=2)


class WaveletUnPool(nn.Module):
    """Inverse of WaveletPool: (B, 4C, H, W) -> (B, C, 2H, 2W)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(_haar_filters(), requires_grad=False)

    def forward(self, x):
        c = x.shape[1] // 4
        return F.conv_transpose2d(x, self.weight.repeat(c, 1, 1, 1), groups=c, stride=2)
