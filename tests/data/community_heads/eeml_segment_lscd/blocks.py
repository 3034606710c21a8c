"""Follows QiujiHan/EEML-YOLO: ultralytics/nn/extra_modules/head.py.

Written anew for this corpus (same classes, signatures, layers and outputs as the repository's heads,
which speak the Ultralytics 8.0-8.3 protocol). """

import math

import torch
import torch.nn as nn

from ultralytics.nn.modules import Conv, DFL, Proto
from ultralytics.nn.modules.conv import autopad
from ultralytics.utils.tal import dist2bbox, dist2rbox, make_anchors


class Scale(nn.Module):
    """One learnable scalar that multiplies whatever passes through (one per pyramid level)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x):
        return self.scale * x


class Conv_GN(nn.Module):
    """Conv2d (no bias) -> GroupNorm(16 groups) -> activation; same call signature as Ultralytics' Conv."""

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.gn = nn.GroupNorm(16, c2)
        if act is True:
            self.act = self.default_act
        elif isinstance(act, nn.Module):
            self.act = act
        else:
            self.act = nn.Identity()

    def forward(self, x):
        return self.act(self.gn(self.conv(x)))


class Detect_LSCD(nn.Module):
    """Lightweight Shared Convolutional Detection head (a 3x3 Conv_GN per level, then a shared depthwise 3x3 and a shared 1x1 Conv_GN; one box and one class 1x1 conv shared by
    all levels, a learnable Scale on each level's box output)."""

    dynamic = False  # rebuild anchors on every call when True
    export = False  # set by the exporter
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)

    def __init__(self, nc=80, hidc=256, ch=()):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = 16
        self.no = nc + self.reg_max * 4
        self.stride = torch.zeros(self.nl)  # filled in when the model is built
        self.conv = nn.ModuleList(nn.Sequential(Conv_GN(c, hidc, 3)) for c in ch)
        self.share_conv = nn.Sequential(Conv_GN(hidc, hidc, 3, g=hidc), Conv_GN(hidc, hidc, 1))
        self.cv2 = nn.Conv2d(hidc, 4 * self.reg_max, 1)
        self.cv3 = nn.Conv2d(hidc, self.nc, 1)
        self.scale = nn.ModuleList(Scale(1.0) for _ in ch)
        self.dfl = DFL(self.reg_max) if self.reg_max > 1 else nn.Identity()

    def forward(self, x):
        for i in range(self.nl):
            feat = self.share_conv(self.conv[i](x[i]))
            x[i] = torch.cat((self.scale[i](self.cv2(feat)), self.cv3(feat)), 1)
        if self.training:
            return x
        b = x[0].shape[0]
        flat = torch.cat([level.view(b, self.no, -1) for level in x], 2)
        if self.dynamic or self.shape != x[0].shape:
            self.anchors, self.strides = (t.transpose(0, 1) for t in make_anchors(x, self.stride, 0.5))
            self.shape = x[0].shape
        box, cls = flat.split((self.reg_max * 4, self.nc), 1)
        y = torch.cat((self.decode_bboxes(box), cls.sigmoid()), 1)
        return y if self.export else (y, x)

    def bias_init(self):
        """Box bias 1.0; class prior as for stride 16 at 640 px (the shared conv has one bias for all levels)."""
        self.cv2.bias.data[:] = 1.0
        self.cv3.bias.data[: self.nc] = math.log(5 / self.nc / (640 / 16) ** 2)

    def decode_bboxes(self, bboxes):
        """Distances (DFL) -> xywh boxes in pixels."""
        return dist2bbox(self.dfl(bboxes), self.anchors.unsqueeze(0), xywh=True, dim=1) * self.strides


class Segment_LSCD(Detect_LSCD):
    """Detect_LSCD plus mask prototypes (Proto on P3) and per-level mask coefficients."""

    def __init__(self, nc=80, nm=32, npr=256, hidc=256, ch=()):
        super().__init__(nc, hidc, ch)
        self.nm = nm
        self.npr = npr
        self.proto = Proto(ch[0], self.npr, self.nm)
        self.detect = Detect_LSCD.forward
        c4 = max(ch[0] // 4, self.nm)
        self.cv4 = nn.ModuleList(nn.Sequential(Conv_GN(c, c4, 1), Conv_GN(c4, c4, 3), nn.Conv2d(c4, self.nm, 1)) for c in ch)

    def forward(self, x):
        protos = self.proto(x[0])
        b = protos.shape[0]
        coeffs = torch.cat([self.cv4[i](x[i]).view(b, self.nm, -1) for i in range(self.nl)], 2)
        out = self.detect(self, x)
        if self.training:
            return out, coeffs, protos
        if self.export:
            return torch.cat([out, coeffs], 1), protos
        return torch.cat([out[0], coeffs], 1), (out[1], coeffs, protos)
