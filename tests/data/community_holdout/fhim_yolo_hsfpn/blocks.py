"""FFCA / HS-FPN blocks, following 0224cui/FHIM-YOLO (FEM.py and the HSFPN module its __init__ imports).

Helpers that are not YAML blocks: DropPath, Conv_withoutBN, Partial_conv3 (needs a mode string), Faster_Block,
BasicConv (kernel_size has no default).
"""

import torch
import torch.nn as nn

from ultralytics.nn.modules.block import C2f, C3
from ultralytics.nn.modules.conv import Conv, autopad


class DropPath(nn.Module):
    """Per-sample stochastic depth (stand-in for timm's DropPath)."""

    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if not self.training or not self.drop_prob:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class Conv_withoutBN(nn.Module):
    """Conv2d + activation, no normalisation."""

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.act = self.default_act if act is True else act if isinstance(act, nn.Module) else nn.Identity()

    def forward(self, x):
        return self.act(self.conv(x))


class Partial_conv3(nn.Module):
    """3x3 conv on the first dim // n_div channels; the rest pass through untouched."""

    def __init__(self, dim, n_div, forward):
        super().__init__()
        self.dim_conv3 = dim // n_div
        self.dim_untouched = dim - self.dim_conv3
        self.partial_conv3 = nn.Conv2d(self.dim_conv3, self.dim_conv3, 3, 1, 1, bias=False)
        modes = {"slicing": self.forward_slicing, "split_cat": self.forward_split_cat}
        if forward not in modes:
            raise NotImplementedError(forward)
        self.forward = modes[forward]

    def forward_slicing(self, x):
        x = x.clone()
        x[:, : self.dim_conv3] = self.partial_conv3(x[:, : self.dim_conv3])
        return x

    def forward_split_cat(self, x):
        head, tail = torch.split(x, [self.dim_conv3, x.shape[1] - self.dim_conv3], dim=1)
        return torch.cat((self.partial_conv3(head), tail), 1)


class Faster_Block(nn.Module):
    """FasterNet block: optional inc->dim 1x1 adjust, partial conv, 2-layer MLP, residual."""

    def __init__(self, inc, dim, n_div=4, mlp_ratio=2, drop_path=0.1, layer_scale_init_value=0.0,
                 pconv_fw_type="split_cat"):
        super().__init__()
        self.dim = dim
        self.mlp_ratio = mlp_ratio
        self.n_div = n_div
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(Conv(dim, hidden, 1), nn.Conv2d(hidden, dim, 1, bias=False))
        self.spatial_mixing = Partial_conv3(dim, n_div, pconv_fw_type)
        self.adjust_channel = Conv(inc, dim, 1) if inc != dim else None
        if layer_scale_init_value > 0:
            self.layer_scale = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
            self.forward = self.forward_layer_scale

    def forward(self, x):
        if self.adjust_channel is not None:
            x = self.adjust_channel(x)
        return x + self.drop_path(self.mlp(self.spatial_mixing(x)))

    def forward_layer_scale(self, x):
        scale = self.layer_scale.view(1, -1, 1, 1)
        return x + self.drop_path(scale * self.mlp(self.spatial_mixing(x)))


class C3_Faster(C3):
    """Ultralytics C3 whose bottlenecks are Faster_Blocks."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__(c1, c2, n, shortcut, g, e)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(Faster_Block(c_, c_) for _ in range(n)))


class C2f_Faster(C2f):
    """Ultralytics C2f whose bottlenecks are Faster_Blocks."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(Faster_Block(self.c, self.c) for _ in range(n))


class BasicConv(nn.Module):
    """Conv2d with optional BN (momentum 0.01) and optional ReLU."""

    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, dilation=1, groups=1, relu=True,
                 bn=True, bias=False):
        super().__init__()
        self.out_channels = out_planes
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, dilation, groups, bias=bias)
        self.bn = nn.BatchNorm2d(out_planes, eps=1e-5, momentum=0.01) if bn else None
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x


class FEM(nn.Module):
    """Feature enrichment: three dilated/strip branches on in_planes // map_reduce channels, scaled residual."""

    def __init__(self, in_planes, out_planes, stride=1, scale=0.1, map_reduce=8):
        super().__init__()
        self.scale = scale
        self.out_channels = out_planes
        c = in_planes // map_reduce
        mid = (c // 2) * 3
        self.branch0 = nn.Sequential(
            BasicConv(in_planes, 2 * c, 1, stride=stride),
            BasicConv(2 * c, 2 * c, 3, 1, padding=1, relu=False),
        )
        self.branch1 = nn.Sequential(
            BasicConv(in_planes, c, 1),
            BasicConv(c, mid, (1, 3), stride=stride, padding=(0, 1)),
            BasicConv(mid, 2 * c, (3, 1), stride=stride, padding=(1, 0)),
            BasicConv(2 * c, 2 * c, 3, 1, padding=2, dilation=2, relu=False),
        )
        self.branch2 = nn.Sequential(
            BasicConv(in_planes, c, 1),
            BasicConv(c, mid, (3, 1), stride=stride, padding=(1, 0)),
            BasicConv(mid, 2 * c, (1, 3), stride=stride, padding=(0, 1)),
            BasicConv(2 * c, 2 * c, 3, 1, padding=3, dilation=3, relu=False),
        )
        self.ConvLinear = BasicConv(6 * c, out_planes, 1, relu=False)
        self.shortcut = BasicConv(in_planes, out_planes, 1, stride=stride, relu=False)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x):
        y = self.ConvLinear(torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1))
        return self.relu(y * self.scale + self.shortcut(x))


class CA(nn.Module):
    """HS-FPN channel attention: shared MLP over avg- and max-pooled descriptors.

    flag=True returns the reweighted input; flag=False returns only the [B, C, 1, 1] weights.
    """

    def __init__(self, in_planes, ratio=4, flag=True):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.conv1 = nn.Conv2d(in_planes, in_planes // ratio, 1, bias=False)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(in_planes // ratio, in_planes, 1, bias=False)
        self.flag = flag
        self.sigmoid = nn.Sigmoid()
        nn.init.xavier_uniform_(self.conv1.weight)
        nn.init.xavier_uniform_(self.conv2.weight)

    def forward(self, x):
        mlp = lambda t: self.conv2(self.relu(self.conv1(t)))  # noqa: E731
        w = self.sigmoid(mlp(self.avg_pool(x)) + mlp(self.max_pool(x)))
        return w * x if self.flag else w


class multiply(nn.Module):
    """Elementwise product of two inputs (broadcasting)."""

    def forward(self, x):
        return x[0] * x[1]


class Add(nn.Module):
    """Elementwise sum of two inputs; ``ch`` is accepted and unused."""

    def __init__(self, ch=256):
        super().__init__()

    def forward(self, x):
        return x[0] + x[1]
