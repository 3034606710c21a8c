"""SPPF with Large Separable Kernel Attention, following yjhhaha/YOLO-CSS's block.py (LSKA, SPPF_LSKA).

LSKA is a helper: k_size has no default and only 7/11/23/35/41/53 build the depthwise convs; any other
size builds a module that fails at forward.
"""

import torch
import torch.nn as nn

from ultralytics.nn.modules.conv import Conv

# k_size -> (first kernel, dilated kernel, dilation)
_LSKA_KERNELS = {7: (3, 3, 2), 11: (3, 5, 2), 23: (5, 7, 3), 35: (5, 11, 3), 41: (5, 13, 3), 53: (5, 17, 3)}


class LSKA(nn.Module):
    """Separable (1xk then kx1) depthwise convs, dilated separable convs, 1x1 conv; output gates the input."""

    def __init__(self, dim, k_size):
        super().__init__()
        self.k_size = k_size
        if k_size in _LSKA_KERNELS:
            k0, k1, d = _LSKA_KERNELS[k_size]
            p1 = (k1 // 2) * d
            self.conv0h = nn.Conv2d(dim, dim, kernel_size=(1, k0), stride=(1, 1), padding=(0, k0 // 2), groups=dim)
            self.conv0v = nn.Conv2d(dim, dim, kernel_size=(k0, 1), stride=(1, 1), padding=(k0 // 2, 0), groups=dim)
            self.conv_spatial_h = nn.Conv2d(dim, dim, (1, k1), stride=(1, 1), padding=(0, p1), groups=dim, dilation=d)
            self.conv_spatial_v = nn.Conv2d(dim, dim, (k1, 1), stride=(1, 1), padding=(p1, 0), groups=dim, dilation=d)
        self.conv1 = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        attn = self.conv_spatial_v(self.conv_spatial_h(self.conv0v(self.conv0h(x))))
        return x.clone() * self.conv1(attn)


class SPPF_LSKA(nn.Module):
    """SPPF whose concatenated pyramid passes through LSKA(k_size=11) before the output conv."""

    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_ * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)
        self.lska = LSKA(c_ * 4, k_size=11)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(self.lska(torch.cat((x, y1, y2, self.m(y2)), 1)))
