"""CGNet context-guided blocks, following the YOLO11 framework vendored by qiuxiaolong857/LGAE-CSPL.

FGlo and ContextGuidedBlock are helpers; only ContextGuidedBlock_Down is used by the YAML.
"""

import torch
import torch.nn as nn

from ultralytics.nn.modules.conv import Conv, autopad


class FGlo(nn.Module):
    """Global context refinement: squeeze-excite over the joint feature."""

    def __init__(self, channel, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction), nn.ReLU(inplace=True), nn.Linear(channel // reduction, channel),
            nn.Sigmoid(),
        )

    def forward(self, x):
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)


class ContextGuidedBlock(nn.Module):
    """Same-resolution CG block: local + dilated surrounding context, global refinement, optional residual."""

    def __init__(self, nIn, nOut, dilation_rate=2, reduction=16, add=True):
        super().__init__()
        n = int(nOut / 2)
        self.conv1x1 = Conv(nIn, n, 1, 1)
        self.F_loc = nn.Conv2d(n, n, 3, padding=1, groups=n)
        self.F_sur = nn.Conv2d(n, n, 3, padding=autopad(3, None, dilation_rate), dilation=dilation_rate, groups=n)
        self.bn_act = nn.Sequential(nn.BatchNorm2d(nOut), Conv.default_act)
        self.add = add
        self.F_glo = FGlo(nOut, reduction)

    def forward(self, x):
        y = self.conv1x1(x)
        y = self.F_glo(self.bn_act(torch.cat([self.F_loc(y), self.F_sur(y)], 1)))
        return x + y if self.add else y


class ContextGuidedBlock_Down(nn.Module):
    """Stride-2 CG block: (H, W, C) -> (H/2, W/2, 2C)."""

    def __init__(self, nIn, dilation_rate=2, reduction=16):
        super().__init__()
        nOut = 2 * nIn
        self.conv1x1 = Conv(nIn, nOut, 3, s=2)
        self.F_loc = nn.Conv2d(nOut, nOut, 3, padding=1, groups=nOut)
        self.F_sur = nn.Conv2d(nOut, nOut, 3, padding=autopad(3, None, dilation_rate), dilation=dilation_rate,
                               groups=nOut)
        self.bn = nn.BatchNorm2d(2 * nOut, eps=1e-3)
        self.act = Conv.default_act
        self.reduce = Conv(2 * nOut, nOut, 1, 1)
        self.F_glo = FGlo(nOut, reduction)

    def forward(self, x):
        y = self.conv1x1(x)
        joint = self.act(self.bn(torch.cat([self.F_loc(y), self.F_sur(y)], 1)))
        return self.F_glo(self.reduce(joint))
