"""Follows QiujiHan/EEML-YOLO: ultralytics/nn/extra_modules/head.py (SEAM, Residual: ultralytics/nn/extra_modules/block.py).

Written anew for this corpus (same classes, signatures, layers and outputs as the repository's heads,
which speak the Ultralytics 8.0-8.3 protocol). The repository decodes boxes inline
in forward; here that is the same formula in a decode_bboxes method."""

import math

import torch
import torch.nn as nn

from ultralytics.nn.modules import Conv, DFL, DWConv, Proto
from ultralytics.nn.modules.conv import autopad
from ultralytics.utils.tal import dist2bbox, dist2rbox, make_anchors


class Residual(nn.Module):
    """fn(x) + x."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


class SEAM(nn.Module):
    """Separated-and-Enhancement Attention Module (YOLO-FaceV2): n depthwise/pointwise GELU-BN blocks, global
    pooling, a squeeze-excite MLP and an exp() channel weighting of the input. ``c2`` is forced to ``c1``."""

    def __init__(self, c1, c2, n, reduction=16):
        super().__init__()
        if c1 != c2:
            c2 = c1
        blocks = []
        for _ in range(n):
            dw = nn.Sequential(nn.Conv2d(c2, c2, 3, 1, 1, groups=c2), nn.GELU(), nn.BatchNorm2d(c2))
            blocks.append(nn.Sequential(Residual(dw), nn.Conv2d(c2, c2, 1, 1, 0), nn.GELU(), nn.BatchNorm2d(c2)))
        self.DCovN = nn.Sequential(*blocks)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(c2, c2 // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(c2 // reduction, c2, bias=False),
            nn.Sigmoid(),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight, gain=1)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        for m in self.fc:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.001)

    def forward(self, x):
        b, c = x.shape[:2]
        w = self.fc(self.avg_pool(self.DCovN(x)).view(b, c)).view(b, c, 1, 1)
        return x * torch.exp(w).expand_as(x)


class Detect_SEAM(nn.Module):
    """Detect head with a SEAM block in the middle of each box and class branch."""

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
            nn.Sequential(Conv(c, c2, 3), SEAM(c2, c2, 1, 16), nn.Conv2d(c2, 4 * self.reg_max, 1)) for c in ch
        )
        self.cv3 = nn.ModuleList(
            nn.Sequential(nn.Sequential(DWConv(c, c, 3), Conv(c, c3, 1)), SEAM(c3, c3, 1, 16), nn.Conv2d(c3, self.nc, 1))
            for c in ch
        )
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
        for box, cls, s in zip(self.cv2, self.cv3, self.stride):
            box[-1].bias.data[:] = 1.0
            cls[-1].bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)

    def decode_bboxes(self, bboxes):
        """Distances (DFL) -> xywh boxes in pixels."""
        return dist2bbox(self.dfl(bboxes), self.anchors.unsqueeze(0), xywh=True, dim=1) * self.strides
