"""CAF-YOLO blocks: C2f_MixStructure, SpatialGroupEnhance, CAFMAttention, following 812319763/CAF-YOLO.

MixStructureBlock is a helper (C2f_MixStructure's inner unit).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ultralytics.nn.modules import C2f


class MixStructureBlock(nn.Module):
    """MixDehazeNet-style block: multi-dilation depthwise mixing, then parallel (gated value, channel, pixel) attention."""

    def __init__(self, dim):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.norm2 = nn.BatchNorm2d(dim)
        self.conv1 = nn.Conv2d(dim, dim, 1)
        self.conv2 = nn.Conv2d(dim, dim, 5, padding=2)
        self.conv3_19 = nn.Conv2d(dim, dim, 7, padding=9, groups=dim, dilation=3)
        self.conv3_13 = nn.Conv2d(dim, dim, 5, padding=6, groups=dim, dilation=3)
        self.conv3_7 = nn.Conv2d(dim, dim, 3, padding=3, groups=dim, dilation=3)
        self.Wv = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 3, padding=1, groups=dim))
        self.Wg = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, dim, 1), nn.Sigmoid())
        self.ca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, dim, 1), nn.GELU(), nn.Conv2d(dim, dim, 1),
                                nn.Sigmoid())
        self.pa = nn.Sequential(nn.Conv2d(dim, dim // 8, 1), nn.GELU(), nn.Conv2d(dim // 8, 1, 1), nn.Sigmoid())
        self.mlp = nn.Sequential(nn.Conv2d(dim * 3, dim * 4, 1), nn.GELU(), nn.Conv2d(dim * 4, dim, 1))
        self.mlp2 = nn.Sequential(nn.Conv2d(dim * 3, dim * 4, 1), nn.GELU(), nn.Conv2d(dim * 4, dim, 1))

    def forward(self, x):
        y = self.conv2(self.conv1(self.norm1(x)))
        x = x + self.mlp(torch.cat([self.conv3_19(y), self.conv3_13(y), self.conv3_7(y)], dim=1))
        y = self.norm2(x)
        return x + self.mlp2(torch.cat([self.Wv(y) * self.Wg(y), self.ca(y) * y, self.pa(y) * y], dim=1))


class C2f_MixStructure(C2f):
    """Ultralytics C2f with MixStructureBlocks."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(MixStructureBlock(self.c) for _ in range(n))


class SpatialGroupEnhance(nn.Module):
    """SGE: per-group spatial gate from the similarity between features and their group-average descriptor."""

    def __init__(self, groups=8):
        super().__init__()
        self.groups = groups
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.sig = nn.Sigmoid()

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.view(b * self.groups, -1, h, w)
        t = (x * self.avg_pool(x)).sum(dim=1, keepdim=True).view(b * self.groups, -1)
        t = (t - t.mean(dim=1, keepdim=True)) / (t.std(dim=1, keepdim=True) + 1e-5)
        t = t.view(b, self.groups, h, w) * self.weight + self.bias
        return (x * self.sig(t.view(b * self.groups, 1, h, w))).view(b, c, h, w)


class CAFMAttention(nn.Module):
    """Convolution-and-attention fusion: channel-wise transposed attention per head plus a local conv branch."""

    def __init__(self, dim, num_heads=2, bias=False):
        super().__init__()
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, 1, 1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)
        self.fc = nn.Conv2d(3 * num_heads, 9, 1, bias=True)
        self.dep_conv = nn.Conv2d(9 * dim // num_heads, dim, 3, padding=1, groups=dim // num_heads, bias=True)

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.qkv_dwconv(self.qkv(x))
        heads = self.num_heads
        # local branch: regroup the qkv channels per head, mix them with fc, then a grouped 3x3
        f_all = qkv.permute(0, 2, 3, 1).reshape(b, h * w, 3 * heads, -1).permute(0, 2, 1, 3)
        f_all = self.fc(f_all)  # b, 9, hw, c/heads
        local = self.dep_conv(f_all.permute(0, 3, 1, 2).reshape(b, 9 * c // heads, h, w))
        # global branch: channel attention inside each head
        q, k, v = (t.reshape(b, heads, c // heads, h * w) for t in qkv.chunk(3, dim=1))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        out = self.project_out((attn @ v).reshape(b, c, h, w))
        return out + local
