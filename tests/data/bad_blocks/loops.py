import torch.nn as nn


class Forever(nn.Module):
    def __init__(self, c1):
        super().__init__()
        while True:
            pass
