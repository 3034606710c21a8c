"""Follows nkb-tech/ultralytics: ultralytics/nn/modules/head.py (class v11Detect).

Written anew for this corpus. The fork (Ultralytics 8.3.6) adds v11Detect next to Detect: a subclass of Detect,
built with ``super().__init__(nc, ch)``, that rebuilds only the class branch (depthwise 3x3 + pointwise 1x1,
twice) and inherits everything else (forward, bias_init, decoding) from Detect.
"""

import torch.nn as nn

from ultralytics.nn.modules import Detect
from ultralytics.nn.modules.conv import Conv, DWConv


class v11Detect(Detect):
    """Detect with a lighter, depthwise-separable class branch."""

    def __init__(self, nc=80, ch=()):
        super().__init__(nc, ch)
        c3 = max(ch[0], min(self.nc, 100))
        self.cv3 = nn.ModuleList(
            nn.Sequential(
                nn.Sequential(DWConv(c, c, 3), Conv(c, c3, 1)),
                nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                nn.Conv2d(c3, self.nc, 1),
            )
            for c in ch
        )
