"""The one boundary with Ultralytics' internals: every assumption about them is written here, once.

- ``model_dict.py``: how ``parse_model`` reads a model dict (scale, repeats, named arguments,
  which modules get channels injected) and which task and model class a head makes;
- ``ultralytics_hook.py``: custom blocks built inside ``parse_model`` (with ``measuring.py``,
  ``block_layouts.py`` and ``block_loader.py``), also shipped in training bundles;
- ``fork_tasks.py``: a fork's own ``tasks.py`` in a block folder, its ``parse_model`` replayed for its blocks;
- ``heads.py``: custom heads recognised by their attributes, and 8.0-8.3 heads adapted to today's protocol;
- ``building.py``: model classes, ``parse_model`` alone, and Ultralytics' class state put back after a build;
- ``inference.py``: Ultralytics' letterbox, NMS and box scaling for the studio's own inference paths;
- ``evaluation.py``: Ultralytics' validation with what its validator saw per image kept;
- ``training.py``: what the training process changes about Ultralytics' trainer;
- ``probe.py``: checks the above against the installed Ultralytics at start-up (``evaluation.py``'s validator
  methods are checked by the tests that validate every task, not yet by the probe).

Public Ultralytics API (``YOLO``, ``model.train``, ``ultralytics.utils.SETTINGS``) is used where it
is needed; only internals live here. Nothing in this package imports the rest of YOLO Studio.
"""

# The files a training bundle ships next to its train.py (they import only each other).
SHIPPED = ("ultralytics_hook.py", "model_dict.py", "measuring.py", "block_layouts.py", "block_loader.py", "heads.py",
           "fork_tasks.py")
