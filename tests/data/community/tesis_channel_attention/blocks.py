"""Ultralytics' own attention blocks, as iswantosan/tesis imports them into tasks.py.

Nothing is defined here: CBAM, ChannelAttention and SpatialAttention come from the installed Ultralytics
package (parse_model does not know them). The repository adds branches that rebuild their arguments.
"""

from ultralytics.nn.modules import CBAM, ChannelAttention, SpatialAttention

__all__ = ("CBAM", "ChannelAttention", "SpatialAttention")
