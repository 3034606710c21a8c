"""ASF-YOLO neck pieces (Zoom_cat, ScalSeq, Add, attention_model) and SDI, following yjhhaha/YOLO-CSS.

As in the repository's ASFYOLO.py, Conv and autopad are local copies; channel_att and local_att are helpers
of attention_model. SDI follows the form used by that repository's neck (one GSConv per input, all
projected to the first input's channels).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def autopad(k, p=None, d=1):
    """'Same' padding."""
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


class Conv(nn.Module):
    """Local conv-bn-SiLU helper."""

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = self.default_act if act is True else act if isinstance(act, nn.Module) else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Zoom_cat(nn.Module):
    """Brings [large, mid, small] maps to the mid resolution and concatenates them (no parameters)."""

    def forward(self, x):
        l, m, s = x[0], x[1], x[2]
        size = m.shape[2:]
        l = F.adaptive_max_pool2d(l, size) + F.adaptive_avg_pool2d(l, size)
        s = F.interpolate(s, size, mode="nearest")
        return torch.cat([l, m, s], dim=1)


class ScalSeq(nn.Module):
    """Aligns P3/P4/P5 to ``channel`` and P3's size, stacks them as depth and fuses with a 3D conv."""

    def __init__(self, inc, channel):
        super().__init__()
        self.conv0 = Conv(inc[0], channel, 1)
        self.conv1 = Conv(inc[1], channel, 1)
        self.conv2 = Conv(inc[2], channel, 1)
        self.conv3d = nn.Conv3d(channel, channel, kernel_size=(1, 1, 1))
        self.bn = nn.BatchNorm3d(channel)
        self.act = nn.LeakyReLU(0.1)
        self.pool_3d = nn.MaxPool3d(kernel_size=(3, 1, 1))

    def forward(self, x):
        p3 = self.conv0(x[0])
        p4 = F.interpolate(self.conv1(x[1]), p3.shape[2:], mode="nearest")
        p5 = F.interpolate(self.conv2(x[2]), p3.shape[2:], mode="nearest")
        seq = torch.stack([p3, p4, p5], dim=2)  # (b, c, 3, h, w)
        return self.pool_3d(self.act(self.bn(self.conv3d(seq)))).squeeze(2)


class Add(nn.Module):
    """Element-wise sum of two maps; ``ch`` is accepted and unused."""

    def __init__(self, ch=256):
        super().__init__()

    def forward(self, x):
        return x[0] + x[1]


class channel_att(nn.Module):
    """ECA-style channel gate with an adaptive 1D kernel."""

    def __init__(self, channel, b=1, gamma=2):
        super().__init__()
        k = int(abs((math.log(channel, 2) + b) / gamma))
        k = k if k % 2 else k + 1
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x).squeeze(-1).transpose(-1, -2)
        y = self.sigmoid(self.conv(y).transpose(-1, -2).unsqueeze(-1))
        return x * y.expand_as(x)


class local_att(nn.Module):
    """Coordinate-style gate from height and width averages."""

    def __init__(self, channel, reduction=16):
        super().__init__()
        self.conv_1x1 = nn.Conv2d(channel, channel // reduction, kernel_size=1, bias=False)
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm2d(channel // reduction)
        self.F_h = nn.Conv2d(channel // reduction, channel, kernel_size=1, bias=False)
        self.F_w = nn.Conv2d(channel // reduction, channel, kernel_size=1, bias=False)

    def forward(self, x):
        _, _, h, w = x.shape
        xh = x.mean(dim=3, keepdim=True).permute(0, 1, 3, 2)
        xw = x.mean(dim=2, keepdim=True)
        y = self.relu(self.bn(self.conv_1x1(torch.cat((xh, xw), 3))))
        yh, yw = y.split([h, w], 3)
        return x * torch.sigmoid(self.F_h(yh.permute(0, 1, 3, 2))) * torch.sigmoid(self.F_w(yw))


class attention_model(nn.Module):
    """Adds a channel-gated first input to the second, then applies local attention."""

    def __init__(self, ch=256):
        super().__init__()
        self.channel_att = channel_att(ch)
        self.local_att = local_att(ch)

    def forward(self, x):
        return self.local_att(self.channel_att(x[0]) + x[1])


class GSConv(nn.Module):
    """GSConv (Slim-neck) used inside SDI."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        c_ = c2 // 2
        self.cv1 = Conv(c1, c_, k, s, p, g, d, act)
        self.cv2 = Conv(c_, c_, 5, 1, p, c_, d, act)

    def forward(self, x):
        y = self.cv1(x)
        y = torch.cat((y, self.cv2(y)), 1)
        b, c, h, w = y.shape
        return y.reshape(b, 2, c // 2, h, w).permute(0, 2, 1, 3, 4).reshape(b, c, h, w)


class SDI(nn.Module):
    """Semantics-and-detail infusion: resize every input to the first one's size, GSConv each to
    channels[0], multiply them together. ``channels`` is the LIST of input channels."""

    def __init__(self, channels):
        super().__init__()
        self.convs = nn.ModuleList([GSConv(c, channels[0]) for c in channels])

    def forward(self, xs):
        out = torch.ones_like(xs[0])
        size = xs[0].shape[2:]
        for conv, x in zip(self.convs, xs):
            if x.shape[-1] > size[-1]:
                x = F.adaptive_avg_pool2d(x, size)
            elif x.shape[-1] < size[-1]:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
            out = out * conv(x)
        return out
