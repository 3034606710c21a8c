"""Weighted BiFPN additions (two and three inputs), following zgqtql666/DETR-SCI-Banana's BiFPN.py."""

import torch
import torch.nn as nn


class BiFPN_Add2(nn.Module):
    """Fast normalised weighted sum of two maps, SiLU, then a 1x1 conv from c1 to c2."""

    def __init__(self, c1, c2):
        super().__init__()
        self.w = nn.Parameter(torch.ones(2, dtype=torch.float32), requires_grad=True)
        self.epsilon = 1e-4
        self.conv = nn.Conv2d(c1, c2, kernel_size=1, stride=1, padding=0)
        self.silu = nn.SiLU()

    def forward(self, x):
        w = self.w / (self.w.sum(0) + self.epsilon)
        return self.conv(self.silu(w[0] * x[0] + w[1] * x[1]))


class BiFPN_Add3(nn.Module):
    """Same as BiFPN_Add2 with three inputs."""

    def __init__(self, c1, c2):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, dtype=torch.float32), requires_grad=True)
        self.epsilon = 1e-4
        self.conv = nn.Conv2d(c1, c2, kernel_size=1, stride=1, padding=0)
        self.silu = nn.SiLU()

    def forward(self, x):
        w = self.w / (self.w.sum(0) + self.epsilon)
        return self.conv(self.silu(w[0] * x[0] + w[1] * x[1] + w[2] * x[2]))
