"""MDB-YOLO blocks: DySample, BiFPN_Concat2, C2f_EMA and ODConv2d, following jackcr7900/MDB-YOLO.

Helpers that are not YAML blocks: normal_init/constant_init, autopad/Conv/Bottleneck copies (as in the repo's
EMA.py), EMA (used inside C2f_EMA), Attention (ODConv's four-way attention; not Ultralytics' Attention),
ODConv2d_yolo, BiFPN_Concat (registered in the patch but unused by this YAML).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- Dysample.py
def normal_init(module, mean=0, std=1, bias=0):
    if getattr(module, "weight", None) is not None:
        nn.init.normal_(module.weight, mean, std)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def constant_init(module, val, bias=0):
    if getattr(module, "weight", None) is not None:
        nn.init.constant_(module.weight, val)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


class DySample(nn.Module):
    """Dynamic point-sampling x``scale`` upsampler; output keeps in_channels."""

    def __init__(self, in_channels, scale=2, style="lp", groups=4, dyscope=False):
        super().__init__()
        assert style in ("lp", "pl")
        assert in_channels >= groups and in_channels % groups == 0
        self.scale, self.style, self.groups = scale, style, groups
        if style == "pl":
            assert in_channels >= scale**2 and in_channels % scale**2 == 0
            cin, cout = in_channels // scale**2, 2 * groups
        else:
            cin, cout = in_channels, 2 * groups * scale**2
        self.offset = nn.Conv2d(cin, cout, 1)
        normal_init(self.offset, std=0.001)
        if dyscope:
            self.scope = nn.Conv2d(cin, cout, 1)
            constant_init(self.scope, val=0.0)
        self.register_buffer("init_pos", self._init_pos())

    def _init_pos(self):
        r = torch.arange((-self.scale + 1) / 2, (self.scale - 1) / 2 + 1) / self.scale
        a, b = torch.meshgrid(r, r, indexing="ij")
        return torch.stack([b, a]).repeat(1, self.groups, 1).reshape(1, -1, 1, 1)

    def sample(self, x, offset):
        b, _, h, w = offset.shape
        offset = offset.view(b, 2, -1, h, w)
        cy, cx = torch.meshgrid(torch.arange(h, dtype=x.dtype, device=x.device) + 0.5,
                                torch.arange(w, dtype=x.dtype, device=x.device) + 0.5, indexing="ij")
        coords = torch.stack([cx, cy]).view(1, 2, 1, h, w)
        scale = torch.tensor([w, h], dtype=x.dtype, device=x.device).view(1, 2, 1, 1, 1)
        coords = 2 * (coords + offset) / scale - 1
        coords = F.pixel_shuffle(coords.view(b, -1, h, w), self.scale)
        coords = coords.view(b, 2, -1, self.scale * h, self.scale * w).permute(0, 2, 3, 4, 1).flatten(0, 1)
        out = F.grid_sample(x.reshape(b * self.groups, -1, h, w), coords, mode="bilinear", align_corners=False,
                            padding_mode="border")
        return out.view(b, -1, self.scale * h, self.scale * w)

    def forward(self, x):
        if self.style == "pl":
            y = F.pixel_shuffle(x, self.scale)
            if hasattr(self, "scope"):
                off = F.pixel_unshuffle(self.offset(y) * self.scope(y).sigmoid(), self.scale) * 0.5
            else:
                off = F.pixel_unshuffle(self.offset(y), self.scale) * 0.25
        elif hasattr(self, "scope"):
            off = self.offset(x) * self.scope(x).sigmoid() * 0.5
        else:
            off = self.offset(x) * 0.25
        return self.sample(x, off + self.init_pos)


# ----------------------------------------------------------------------------- EMA.py (with its own Conv copy)
def autopad(k, p=None, d=1):
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


class Conv(nn.Module):
    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = self.default_act if act is True else act if isinstance(act, nn.Module) else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class EMA(nn.Module):
    """Efficient multi-scale attention over ``factor`` channel groups."""

    def __init__(self, channels, factor=8):
        super().__init__()
        self.groups = factor
        assert channels // self.groups > 0
        cg = channels // self.groups
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, 1)
        self.conv3x3 = nn.Conv2d(cg, cg, 3, padding=1)

    def forward(self, x):
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        hw = self.conv1x1(torch.cat([self.pool_h(g), self.pool_w(g).permute(0, 1, 3, 2)], dim=2))
        a_h, a_w = torch.split(hw, [h, w], dim=2)
        x1 = self.gn(g * a_h.sigmoid() * a_w.permute(0, 1, 3, 2).sigmoid())
        x2 = self.conv3x3(g)
        s1 = self.softmax(self.agp(x1).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        s2 = self.softmax(self.agp(x2).reshape(b * self.groups, -1, 1).permute(0, 2, 1))
        wts = s1 @ x2.reshape(b * self.groups, c // self.groups, -1) + s2 @ x1.reshape(b * self.groups, c // self.groups, -1)
        return (g * wts.reshape(b * self.groups, 1, h, w).sigmoid()).reshape(b, c, h, w)


class C2f_EMA(nn.Module):
    """C2f whose cv1 output passes through EMA (factor 8) before the split."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.EMA = EMA(self.c * 2, factor=8)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, k=((3, 3), (3, 3)), e=1.0) for _ in range(n))

    def forward(self, x):
        y = list(self.EMA(self.cv1(x)).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.cv2(torch.cat(y, 1))


# ----------------------------------------------------------------------------- BiFPN.py
class BiFPN_Concat(nn.Module):
    """Weighted ADD of 2 or 3 inputs followed by ReLU and a 1x1 Conv (c1 -> c2)."""

    def __init__(self, c1, c2):
        super().__init__()
        self.w1_weight = nn.Parameter(torch.ones(2, dtype=torch.float32), requires_grad=True)
        self.w2_weight = nn.Parameter(torch.ones(3, dtype=torch.float32), requires_grad=True)
        self.epsilon = 1e-4
        self.conv = Conv(c1, c2, 1, 1, 0)
        self.act = nn.ReLU()

    def forward(self, x):
        w = self.w1_weight if len(x) == 2 else self.w2_weight
        w = w / (w.sum() + self.epsilon)
        return self.conv(self.act(sum(w[i] * x[i] for i in range(len(x)))))


class BiFPN_Concat2(nn.Module):
    """Two-input fast normalised fusion, concatenated along ``dimension``."""

    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension
        self.w = nn.Parameter(torch.ones(2, dtype=torch.float32), requires_grad=True)
        self.epsilon = 1e-4

    def forward(self, x):
        w = self.w / (self.w.sum() + self.epsilon)
        return torch.cat([w[0] * x[0], w[1] * x[1]], self.d)


# ----------------------------------------------------------------------------- ODConv.py
class Attention(nn.Module):
    """ODConv attention: channel, filter, spatial and kernel weights from one pooled descriptor."""

    def __init__(self, in_planes, out_planes, kernel_size=3, groups=1, reduction=0.0625, kernel_num=4, min_channel=16):
        super().__init__()
        hidden = max(int(in_planes * reduction), min_channel)
        self.kernel_size = kernel_size
        self.kernel_num = kernel_num
        self.temperature = 1.0
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(in_planes, hidden, 1, bias=False)
        self.bn = nn.BatchNorm2d(hidden)
        self.relu = nn.ReLU(inplace=True)
        self.channel_fc = nn.Conv2d(hidden, in_planes, 1, bias=True)
        if in_planes == groups and in_planes == out_planes:
            self.func_filter = self.skip
        else:
            self.filter_fc = nn.Conv2d(hidden, out_planes, 1, bias=True)
            self.func_filter = self.get_filter_attention
        if kernel_size == 1:
            self.func_spatial = self.skip
        else:
            self.spatial_fc = nn.Conv2d(hidden, kernel_size * kernel_size, 1, bias=True)
            self.func_spatial = self.get_spatial_attention
        if kernel_num == 1:
            self.func_kernel = self.skip
        else:
            self.kernel_fc = nn.Conv2d(hidden, kernel_num, 1, bias=True)
            self.func_kernel = self.get_kernel_attention
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def update_temperature(self, temperature):
        self.temperature = temperature

    @staticmethod
    def skip(_):
        return 1.0

    def get_channel_attention(self, x):
        return torch.sigmoid(self.channel_fc(x).view(x.size(0), -1, 1, 1) / self.temperature)

    def get_filter_attention(self, x):
        return torch.sigmoid(self.filter_fc(x).view(x.size(0), -1, 1, 1) / self.temperature)

    def get_spatial_attention(self, x):
        s = self.spatial_fc(x).view(x.size(0), 1, 1, 1, self.kernel_size, self.kernel_size)
        return torch.sigmoid(s / self.temperature)

    def get_kernel_attention(self, x):
        k = self.kernel_fc(x).view(x.size(0), -1, 1, 1, 1, 1)
        return F.softmax(k / self.temperature, dim=1)

    def forward(self, x):
        x = self.relu(self.fc(self.avgpool(x)))  # the repository defines self.bn but never applies it
        return self.get_channel_attention(x), self.func_filter(x), self.func_spatial(x), self.func_kernel(x)


class ODConv2d(nn.Module):
    """Omni-dimensional dynamic convolution with ``kernel_num`` candidate kernels."""

    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=1, dilation=1, groups=1, reduction=0.0625,
                 kernel_num=4):
        super().__init__()
        self.in_planes, self.out_planes = in_planes, out_planes
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups, self.kernel_num = dilation, groups, kernel_num
        self.attention = Attention(in_planes, out_planes, kernel_size, groups=groups, reduction=reduction,
                                   kernel_num=kernel_num)
        self.weight = nn.Parameter(torch.randn(kernel_num, out_planes, in_planes // groups, kernel_size, kernel_size),
                                   requires_grad=True)
        for i in range(kernel_num):
            nn.init.kaiming_normal_(self.weight[i], mode="fan_out", nonlinearity="relu")
        self._forward_impl = self._forward_pw1x if kernel_size == 1 and kernel_num == 1 else self._forward_common

    def update_temperature(self, temperature):
        self.attention.update_temperature(temperature)

    def _forward_common(self, x):
        ca, fa, sa, ka = self.attention(x)
        b, c, h, w = x.shape
        x = (x * ca).reshape(1, -1, h, w)
        weight = (sa * ka * self.weight.unsqueeze(0)).sum(dim=1)
        weight = weight.view(-1, self.in_planes // self.groups, self.kernel_size, self.kernel_size)
        out = F.conv2d(x, weight, None, self.stride, self.padding, self.dilation, self.groups * b)
        return out.view(b, self.out_planes, out.size(-2), out.size(-1)) * fa

    def _forward_pw1x(self, x):
        ca, fa, _, _ = self.attention(x)
        out = F.conv2d(x * ca, self.weight.squeeze(0), None, self.stride, self.padding, self.dilation, self.groups)
        return out * fa

    def forward(self, x):
        return self._forward_impl(x)


class ODConv2d_yolo(nn.Module):
    """1x1 Conv then ODConv2d, BN and GELU."""

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, groups=1, dilation=1):
        super().__init__()
        self.conv = Conv(in_channels, out_channels, k=1)
        self.dcnv3 = ODConv2d(out_channels, out_channels, kernel_size=kernel_size, stride=stride, groups=groups,
                              dilation=dilation)
        self.bn = nn.BatchNorm2d(out_channels)
        self.gelu = nn.GELU()

    def forward(self, x):
        return self.gelu(self.bn(self.dcnv3(self.conv(x))))
