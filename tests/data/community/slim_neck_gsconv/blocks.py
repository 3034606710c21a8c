"""GSConv family (Slim-neck), following AlanLi1997/slim-neck-by-gsconv's gsconv-yolov8_9_10_11 conv.py."""

import torch
import torch.nn as nn

from ultralytics.nn.modules.block import C2f
from ultralytics.nn.modules.conv import Conv, DWConv


def _shuffle(x):
    """Interleave the two channel halves (channel shuffle with 2 groups)."""
    b, c, h, w = x.shape
    return x.reshape(b, 2, c // 2, h, w).permute(0, 2, 1, 3, 4).reshape(b, c, h, w)


class GSConvE2(nn.Module):
    """GSConv enhancement: a quarter-width conv plus 9/13/17 depthwise branches, then shuffle."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        c_ = c2 // 4
        self.cv1 = Conv(c1, c_, k, s, p, g, d, act)
        self.cv2 = Conv(c_, c_, 9, 1, 4, c_, d, act)
        self.cv3 = Conv(c_, c_, 13, 1, 6, c_, d, act)
        self.cv4 = Conv(c_, c_, 17, 1, 8, c_, d, act)

    def forward(self, x):
        y = self.cv1(x)
        return _shuffle(torch.cat((y, self.cv2(y), self.cv3(y), self.cv4(y)), 1))


class GSConvE(nn.Module):
    """GSConv enhancement: half-width conv plus a dense+depthwise GELU branch, then shuffle."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        c_ = c2 // 2
        self.cv1 = Conv(c1, c_, k, s, p, g, d, act)
        self.cv2 = nn.Sequential(
            nn.Conv2d(c_, c_, 3, 1, 1, bias=False), nn.Conv2d(c_, c_, 3, 1, 1, groups=c_, bias=False), nn.GELU()
        )

    def forward(self, x):
        y = self.cv1(x)
        return _shuffle(torch.cat((y, self.cv2(y)), 1))


class GSConv(nn.Module):
    """Half dense conv, half 5x5 depthwise of it, concatenated and channel-shuffled."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        c_ = c2 // 2
        self.cv1 = Conv(c1, c_, k, s, p, g, d, act)
        self.cv2 = Conv(c_, c_, 5, 1, 2, c_, d, act)

    def forward(self, x):
        y = self.cv1(x)
        return _shuffle(torch.cat((y, self.cv2(y)), 1))


class GSConvns(GSConv):
    """GSConv with a 1x1 'normative shuffle' conv instead of the reshape shuffle."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__(c1, c2, k, s, p, g, d, act)
        c_ = c2 // 2
        self.shuf = nn.Conv2d(c_ * 2, c2, 1, 1, 0, bias=False)

    def forward(self, x):
        y = self.cv1(x)
        return torch.relu(self.shuf(torch.cat((y, self.cv2(y)), 1)))


class GSBottleneck(nn.Module):
    """Two GSConvs with a 1x1 conv shortcut."""

    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        c_ = c2 // 2
        self.conv_lighting = nn.Sequential(GSConv(c1, c_, 1, 1, 0), GSConv(c_, c2, 3, 1, 1, act=True))
        self.shortcut = Conv(c1, c2, 1, 1, act=False)

    def forward(self, x):
        return self.conv_lighting(x) + self.shortcut(x)


class GSBottleneckC(GSBottleneck):
    """Cheap GSBottleneck: depthwise 3x3 shortcut."""

    def __init__(self, c1, c2, k=3, s=1):
        super().__init__(c1, c2, k, s)
        self.shortcut = DWConv(c1, c2, 3, 1, act=False)


class VoVGSCSP(nn.Module):
    """One-shot aggregation: a C2f path and a GSConv path, concatenated and projected to c2.

    As in the repository, ``n`` is accepted but unused, and gc2 is applied to the block INPUT, so the
    forward only works when c1 == int(c2 * e).
    """

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.gc2 = GSConv(c_, c_, 3, 1, 1)
        self.m = C2f(c_, c_, 1, 1)
        self.cv3 = Conv(2 * c_, c2, 1)

    def forward(self, x):
        return self.cv3(torch.cat((self.gc2(x), self.m(self.cv1(x))), dim=1))


class VoVGSCSPC(VoVGSCSP):
    """Cheap VoVGSCSP (the repository passes e into the n slot of the parent)."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__(c1, c2, e)
        c_ = int(c2 * e)
        self.gsb = GSBottleneckC(c_, c_, 3, 1)
