import torch.nn as nn


class Widen(nn.Module):
    """Declares c1 (keeps channels) but doubles them."""

    channel_rule = "c1"

    def __init__(self, c1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c1 * 2, 1)

    def forward(self, x):
        return self.conv(x)
