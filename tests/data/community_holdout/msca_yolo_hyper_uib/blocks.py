"""MSCA-YOLO blocks (C3k2_UIB, MANet, HyperComputeModule), following LittleCoke666/MSCA-YOLO.

From Hyper_YOLO.py: local copies of autopad/Conv/DWConv/Bottleneck, MANet, MessageAgg, HyPConv, HyperComputeModule.
From the repository's block.py: a TF-style make_divisible, conv2d, UniversalInvertedBottleneckBlock (seven required
arguments, so not a YAML block by itself), C2f_UIB and C3k2_UIB (which uses Ultralytics' C3k).
"""

import math
from typing import Optional

import torch
import torch.nn as nn

from ultralytics.nn.modules.block import C3k


def autopad(k, p=None, d=1):
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


class Conv(nn.Module):
    """Conv2d + BN + SiLU (local copy)."""

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = self.default_act if act is True else act if isinstance(act, nn.Module) else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class DWConv(Conv):
    """Depthwise Conv with gcd(c1, c2) groups (local copy)."""

    def __init__(self, c1, c2, k=1, s=1, d=1, act=True):
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), d=d, act=act)


class Bottleneck(nn.Module):
    """Local copy of the YOLO bottleneck."""

    def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class MANet(nn.Module):
    """Mixed aggregation: 1x1 branch, expanded depthwise branch, the two halves and n bottlenecks, fused by 1x1."""

    def __init__(self, c1, c2, n=1, shortcut=False, p=1, kernel_size=3, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv_first = Conv(c1, 2 * self.c, 1, 1)
        self.cv_final = Conv((4 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, k=((3, 3), (3, 3)), e=1.0) for _ in range(n))
        self.cv_block_1 = Conv(2 * self.c, self.c, 1, 1)
        hidden = int(p * 2 * self.c)
        self.cv_block_2 = nn.Sequential(
            Conv(2 * self.c, hidden, 1, 1), DWConv(hidden, hidden, kernel_size, 1), Conv(hidden, self.c, 1, 1)
        )

    def forward(self, x):
        y = self.cv_first(x)
        parts = [self.cv_block_1(y), self.cv_block_2(y), *y.chunk(2, 1)]
        for block in self.m:
            parts.append(block(parts[-1]))
        return self.cv_final(torch.cat(parts, 1))


class MessageAgg(nn.Module):
    """Mean (or sum) message passing along an incidence matrix."""

    def __init__(self, agg_method="mean"):
        super().__init__()
        self.agg_method = agg_method

    def forward(self, X, path):
        X = torch.matmul(path, X)
        if self.agg_method == "mean":
            X = X / (path.sum(dim=2, keepdim=True) + 1e-6)
        return X


class HyPConv(nn.Module):
    """Hypergraph convolution: linear projection, vertex->edge and edge->vertex aggregation."""

    def __init__(self, c1, c2):
        super().__init__()
        self.fc = nn.Linear(c1, c2)
        self.v2e = MessageAgg(agg_method="mean")
        self.e2v = MessageAgg(agg_method="mean")

    def forward(self, x, H):
        x = self.fc(x)
        return self.e2v(self.v2e(x, H.transpose(1, 2).contiguous()), H)


class HyperComputeModule(nn.Module):
    """Hyperedge approximation: dilated depthwise k x k convs plus a global node, fused by 1x1, residual (c1 == c2)."""

    def __init__(self, c1, c2, k=7, dilations=(1, 2, 3)):
        super().__init__()
        assert c1 == c2, f"HyperComputeModule requires c1 == c2, got {c1}, {c2}"
        if isinstance(dilations, int):
            dilations = (dilations,)
        dilations = tuple(dilations)
        self.c = c2
        self.dw_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(self.c, self.c, k, 1, padding=(k // 2) * d, dilation=d, groups=self.c, bias=False),
                nn.BatchNorm2d(self.c),
                nn.SiLU(),
            )
            for d in dilations
        )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fuse = nn.Sequential(
            nn.Conv2d(self.c * (len(dilations) + 2), self.c, 1, bias=False), nn.BatchNorm2d(self.c), nn.SiLU()
        )

    def forward(self, x):
        feats = [x, *(conv(x) for conv in self.dw_convs), self.global_pool(x).expand_as(x)]
        return self.fuse(torch.cat(feats, dim=1)) + x


# ----------------------------------------------------------------------------- from the repository's block.py
def make_divisible(value: float, divisor: int, min_value: Optional[float] = None, round_down_protect: bool = True) -> int:
    """TF-models rounding: nearest multiple of divisor, never more than 10% below value."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if round_down_protect and new_value < 0.9 * value:
        new_value += divisor
    return int(new_value)


def conv2d(in_channels, out_channels, kernel_size=3, stride=1, groups=1, bias=False, norm=True, act=True):
    layers = nn.Sequential()
    layers.append(nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, bias=bias,
                            groups=groups))
    if norm:
        layers.append(nn.BatchNorm2d(out_channels))
    if act:
        layers.append(nn.ReLU6())
    return layers


class UniversalInvertedBottleneckBlock(nn.Module):
    """MobileNetV4 UIB: optional start depthwise, 1x1 expand, optional middle depthwise, 1x1 project."""

    def __init__(self, in_channels, out_channels, start_dw_kernel_size, middle_dw_kernel_size, middle_dw_downsample,
                 stride, expand_ratio):
        super().__init__()
        self.start_dw_kernel_size = start_dw_kernel_size
        if start_dw_kernel_size:
            s = 1 if middle_dw_downsample else stride
            self._start_dw_ = conv2d(in_channels, in_channels, start_dw_kernel_size, s, groups=in_channels, act=False)
        expand = make_divisible(in_channels * expand_ratio, 8)
        self._expand_conv = conv2d(in_channels, expand, kernel_size=1)
        self.middle_dw_kernel_size = middle_dw_kernel_size
        if middle_dw_kernel_size:
            s = stride if middle_dw_downsample else 1
            self._middle_dw = conv2d(expand, expand, middle_dw_kernel_size, s, groups=expand)
        self._proj_conv = conv2d(expand, out_channels, kernel_size=1, stride=1, act=False)

    def forward(self, x):
        if self.start_dw_kernel_size:
            x = self._start_dw_(x)
        x = self._expand_conv(x)
        if self.middle_dw_kernel_size:
            x = self._middle_dw(x)
        return self._proj_conv(x)


class C2f_UIB(nn.Module):
    """C2f layout followed by a UIB (5, 3, downsample-in-middle, stride 1, expand 4) on the output."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, k=((3, 3), (3, 3)), e=1.0) for _ in range(n))
        self.cv3 = UniversalInvertedBottleneckBlock(c2, c2, 5, 3, True, 1, 4)

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.cv3(self.cv2(torch.cat(y, 1)))


class C3k2_UIB(C2f_UIB):
    """C2f_UIB whose inner blocks are Ultralytics C3k pairs (c3k) or bottlenecks."""

    def __init__(self, c1, c2, n=1, c3k=False, e=0.5, g=1, shortcut=True):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(
            C3k(self.c, self.c, 2, shortcut, g) if c3k else Bottleneck(self.c, self.c, shortcut, g) for _ in range(n)
        )
