import torch.nn as nn


class Broken(nn.Module):
    def __init__(self, c1):
        super().__init__()
        raise ValueError("c1 must be even")
