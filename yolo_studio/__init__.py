"""YOLO Studio: design, train and test Ultralytics YOLO models on your own workstation, offline.

Importing the package applies the offline environment (see ``core.offline``) before anything
imports Ultralytics, so no code path of the studio can reach the network.
"""

from yolo_studio.core.offline import apply_offline_environment

__version__ = "0.1.0"

apply_offline_environment()
