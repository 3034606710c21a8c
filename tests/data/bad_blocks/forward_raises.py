import torch.nn as nn


class Broken(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1 * 2, c2, 1)

    def forward(self, x):
        return self.conv(x)
