"""C3k2_Faster (FasterNet blocks in YOLO11's C3k2), following the YOLO11 framework vendored by qiuxiaolong857/LGAE-CSPL.

Helpers that are not YAML blocks: DropPath, Partial_conv3, Faster_Block, C3k_Faster.
"""

import torch
import torch.nn as nn

from ultralytics.nn.modules.block import C3k, C3k2
from ultralytics.nn.modules.conv import Conv


class DropPath(nn.Module):
    """Stochastic depth (stand-in for timm's)."""

    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        return x * x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep) / keep


class Partial_conv3(nn.Module):
    """Partial 3x3 conv over dim // n_div channels."""

    def __init__(self, dim, n_div=4, forward="split_cat"):
        super().__init__()
        self.dim_conv3 = dim // n_div
        self.dim_untouched = dim - self.dim_conv3
        self.partial_conv3 = nn.Conv2d(self.dim_conv3, self.dim_conv3, 3, 1, 1, bias=False)
        if forward == "slicing":
            self.forward = self.forward_slicing
        elif forward == "split_cat":
            self.forward = self.forward_split_cat
        else:
            raise NotImplementedError(forward)

    def forward_slicing(self, x):
        x = x.clone()
        x[:, : self.dim_conv3] = self.partial_conv3(x[:, : self.dim_conv3])
        return x

    def forward_split_cat(self, x):
        a, b = torch.split(x, [self.dim_conv3, self.dim_untouched], dim=1)
        return torch.cat((self.partial_conv3(a), b), 1)


class Faster_Block(nn.Module):
    """FasterNet block (optional inc->dim adjust, partial conv mixing, MLP, residual)."""

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
        return x + self.drop_path(self.layer_scale.view(1, -1, 1, 1) * self.mlp(self.spatial_mixing(x)))


class C3k_Faster(C3k):
    """Ultralytics C3k with Faster_Blocks."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5, k=3):
        super().__init__(c1, c2, n, shortcut, g, e, k)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(Faster_Block(c_, c_) for _ in range(n)))


class C3k2_Faster(C3k2):
    """Ultralytics C3k2 with Faster_Blocks (or C3k_Faster pairs when c3k)."""

    def __init__(self, c1, c2, n=1, c3k=False, e=0.5, g=1, shortcut=True):
        super().__init__(c1, c2, n, c3k, e, g=g, shortcut=shortcut)
        self.m = nn.ModuleList(
            C3k_Faster(self.c, self.c, 2, shortcut, g) if c3k else Faster_Block(self.c, self.c) for _ in range(n)
        )
