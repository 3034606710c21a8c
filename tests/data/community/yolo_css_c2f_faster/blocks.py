"""C2f_Faster (FasterNet blocks inside Ultralytics' C2f), following yjhhaha/YOLO-CSS's block.py."""

import torch
import torch.nn as nn

from ultralytics.nn.modules.block import C2f
from ultralytics.nn.modules.conv import Conv


class DropPath(nn.Module):
    """Drops whole samples on the residual branch while training."""

    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if not self.drop_prob or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = torch.floor(keep + torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device))
        return x / keep * mask


class Partial_conv3(nn.Module):
    """3x3 conv over the first dim // n_div channels; ``forward`` selects 'slicing' or 'split_cat'."""

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
            raise NotImplementedError

    def forward_slicing(self, x):
        x = x.clone()
        x[:, : self.dim_conv3] = self.partial_conv3(x[:, : self.dim_conv3])
        return x

    def forward_split_cat(self, x):
        a, b = torch.split(x, [self.dim_conv3, self.dim_untouched], dim=1)
        return torch.cat((self.partial_conv3(a), b), 1)


class Faster_Block(nn.Module):
    """FasterNet block: optional 1x1 channel adjust (inc -> dim), partial conv, MLP, residual."""

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
        return x + self.drop_path(self.layer_scale[:, None, None] * self.mlp(self.spatial_mixing(x)))


class C2f_Faster(C2f):
    """Ultralytics C2f with its bottlenecks replaced by Faster_Blocks (only self.m changes)."""

    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(Faster_Block(self.c, self.c) for _ in range(n))
