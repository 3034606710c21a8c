"""DGF-YOLO blocks (GCF, SSFM, DGRM), following yunhongtan1-ops/DGF-YOLO's AddModules (FBRT_YOLO.py, WSOM.py).

Like the repository's files, this module carries its own copies of autopad, Conv, Bottleneck, C3 and C3k (same
layouts as Ultralytics'). The model YAML's ``Conv`` is still Ultralytics' Conv: the repository's tasks.py imports
Ultralytics' names after star-importing these files.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def autopad(k, p=None, d=1):
    """'same' padding for kernel k with dilation d."""
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

    def forward_fuse(self, x):
        return self.act(self.conv(x))


class Bottleneck(nn.Module):
    """Two Convs with an optional residual (local copy)."""

    def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    """CSP bottleneck with three Convs (local copy)."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c1, c_, 1, 1)
        self.cv3 = Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, k=((1, 1), (3, 3)), e=1.0) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k(C3):
    """C3 with k x k bottlenecks (local copy)."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5, k=3):
        super().__init__(c1, c2, n, shortcut, g, e)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, k=(k, k), e=1.0) for _ in range(n)))


# ----------------------------------------------------------------------------- FBRT-YOLO pieces
class Channel(nn.Module):
    """Depthwise 3x3 then global average -> sigmoid channel weights."""

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)
        self.Apt = nn.AdaptiveAvgPool2d(1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.Apt(self.dwconv(x)))


class Spatial(nn.Module):
    """1x1 conv to one map + BN -> sigmoid spatial weights."""

    def __init__(self, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(dim, 1, 1, 1)
        self.bn = nn.BatchNorm2d(1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.bn(self.conv1(x)))


class _FCMBase(nn.Module):
    """Split channels into (one, two); deep path on ``one``, 1x1 on ``two``; cross-gated sum."""

    def __init__(self, dim, one, tail=False):
        super().__init__()
        self.one, self.two = one, dim - one
        self.conv1 = Conv(self.one, self.one, 3, 1, 1)
        self.conv12 = Conv(self.one, self.one, 3, 1, 1)
        self.conv123 = Conv(self.one, dim, 1, 1)
        self.conv2 = Conv(self.two, dim, 1, 1)
        if tail:
            self.conv3 = Conv(dim, dim, 1, 1)
        self.spatial = Spatial(dim)
        self.channel = Channel(dim)

    def forward(self, x):
        a, b = torch.split(x, [self.one, self.two], dim=1)
        a = self.conv123(self.conv12(self.conv1(a)))
        b = self.conv2(b)
        y = self.spatial(b) * a + self.channel(a) * b
        return self.conv3(y) if hasattr(self, "conv3") else y


class FCM_3(_FCMBase):
    def __init__(self, dim, dim_out):
        super().__init__(dim, dim - dim // 4)


class FCM_2(_FCMBase):
    def __init__(self, dim, dim_out):
        super().__init__(dim, dim - dim // 4)


class FCM_1(_FCMBase):
    def __init__(self, dim, dim_out):
        super().__init__(dim, dim // 4)


class FCM(_FCMBase):
    def __init__(self, dim, dim_out):
        super().__init__(dim, dim // 4, tail=True)


class A2C2f_FCM(nn.Module):
    """R-ELAN layout (A2C2f) whose attention blocks are pairs of FCM; C3k pairs when a2 is False."""

    def __init__(self, c1, c2, n=1, a2=True, area=1, residual=False, mlp_ratio=2.0, e=0.5, g=1, shortcut=True):
        super().__init__()
        c_ = int(c2 * e)
        assert c_ % 32 == 0, "Dimension of ABlock be a multiple of 32."
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv((1 + n) * c_, c2, 1)
        self.gamma = nn.Parameter(0.01 * torch.ones(c2), requires_grad=True) if a2 and residual else None
        self.m = nn.ModuleList(
            nn.Sequential(FCM(c_, c_), FCM(c_, c_)) if a2 else C3k(c_, c_, 2, shortcut, g) for _ in range(n)
        )

    def forward(self, x):
        y = [self.cv1(x)]
        for block in self.m:
            y.append(block(y[-1]))
        out = self.cv2(torch.cat(y, 1))
        if self.gamma is not None:
            return x + self.gamma.view(1, -1, 1, 1) * out
        return out


class GCF(A2C2f_FCM):
    """Global-context feature block used by DGF-YOLO (same constructor as A2C2f_FCM)."""


# ----------------------------------------------------------------------------- WSOM pieces
class channel_att(nn.Module):
    """ECA-style channel gate with an adaptive odd 1-D kernel."""

    def __init__(self, channel, b=1, gamma=2):
        super().__init__()
        k = int(abs((math.log(channel, 2) + b) / gamma))
        k = k if k % 2 else k + 1
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x).squeeze(-1).transpose(-1, -2)
        y = self.conv(y).transpose(-1, -2).unsqueeze(-1)
        return x * self.sigmoid(y)


class local_att(nn.Module):
    """Coordinate-style attention with a shared reduction and separate H/W expansions."""

    def __init__(self, channel, reduction=16):
        super().__init__()
        self.conv_1x1 = nn.Conv2d(channel, channel // reduction, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(channel // reduction)
        self.relu = nn.ReLU(inplace=True)
        self.F_h = nn.Conv2d(channel // reduction, channel, 1, 1, bias=False)
        self.F_w = nn.Conv2d(channel // reduction, channel, 1, 1, bias=False)
        self.sigmoid_h = nn.Sigmoid()
        self.sigmoid_w = nn.Sigmoid()

    def forward(self, x):
        _, _, h, w = x.shape
        xh = x.mean(dim=3, keepdim=True).permute(0, 1, 3, 2)
        xw = x.mean(dim=2, keepdim=True)
        y = self.relu(self.bn(self.conv_1x1(torch.cat((xh, xw), 3))))
        yh, yw = y.split([h, w], 3)
        return x * self.sigmoid_h(self.F_h(yh.permute(0, 1, 3, 2))) * self.sigmoid_w(self.F_w(yw))


class SSFM(nn.Module):
    """Scale-sequence fusion of three maps [P3, P4, P5] into ``channel`` channels at the first map's resolution."""

    def __init__(self, inc, channel):
        super().__init__()
        self.proj_p3 = Conv(inc[0], channel, 1)
        self.proj_p4 = Conv(inc[1], channel, 1)
        self.proj_p5 = Conv(inc[2], channel, 1)
        self.refine_p3 = Conv(channel, channel, 3, 1, g=channel)
        self.refine_p4 = Conv(channel, channel, 3, 1, g=channel)
        self.refine_p5 = Conv(channel, channel, 3, 1, g=channel)
        self.scale_conv = nn.Conv3d(channel, channel, (3, 1, 1), padding=(1, 0, 0), groups=channel, bias=False)
        self.mix_conv = nn.Conv3d(channel, channel, 1, bias=False)
        self.bn = nn.BatchNorm3d(channel)
        self.act = nn.SiLU()
        self.pool_3d = nn.AvgPool3d(kernel_size=(3, 1, 1))

    def forward(self, x):
        p3 = self.refine_p3(self.proj_p3(x[0]))
        size = p3.shape[2:]
        p4 = F.interpolate(self.refine_p4(self.proj_p4(x[1])), size=size, mode="bilinear", align_corners=False)
        p5 = F.interpolate(self.refine_p5(self.proj_p5(x[2])), size=size, mode="bilinear", align_corners=False)
        seq = torch.stack([p3, p4, p5], dim=2)  # B, C, 3, H, W
        seq = self.act(self.bn(self.mix_conv(self.scale_conv(seq))))
        return self.pool_3d(seq).squeeze(2) + p3


class DGRM(nn.Module):
    """Two same-shape inputs: gate the first, add the second, refine with local attention and a global gate."""

    def __init__(self, ch=256, reduction=16):
        super().__init__()
        self.branch_att = channel_att(ch)
        self.local_att = local_att(ch, reduction=reduction)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(ch, ch, 1, bias=False), nn.Sigmoid())

    def forward(self, x):
        fused = self.branch_att(x[0]) + x[1]
        return fused + self.local_att(fused) * self.gate(fused)
