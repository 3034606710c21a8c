"""The training process: run folders, the Ultralytics runner and its events (no Qt)."""
