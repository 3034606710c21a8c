"""CARAFE content-aware upsampler, following zgqtql666/DETR-SCI-Banana's CARAFE.py."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class CARAFE(nn.Module):
    """Predicts a reassembly kernel per output pixel, upsamples by ``up_factor`` and projects c1 -> c2."""

    def __init__(self, c1, c2, kernel_size=3, up_factor=2):
        super().__init__()
        self.kernel_size = kernel_size
        self.up_factor = up_factor
        self.down = nn.Conv2d(c1, c1 // 4, 1)
        self.encoder = nn.Conv2d(c1 // 4, up_factor**2 * kernel_size**2, kernel_size, 1, kernel_size // 2)
        self.out = nn.Conv2d(c1, c2, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        k, s = self.kernel_size, self.up_factor
        kernels = F.pixel_shuffle(self.encoder(self.down(x)), s)  # (n, k*k, s*h, s*w)
        kernels = F.softmax(kernels, dim=1)
        kernels = kernels.unfold(2, s, s).unfold(3, s, s).reshape(n, k * k, h, w, s * s).permute(0, 2, 3, 1, 4)
        patches = F.unfold(x, k, padding=k // 2).view(n, c, k * k, h, w).permute(0, 3, 4, 1, 2)  # (n,h,w,c,k*k)
        out = (patches @ kernels).reshape(n, h, w, -1).permute(0, 3, 1, 2)
        return self.out(F.pixel_shuffle(out, s))
