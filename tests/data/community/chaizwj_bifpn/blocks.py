"""Weighted feature addition, following chaizwj/yolov8-tricks' ultralytics/nn/modules/Bi_FPN.py."""

import torch
import torch.nn as nn


class swish(nn.Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return x * torch.sigmoid(x)


class Bi_FPN(nn.Module):
    """Sum of ``length`` same-shape maps with learnable weights normalised by the sum of their swish."""

    def __init__(self, length):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(length, dtype=torch.float32), requires_grad=True)
        self.swish = swish()
        self.epsilon = 1e-4

    def forward(self, x):
        w = self.weight / (self.swish(self.weight).sum(0) + self.epsilon)
        return torch.stack([w[i] * x[i] for i in range(len(x))], dim=0).sum(0)
