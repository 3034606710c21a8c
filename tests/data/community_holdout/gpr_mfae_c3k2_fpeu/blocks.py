"""MFAE-YOLO blocks (FPEU family and GFFP), following 054324/Improved-YOLO11-GPR-Detection.

Helpers that are not YAML blocks on their own: FPEU, DSC3k_FPEU, C3k_FPEU, the three attention pieces and FCPSModule,
ChannelAttention1.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ultralytics.nn.modules import C2f, C3, Conv

__all__ = ["GFFP", "C3k2_FPEU", "C2f_FPEUs"]


class FPEU(nn.Module):
    """Spatial gate from channel-mean/max maps through a 2->channels CBR, applied to the input."""

    def __init__(self, channels):
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(2, channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        stats = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        gate = self.cbr(stats)
        return self.sigmoid(gate) * x


class DSC3k_FPEU(C3):
    """C3 with FPEU units (extra kernel parameters are accepted and unused)."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5, k1=3, k2=5, d2=1):
        super().__init__(c1, c2, n, shortcut, g, e)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(FPEU(c_) for _ in range(n)))


class C3k_FPEU(C3):
    """C3 with FPEU units; ``HW`` is accepted and unused."""

    def __init__(self, c1, c2, n=1, HW=40, shortcut=True, g=1, e=0.5, k=3):
        super().__init__(c1, c2, n, shortcut, g, e)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(FPEU(c_) for _ in range(n)))


class C3k2_FPEU(C2f):
    """C2f whose inner units are FPEU, or C3k_FPEU pairs when ``c3k`` is truthy."""

    def __init__(self, c1, c2, n=1, HW=40, c3k=False, e=0.5, g=1, shortcut=True):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(
            C3k_FPEU(self.c, self.c, 2, HW, shortcut, g) if c3k else FPEU(self.c) for _ in range(n)
        )


class C2f_FPEUs(nn.Module):
    """Stand-alone C2f layout with FPEU units."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(FPEU(self.c) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.cv2(torch.cat(y, 1))


class ChannelAttention(nn.Module):
    """GAP -> 1x1 conv -> sigmoid gate (not Ultralytics' ChannelAttention)."""

    def __init__(self, in_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.conv1(F.adaptive_avg_pool2d(x, 1)))


class PixelAttention(nn.Module):
    """Per-pixel 1x1 gate."""

    def __init__(self, in_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.conv1(x))


class SpatialAttention(nn.Module):
    """Mean/max channel maps -> 1x1 conv -> gate (not Ultralytics' SpatialAttention)."""

    def __init__(self, in_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 1, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        maps = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * self.sigmoid(self.conv1(maps))


class FCPSModule(nn.Module):
    """Channel, pixel and spatial gates in sequence, then a 3x3 conv."""

    def __init__(self, in_channels):
        super().__init__()
        self.channel_attention = ChannelAttention(in_channels)
        self.pixel_attention = PixelAttention(in_channels)
        self.spatial_attention = SpatialAttention(in_channels)
        self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv(self.spatial_attention(self.pixel_attention(self.channel_attention(x))))


class ChannelAttention1(nn.Module):
    """Two Ultralytics Convs on the pooled descriptor, halving the channels, then a sigmoid."""

    def __init__(self, in_channels):
        super().__init__()
        self.conv1 = Conv(in_channels, in_channels // 2)
        self.conv2 = Conv(in_channels // 2, in_channels // 2)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        if self.training and x.shape[0] == 1:  # BatchNorm cannot train on a single 1x1 sample
            states = [m.training for m in self.modules()]
            self.eval()
            try:
                return self._weights(x)
            finally:
                for m, state in zip(self.modules(), states):
                    m.training = state
        return self._weights(x)

    def _weights(self, x):
        return self.sigmoid(self.conv2(self.conv1(F.adaptive_avg_pool2d(x, 1))))


class GFFP(nn.Module):
    """Global feature fusion pre-processing: shared 3x3 Conv, two FCPS stages fused by channel weights, residual."""

    def __init__(self, channels):
        super().__init__()
        self.conv = Conv(channels, channels, k=3, s=1, p=1)
        self.fcps1 = FCPSModule(channels)
        self.fcps2 = FCPSModule(channels)
        self.CA = ChannelAttention1(channels * 2)
        self.PA = PixelAttention(channels)

    def forward(self, x):
        y = self.conv(x)
        a = self.fcps1(y)
        b = self.fcps2(a)
        w = self.CA(torch.cat([a, b], dim=1))
        return x + self.conv(self.PA(w * a + w * b))
