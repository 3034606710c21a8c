"""Follows QiujiHan/EEML-YOLO: ultralytics/nn/extra_modules/head.py (DSConv: ultralytics/nn/modules/conv.py).

Written anew for this corpus (same classes, signatures, layers and outputs as the repository's heads,
which speak the Ultralytics 8.0-8.3 protocol). """

import math

import torch
import torch.nn as nn

from ultralytics.nn.modules import Conv, DFL, DWConv, Proto
from ultralytics.nn.modules.conv import autopad
from ultralytics.utils.tal import dist2bbox, dist2rbox, make_anchors


class DSConv(nn.Module):
    """The repository's own depthwise-separable conv (its ultralytics/nn/modules/conv.py): a 3x3 DWConv then a
    1x1 Conv. ``k``, ``s``, ``d`` and ``act`` are accepted and, as there, not used."""

    def __init__(self, c1, c2, k=1, s=1, d=1, act=True) -> None:
        super().__init__()
        self.dwconv = DWConv(c1, c1, 3)
        self.pwconv = Conv(c1, c2, 1)

    def forward(self, x):
        return self.pwconv(self.dwconv(x))


class Detect_LADH(nn.Module):
    """Lightweight Asymmetric Detection Head: a deep depthwise-separable box branch and a shallow 1x1 class
    branch per level."""

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
        c2, c3 = max((16, ch[0] // 4, self.reg_max * 4)), max(ch[0], min(self.nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(DSConv(c, c2, 3), DSConv(c2, c2, 3), DSConv(c2, c2, 3), Conv(c2, c2, 1),
                          nn.Conv2d(c2, 4 * self.reg_max, 1))
            for c in ch
        )
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(c, c3, 1), Conv(c3, c3, 1), nn.Conv2d(c3, self.nc, 1)) for c in ch)
        self.dfl = DFL(self.reg_max) if self.reg_max > 1 else nn.Identity()

    def forward(self, x):
        for i in range(self.nl):
            x[i] = torch.cat((self.cv2[i](x[i]), self.cv3[i](x[i])), 1)
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
        """Per level: box bias 1.0, class prior for that level's stride at 640 px."""
        for box, cls, s in zip(self.cv2, self.cv3, self.stride):
            box[-1].bias.data[:] = 1.0
            cls[-1].bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)

    def decode_bboxes(self, bboxes):
        """Distances (DFL) -> xywh boxes in pixels."""
        return dist2bbox(self.dfl(bboxes), self.anchors.unsqueeze(0), xywh=True, dim=1) * self.strides
