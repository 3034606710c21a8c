"""MASF-YOLO blocks (MFAM, IEMA, DASI, Upsample), following XingheQAQ/MASF-YOLO.

Helpers: ConvModule (needs kernel_size, so it fails as a (c1, c2) YAML block), Bag (forward takes three
tensors), InceptionDWConv2d, and the plain EMA that lives in the same file as IEMA.
"""

import torch
import torch.nn as nn

from ultralytics.nn.modules.conv import Conv, autopad


class ConvModule(nn.Module):
    """Conv2d with optional BN (norm_cfg) and ReLU/SiLU (act_cfg)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 norm_cfg=None, act_cfg=None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=False)
        self.norm = None
        if norm_cfg is not None:
            self.norm = nn.BatchNorm2d(out_channels, momentum=norm_cfg.get("momentum", 0.03),
                                       eps=norm_cfg.get("eps", 0.001))
        self.activation = None
        if act_cfg is not None:
            self.activation = nn.ReLU(inplace=True) if act_cfg["type"] == "ReLU" else nn.SiLU(inplace=True)

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return self.activation(x) if self.activation is not None else x


class MFAM(nn.Module):
    """Multi-scale depthwise aggregation: 3x3, 5x5 and strip-decomposed 7/9 kernels, then project to out_channels."""

    def __init__(self, in_channels, out_channels=None, kernel_sizes=(3, 5, 7, 9), dilations=(1, 1, 1, 1),
                 expansion=1.0, add_identity=True, norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),
                 act_cfg=dict(type="SiLU")):
        super().__init__()
        hidden = int(in_channels * expansion)
        k = kernel_sizes
        self.pre_conv = ConvModule(in_channels, hidden, 1, 1, 0, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.dw_conv = ConvModule(hidden, hidden, k[0], 1, autopad(k[0], None, dilations[0]), dilations[0], groups=hidden)
        self.dw_conv1 = ConvModule(hidden, hidden, k[1], 1, autopad(k[1], None, dilations[1]), dilations[1], groups=hidden)
        self.dw_conv2_w = ConvModule(hidden, hidden, (1, k[2]), padding=(0, k[2] // 2), groups=hidden)
        self.dw_conv2_h = ConvModule(hidden, hidden, (k[2], 1), padding=(k[2] // 2, 0), groups=hidden)
        self.dw_conv3_w = ConvModule(hidden, hidden, (1, k[3]), padding=(0, k[3] // 2), groups=hidden)
        self.dw_conv3_h = ConvModule(hidden, hidden, (k[3], 1), padding=(k[3] // 2, 0), groups=hidden)
        self.pw_conv = ConvModule(hidden, hidden, 1, 1, 0, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.add_identity = add_identity and in_channels == out_channels
        self.post_conv = ConvModule(hidden, out_channels, 1, 1, 0, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        x = self.pre_conv(x)
        y = x
        x = (x + self.dw_conv(x) + self.dw_conv1(x) + self.dw_conv2_h(self.dw_conv2_w(x))
             + self.dw_conv3_h(self.dw_conv3_w(x)))
        x = self.pw_conv(x)
        if self.add_identity:
            x = x + y
        return self.post_conv(x)


class InceptionDWConv2d(nn.Module):
    """Splits channels into identity / square / horizontal band / vertical band depthwise branches."""

    def __init__(self, in_channels, square_kernel_size=3, band_kernel_size=5, branch_ratio=0.25):
        super().__init__()
        gc = int(in_channels * branch_ratio)
        self.dwconv_hw = nn.Conv2d(gc, gc, square_kernel_size, padding=square_kernel_size // 2, groups=gc)
        self.dwconv_w = nn.Conv2d(gc, gc, (1, band_kernel_size), padding=(0, band_kernel_size // 2), groups=gc)
        self.dwconv_h = nn.Conv2d(gc, gc, (band_kernel_size, 1), padding=(band_kernel_size // 2, 0), groups=gc)
        self.dwconv = nn.Conv2d(in_channels, in_channels, 1, groups=in_channels)
        self.split_indexes = (in_channels - 3 * gc, gc, gc, gc)

    def forward(self, x):
        x_id, x_hw, x_w, x_h = torch.split(x, self.split_indexes, dim=1)
        return self.dwconv(torch.cat((x_id, self.dwconv_hw(x_hw), self.dwconv_w(x_w), self.dwconv_h(x_h)), 1))


class _GroupedAttention(nn.Module):
    """Shared body of EMA and IEMA: grouped cross-spatial attention with a pluggable 'local' conv."""

    def __init__(self, channels, factor, local):
        super().__init__()
        self.groups = factor
        assert channels // self.groups > 0
        cg = channels // self.groups
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, kernel_size=1)
        self.local = local(cg)

    def forward(self, x):
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        hw = self.conv1x1(torch.cat([self.pool_h(g), self.pool_w(g).permute(0, 1, 3, 2)], dim=2))
        xh, xw = torch.split(hw, [h, w], dim=2)
        x1 = self.gn(g * xh.sigmoid() * xw.permute(0, 1, 3, 2).sigmoid())
        x2 = self.local(g)
        a1 = self.softmax(self.agp(x1).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        a2 = self.softmax(self.agp(x2).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        wts = a1 @ x2.reshape(b * self.groups, c // self.groups, -1) + a2 @ x1.reshape(b * self.groups, c // self.groups, -1)
        return (g * wts.reshape(b * self.groups, 1, h, w).sigmoid()).reshape(b, c, h, w)


class EMA(_GroupedAttention):
    """Efficient multi-scale attention with a 3x3 local branch."""

    def __init__(self, channels, factor=32):
        super().__init__(channels, factor, lambda cg: nn.Conv2d(cg, cg, kernel_size=3, padding=1))


class IEMA(_GroupedAttention):
    """EMA whose local branch is an Inception depthwise conv."""

    def __init__(self, channels, factor=8):
        super().__init__(channels, factor, InceptionDWConv2d)


class Bag(nn.Module):
    """Edge-guided blend of two maps: sigmoid(d) * p + (1 - sigmoid(d)) * i."""

    def forward(self, p, i, d):
        att = torch.sigmoid(d)
        return att * p + (1 - att) * i


class DASI(nn.Module):
    """Fuses three same-shape maps [low, mid, high]; keeps the mid map's channels (in_features)."""

    def __init__(self, in_features):
        super().__init__()
        self.bag = Bag()
        self.tail_conv = nn.Conv2d(in_features, in_features, 1)
        self.bns = nn.BatchNorm2d(in_features)
        self.gelu = nn.GELU()

    def forward(self, x):
        low, mid, high = x
        identity = mid
        parts = zip(low.chunk(4, dim=1), mid.chunk(4, dim=1), high.chunk(4, dim=1))
        y = torch.cat([self.bag(l, h, m) for l, m, h in parts], dim=1) + identity
        return self.gelu(self.bns(self.tail_conv(y)))


class Upsample(nn.Module):
    """1x1 Conv to out_channels, then bilinear upsampling (MASF-YOLO's block.py Upsample)."""

    def __init__(self, in_channels, out_channels, scale_factor=2):
        super().__init__()
        self.upsample = nn.Sequential(Conv(in_channels, out_channels, 1),
                                      nn.Upsample(scale_factor=scale_factor, mode="bilinear"))

    def forward(self, x):
        return self.upsample(x)
