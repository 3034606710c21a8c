"""Evaluations: what a model gets wrong, image by image, from the predictions its validation kept.

- ``store``: an evaluation folder (Ultralytics' metrics, the kept predictions and ground truth) written and read;
- ``matching``: predictions matched to ground truth at any confidence and IoU threshold, without the model:
  per-class figures, the confusion matrix and its cells' errors, images ranked by how wrong they are, and
  suspected label errors;
- ``compare``: two evaluations of the same images, image by image.

Pure Python and numpy: no torch, no Qt.
"""
