"""space_to_depth (SPD-Conv's parameter-free half), following yjhhaha/YOLO-CSS's space_to_depth.py."""

import torch
import torch.nn as nn


class space_to_depth(nn.Module):
    """Moves each 2x2 spatial block into channels: (B, C, H, W) -> (B, 4C, H/2, W/2). ``dimension`` is unused."""

    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension

    def forward(self, x):
        return torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1)
