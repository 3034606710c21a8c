"""Follows The-Zhou-Lab/Wheat_FHB_analytic_platform: ultralytics/nn/extra_modules/head.py.

Written anew for this corpus (same classes, signatures, layers and outputs as the repository's heads,
which speak the Ultralytics 8.0-8.3 protocol). The repository decodes boxes inline in forward; here that is the
same formula in a decode_bboxes method."""

import math

import torch
import torch.nn as nn

from ultralytics.nn.modules import Conv, DFL, Proto
from ultralytics.nn.modules.conv import autopad
from ultralytics.utils.tal import dist2bbox, dist2rbox, make_anchors


class Detect_Efficient(nn.Module):
    """Efficient decoupled head: per level a stem of two 3x3 Convs (channels kept), then one 1x1 box conv and one
    1x1 class conv."""

    dynamic = False  # rebuild anchors on every call when True
    export = False  # set by the exporter
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)

    def __init__(self, nc=80, ch=()):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = 16
        self.no = nc + self.reg_max * 4
        self.stride = torch.zeros(self.nl)  # filled in when the model is built
        self.stem = nn.ModuleList(nn.Sequential(Conv(c, c, 3), Conv(c, c, 3)) for c in ch)
        self.cv2 = nn.ModuleList(nn.Conv2d(c, 4 * self.reg_max, 1) for c in ch)
        self.cv3 = nn.ModuleList(nn.Conv2d(c, self.nc, 1) for c in ch)
        self.dfl = DFL(self.reg_max) if self.reg_max > 1 else nn.Identity()

    def forward(self, x):
        for i in range(self.nl):
            feat = self.stem[i](x[i])
            x[i] = torch.cat((self.cv2[i](feat), self.cv3[i](feat)), 1)
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
        for box, cls, s in zip(self.cv2, self.cv3, self.stride):
            box.bias.data[:] = 1.0
            cls.bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)

    def decode_bboxes(self, bboxes):
        """Distances (DFL) -> xywh boxes in pixels."""
        return dist2bbox(self.dfl(bboxes), self.anchors.unsqueeze(0), xywh=True, dim=1) * self.strides


class Segment_Efficient(Detect_Efficient):
    """Detect_Efficient plus mask prototypes (Proto on P3) and per-level mask coefficients."""

    def __init__(self, nc=80, nm=32, npr=256, ch=()):
        super().__init__(nc, ch)
        self.nm = nm
        self.npr = npr
        self.proto = Proto(ch[0], self.npr, self.nm)
        self.detect = Detect_Efficient.forward
        c4 = max(ch[0] // 4, self.nm)
        self.cv4 = nn.ModuleList(nn.Sequential(Conv(c, c4, 3), Conv(c4, c4, 3), nn.Conv2d(c4, self.nm, 1)) for c in ch)

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
