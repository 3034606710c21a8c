"""CBAM as added to block.py in Star-Cheng/yolov8-attention (a (c1, c2) signature, registered as a base module).

The two helpers are not blocks: ChannelAttentionModule returns a (B, C, 1, 1) map and
SpatialAttentionModule takes no channel argument and returns one channel.
"""

import torch
import torch.nn as nn


class ChannelAttentionModule(nn.Module):
    """Shared-MLP channel gate from average and max pooling (Linear layers)."""

    def __init__(self, c1, reduction=16):
        super().__init__()
        mid = c1 // reduction
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.shared_MLP = nn.Sequential(nn.Linear(c1, mid), nn.LeakyReLU(0.1, inplace=True), nn.Linear(mid, c1))
        self.act = nn.Sigmoid()

    def forward(self, x):
        b = x.shape[0]
        avg = self.shared_MLP(self.avg_pool(x).view(b, -1))
        mx = self.shared_MLP(self.max_pool(x).view(b, -1))
        return self.act(avg + mx)[:, :, None, None]


class SpatialAttentionModule(nn.Module):
    """7x7 conv over channel mean/max -> one-channel sigmoid map."""

    def __init__(self):
        super().__init__()
        self.conv2d = nn.Conv2d(2, 1, kernel_size=7, stride=1, padding=3)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.conv2d(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)))


class CBAM(nn.Module):
    """Channel then spatial attention; c2 is accepted (base-module signature) but the output keeps c1."""

    def __init__(self, c1, c2):
        super().__init__()
        self.channel_attention = ChannelAttentionModule(c1)
        self.spatial_attention = SpatialAttentionModule()

    def forward(self, x):
        out = self.channel_attention(x) * x
        return self.spatial_attention(out) * out
