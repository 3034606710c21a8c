"""AKConv, DySample and CSPOmniKernel, following 081degrees/MBT-YOLO's vendored extra_modules/block.py.

Helpers that are not YAML blocks: normal_init, constant_init, FGM, OmniKernel (CSPOmniKernel's inner branch).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ultralytics.nn.modules.conv import Conv

__all__ = ["AKConv", "DySample", "CSPOmniKernel"]


class AKConv(nn.Module):
    """Alterable-kernel conv: num_param learnable sampling points per output location, stride on the offset conv."""

    def __init__(self, inc, outc, num_param=5, stride=1, bias=None):
        super().__init__()
        self.num_param = num_param
        self.stride = stride
        self.conv = nn.Sequential(
            nn.Conv2d(inc, outc, kernel_size=(num_param, 1), stride=(num_param, 1), bias=bias),
            nn.BatchNorm2d(outc),
            nn.SiLU(),
        )
        self.p_conv = nn.Conv2d(inc, 2 * num_param, kernel_size=3, padding=1, stride=stride)
        nn.init.constant_(self.p_conv.weight, 0)

    def _initial_points(self, dtype, device):
        """Row/col offsets of the N points laid out on a near-square grid (last row partially filled)."""
        n = self.num_param
        cols = round(math.sqrt(n))
        rows, extra = divmod(n, cols)
        pts = [(r, c) for r in range(rows) for c in range(cols)] + [(rows, c) for c in range(extra)]
        pts = torch.tensor(pts, dtype=dtype, device=device)  # N, 2
        return pts[:, 0].view(1, n, 1, 1), pts[:, 1].view(1, n, 1, 1)

    def forward(self, x):
        offset = self.p_conv(x)
        b, _, h, w = offset.shape
        n = self.num_param
        H, W = x.shape[2:]
        pn_r, pn_c = self._initial_points(offset.dtype, offset.device)
        p0_r = (torch.arange(h, dtype=offset.dtype, device=offset.device) * self.stride).view(1, 1, h, 1)
        p0_c = (torch.arange(w, dtype=offset.dtype, device=offset.device) * self.stride).view(1, 1, 1, w)
        rows = (p0_r + pn_r + offset[:, :n]).clamp(0, H - 1)
        cols = (p0_c + pn_c + offset[:, n:]).clamp(0, W - 1)
        gy = 2 * rows / max(H - 1, 1) - 1
        gx = 2 * cols / max(W - 1, 1) - 1
        grid = torch.stack([gx, gy], dim=-1)  # b, n, h, w, 2
        grid = grid.permute(0, 2, 1, 3, 4).reshape(b, h * n, w, 2)  # rows of the N points stacked under each row
        sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
        return self.conv(sampled)  # kernel (N, 1), stride (N, 1) collapses the N samples


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
    """Learned point-sampling upsampler (x ``scale``); keeps the input channels."""

    def __init__(self, in_channels, scale=2, style="lp", groups=4, dyscope=False):
        super().__init__()
        self.scale = scale
        self.style = style
        self.groups = groups
        assert style in ("lp", "pl")
        assert in_channels >= groups and in_channels % groups == 0
        if style == "pl":
            assert in_channels % scale**2 == 0
            c_in, c_out = in_channels // scale**2, 2 * groups
        else:
            c_in, c_out = in_channels, 2 * groups * scale**2
        self.offset = nn.Conv2d(c_in, c_out, 1)
        normal_init(self.offset, std=0.001)
        if dyscope:
            self.scope = nn.Conv2d(c_in, c_out, 1)
            constant_init(self.scope, val=0.0)
        self.register_buffer("init_pos", self._init_pos())

    def _init_pos(self):
        r = torch.arange((-self.scale + 1) / 2, (self.scale - 1) / 2 + 1) / self.scale
        yy, xx = torch.meshgrid(r, r, indexing="ij")
        pos = torch.stack([xx.t(), yy.t()])  # 2, s, s
        return pos.repeat(1, self.groups, 1).reshape(1, -1, 1, 1)

    def sample(self, x, offset):
        b, _, h, w = offset.shape
        offset = offset.view(b, 2, -1, h, w)
        ys = torch.arange(h, dtype=x.dtype, device=x.device) + 0.5
        xs = torch.arange(w, dtype=x.dtype, device=x.device) + 0.5
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        base = torch.stack([gx, gy]).view(1, 2, 1, h, w)
        norm = torch.tensor([w, h], dtype=x.dtype, device=x.device).view(1, 2, 1, 1, 1)
        coords = 2 * (base + offset) / norm - 1
        coords = F.pixel_shuffle(coords.reshape(b, -1, h, w), self.scale)
        coords = coords.view(b, 2, -1, self.scale * h, self.scale * w).permute(0, 2, 3, 4, 1).flatten(0, 1)
        out = F.grid_sample(x.reshape(b * self.groups, -1, h, w), coords, mode="bilinear", align_corners=False,
                            padding_mode="border")
        return out.view(b, -1, self.scale * h, self.scale * w)

    def forward(self, x):
        if self.style == "pl":
            y = F.pixel_shuffle(x, self.scale)
            raw = self.offset(y) * self.scope(y).sigmoid() if hasattr(self, "scope") else self.offset(y)
            offset = F.pixel_unshuffle(raw, self.scale) * (0.5 if hasattr(self, "scope") else 0.25) + self.init_pos
        elif hasattr(self, "scope"):
            offset = self.offset(x) * self.scope(x).sigmoid() * 0.5 + self.init_pos
        else:
            offset = self.offset(x) * 0.25 + self.init_pos
        return self.sample(x, offset)


class FGM(nn.Module):
    """Frequency gating: one depthwise branch modulates the spectrum of another; learnable mix with the input."""

    def __init__(self, dim):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim * 2, 3, 1, 1, groups=dim)
        self.dwconv1 = nn.Conv2d(dim, dim, 1, 1, groups=dim)
        self.dwconv2 = nn.Conv2d(dim, dim, 1, 1, groups=dim)
        self.alpha = nn.Parameter(torch.zeros(dim, 1, 1))
        self.beta = nn.Parameter(torch.ones(dim, 1, 1))

    def forward(self, x):
        spec = torch.fft.fft2(self.dwconv2(x).float())
        mixed = torch.fft.ifft2(self.dwconv1(x).float() * spec).abs().to(x.dtype)
        return mixed * self.alpha + x * self.beta


class OmniKernel(nn.Module):
    """Large-kernel strip/square depthwise branches plus frequency- and spatial-channel attention."""

    def __init__(self, dim):
        super().__init__()
        k, pad = 31, 15
        self.in_conv = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.GELU())
        self.out_conv = nn.Conv2d(dim, dim, 1)
        self.dw_13 = nn.Conv2d(dim, dim, (1, k), padding=(0, pad), groups=dim)
        self.dw_31 = nn.Conv2d(dim, dim, (k, 1), padding=(pad, 0), groups=dim)
        self.dw_33 = nn.Conv2d(dim, dim, k, padding=pad, groups=dim)
        self.dw_11 = nn.Conv2d(dim, dim, 1, groups=dim)
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(dim, dim, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fac_conv = nn.Conv2d(dim, dim, 1)
        self.fac_pool = nn.AdaptiveAvgPool2d(1)
        self.fgm = FGM(dim)

    def forward(self, x):
        out = self.in_conv(x)
        att = self.fac_conv(self.fac_pool(out))
        fca = torch.fft.ifft2(att.float() * torch.fft.fft2(out.float())).abs().to(x.dtype)
        sca = self.fgm(self.conv(self.pool(fca)) * fca)
        out = x + self.dw_13(out) + self.dw_31(out) + self.dw_33(out) + self.dw_11(out) + sca
        return self.out_conv(self.act(out))


class CSPOmniKernel(nn.Module):
    """CSP split: OmniKernel on a fraction e of the channels, identity on the rest, 1x1 fuse."""

    def __init__(self, dim, e=0.25):
        super().__init__()
        self.e = e
        self.cv1 = Conv(dim, dim, 1)
        self.cv2 = Conv(dim, dim, 1)
        self.m = OmniKernel(int(dim * self.e))

    def forward(self, x):
        c = x.shape[1]
        ok, rest = torch.split(self.cv1(x), [int(c * self.e), c - int(c * self.e)], dim=1)
        return self.cv2(torch.cat((self.m(ok), rest), 1))
