"""LSKblock and C2f_LSK, following 20191844308/SLA-YOLO's nn/LSK.py.

MPMBlock (mixed/strip pooling, from the repo's strippooling module) is a helper; LSKblock creates one and never uses it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ultralytics.nn.modules import Bottleneck, Conv


class MPMBlock(nn.Module):
    """Mixed pooling: two square pyramid pools and two strip pools, each followed by a 3x3 conv, fused by 1x1."""

    def __init__(self, in_channels, pool_size):
        super().__init__()
        c = in_channels // 4
        self.pool1 = nn.AdaptiveAvgPool2d(pool_size[0])
        self.pool2 = nn.AdaptiveAvgPool2d(pool_size[1])
        self.pool3 = nn.AdaptiveAvgPool2d((1, None))
        self.pool4 = nn.AdaptiveAvgPool2d((None, 1))
        self.conv1_1 = nn.Sequential(nn.Conv2d(in_channels, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        self.conv1_2 = nn.Sequential(nn.Conv2d(in_channels, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        self.conv2_0 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.conv2_1 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.conv2_2 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.conv2_3 = nn.Sequential(nn.Conv2d(c, c, (1, 3), 1, (0, 1), bias=False), nn.BatchNorm2d(c))
        self.conv2_4 = nn.Sequential(nn.Conv2d(c, c, (3, 1), 1, (1, 0), bias=False), nn.BatchNorm2d(c))
        self.conv2_5 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        self.conv2_6 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        self.conv3 = nn.Sequential(nn.Conv2d(c * 2, in_channels, 1, bias=False), nn.BatchNorm2d(in_channels))

    def forward(self, x):
        _, _, h, w = x.shape
        up = lambda t: F.interpolate(t, (h, w), mode="bilinear", align_corners=False)  # noqa: E731
        a, b = self.conv1_1(x), self.conv1_2(x)
        a = self.conv2_5(F.relu(self.conv2_0(a) + up(self.conv2_1(self.pool1(a))) + up(self.conv2_2(self.pool2(a)))))
        b = self.conv2_6(F.relu(up(self.conv2_3(self.pool3(b))) + up(self.conv2_4(self.pool4(b)))))
        return F.relu(x + self.conv3(torch.cat([a, b], dim=1)))


class LSKblock(nn.Module):
    """Large selective kernel: 5x5 dw then 7x7 dilated dw, spatially selected by mean/max maps, gates the input."""

    def __init__(self, dim):
        super().__init__()
        self.conv0 = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.conv_spatial = nn.Conv2d(dim, dim, 7, stride=1, padding=9, groups=dim, dilation=3)
        self.conv1 = nn.Conv2d(dim, dim // 2, 1)
        self.conv2 = nn.Conv2d(dim, dim // 2, 1)
        self.conv_squeeze = nn.Conv2d(2, 2, 7, padding=3)
        self.conv = nn.Conv2d(dim // 2, dim, 1)
        self.mpm = MPMBlock(dim, [6, 6])  # built, never called

    def forward(self, x):
        a1 = self.conv0(x)
        a2 = self.conv_spatial(a1)
        a1, a2 = self.conv1(a1), self.conv2(a2)
        cat = torch.cat([a1, a2], dim=1)
        sig = self.conv_squeeze(torch.cat([cat.mean(dim=1, keepdim=True), cat.amax(dim=1, keepdim=True)], 1)).sigmoid()
        return x * self.conv(a1 * sig[:, 0:1] + a2 * sig[:, 1:2])


class C2f_LSK(nn.Module):
    """C2f followed by an LSKblock on its output."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, k=((3, 3), (3, 3)), e=1.0) for _ in range(n))
        self.lsk = LSKblock(c2)

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.lsk(self.cv2(torch.cat(y, 1)))
