"""FasterNet backbone pieces, following zgqtql666/DETR-SCI-Banana's FasterNet.py.

Partial_conv3 and MLPBlock are helpers used inside BasicStage; neither works as a YAML block on its own
(Partial_conv3 needs a ``forward`` mode string and raises NotImplementedError for anything else; MLPBlock
needs eight positional arguments).
"""

import torch
import torch.nn as nn


class DropPath(nn.Module):
    """Stochastic depth per sample (stand-in for timm's DropPath)."""

    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x / keep * mask


class Partial_conv3(nn.Module):
    """3x3 conv on the first dim // n_div channels only; the rest pass through."""

    def __init__(self, dim, n_div, forward):
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


class MLPBlock(nn.Module):
    """Partial conv mixing plus a 1x1 MLP with a residual."""

    def __init__(self, dim, n_div, mlp_ratio, drop_path, layer_scale_init_value, act_layer, norm_layer, pconv_fw_type):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1, bias=False), norm_layer(hidden), act_layer(), nn.Conv2d(hidden, dim, 1, bias=False)
        )
        self.spatial_mixing = Partial_conv3(dim, n_div, pconv_fw_type)
        if layer_scale_init_value > 0:
            self.layer_scale = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
            self.forward = self.forward_layer_scale

    def forward(self, x):
        return x + self.drop_path(self.mlp(self.spatial_mixing(x)))

    def forward_layer_scale(self, x):
        return x + self.drop_path(self.layer_scale[:, None, None] * self.mlp(self.spatial_mixing(x)))


class BasicStage(nn.Module):
    """``depth`` MLPBlocks at constant width ``dim``."""

    def __init__(
        self,
        dim,
        depth=1,
        n_div=4,
        mlp_ratio=2,
        layer_scale_init_value=0,
        norm_layer=nn.BatchNorm2d,
        act_layer=nn.ReLU,
        pconv_fw_type="split_cat",
    ):
        super().__init__()
        self.blocks = nn.Sequential(
            *(
                MLPBlock(dim, n_div, mlp_ratio, 0.0, layer_scale_init_value, act_layer, norm_layer, pconv_fw_type)
                for _ in range(depth)
            )
        )

    def forward(self, x):
        return self.blocks(x)


class PatchEmbed_FasterNet(nn.Module):
    """Patchify stem: conv with kernel patch_size and stride patch_stride, then a norm."""

    def __init__(self, in_chans, embed_dim, patch_size, patch_stride, norm_layer=nn.BatchNorm2d):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_stride, bias=False)
        self.norm = norm_layer(embed_dim) if norm_layer is not None else nn.Identity()

    def forward(self, x):
        return self.norm(self.proj(x))


class PatchMerging_FasterNet(nn.Module):
    """Downsampling between stages: conv k / patch_stride2 from dim to out_dim, then a norm."""

    def __init__(self, dim, out_dim, k, patch_stride2, norm_layer=nn.BatchNorm2d):
        super().__init__()
        self.reduction = nn.Conv2d(dim, out_dim, kernel_size=k, stride=patch_stride2, bias=False)
        self.norm = norm_layer(out_dim) if norm_layer is not None else nn.Identity()

    def forward(self, x):
        return self.norm(self.reduction(x))
