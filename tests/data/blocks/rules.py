"""Test blocks: one per channel rule."""

import torch
import torch.nn as nn


class KeepAttention(nn.Module):
    """c1 (inferred): channel attention that keeps the input's channels."""

    def __init__(self, c1, reduction=4):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c1, max(c1 // reduction, 1), 1), nn.ReLU(),
                                  nn.Conv2d(max(c1 // reduction, 1), c1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.gate(x)


class StridedConv(nn.Module):
    """base (inferred): sets the output channels, halves the resolution."""

    def __init__(self, c1, c2, k=3):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, 2, k // 2)

    def forward(self, x):
        return self.conv(x)


class StackedConv(nn.Module):
    """repeat (inferred): n inner convolutions."""

    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        self.cv = nn.Conv2d(c1, c2, 1)
        self.m = nn.ModuleList(nn.Conv2d(c2, c2, 3, 1, 1) for _ in range(n))
        self.shortcut = shortcut

    def forward(self, x):
        y = self.cv(x)
        for m in self.m:
            y = y + m(y) if self.shortcut else m(y)
        return y


class WeightedFuse(nn.Module):
    """concat (declared): concatenates its inputs along channels."""

    channel_rule = "concat"

    def __init__(self, dim=1):
        super().__init__()
        self.dim = dim

    def forward(self, xs):
        return torch.cat(xs, self.dim)


class Shift(nn.Module):
    """passthrough (inferred): args verbatim, channels unchanged."""

    def __init__(self, amount=0.0):
        super().__init__()
        self.amount = amount

    def forward(self, x):
        return x + self.amount


class DeclaredBase(nn.Module):
    """base (declared) with parameter names the inference would not recognise."""

    channel_rule = "base"

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.conv(x)
