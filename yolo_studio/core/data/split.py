"""Splitting a dataset that has no split: train / val / test by ratio, with a seed, by class, by source group.

- **Reproducible**: the same images, ratios and seed give the same split (no dependence on file order).
- **Stratified**: groups holding the rarest classes are placed first, each where its classes are most
  wanted; every class with enough groups reaches each split with a ratio above zero.
- **Groups stay together**: images of one source (a video's frames ``clip3_0001.jpg``, ``clip3_0002.jpg``;
  Roboflow's augmented copies ``name_jpg.rf.<hash>.jpg``) go to one split, so that val does not hold
  near-copies of train images.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from pathlib import PurePosixPath

ROBOFLOW_COPY = re.compile(r"_(jpe?g|png|bmp|webp)\.rf\.[0-9a-f]{16,}$", re.IGNORECASE)
TRAILING_NUMBER = re.compile(r"[-_. ]*\d+$")
SPLITS = ("train", "val", "test")


def stem_group(name: str) -> str:
    """The source an image name suggests: its folder and its stem without Roboflow's copy suffix and without
    a trailing frame number (``clips/clip3_000123.jpg`` -> ``clips/clip3``)."""
    path = PurePosixPath(name.replace("\\", "/"))
    stem = ROBOFLOW_COPY.sub("", path.stem)
    return f"{path.parent}/{TRAILING_NUMBER.sub('', stem) or stem}"


def groups_for(names: list) -> list:
    """A group per image: by :func:`stem_group` when that finds real groups (at least four, none holding
    half the images: a few videos' frames), else each image alone (one camera's IMG_0001 ... IMG_9999
    are not one source)."""
    guessed = [stem_group(n) for n in names]
    sizes = Counter(guessed)
    if 4 <= len(sizes) < len(names) and max(sizes.values()) < len(names) / 2:
        return guessed
    return list(names)


def assign(names: list, classes: list, ratios: dict, seed: int = 0) -> list:
    """The split of each image. ``classes[i]``: the class names of image ``i``'s objects (a set or list);
    ``ratios``: {"train": 0.8, "val": 0.2, "test": 0.0}."""
    wanted = [s for s in SPLITS if ratios.get(s, 0) > 0]
    total_ratio = sum(ratios[s] for s in wanted)
    share = {s: ratios[s] / total_ratio for s in wanted}
    groups = defaultdict(list)
    for i, g in enumerate(groups_for(names)):
        groups[g].append(i)
    group_classes = {g: Counter(c for i in members for c in classes[i]) for g, members in groups.items()}
    class_total = Counter()
    class_groups = Counter()
    for counts in group_classes.values():
        class_total.update(counts)
        class_groups.update(counts.keys())
    n_images = len(names)
    target_images = {s: share[s] * n_images for s in wanted}
    target = {c: {s: share[s] * class_total[c] for s in wanted} for c in class_total}
    for c in class_total:  # a class in enough groups reaches every split, however rare
        if class_groups[c] >= len(wanted):
            for s in wanted:
                target[c][s] = max(target[c][s], 1.0)

    def key(g):
        rarest = min((class_total[c] for c in group_classes[g]), default=n_images + 1)
        return rarest, hashlib.sha256(f"{seed}:{g}".encode()).hexdigest()

    have_images = Counter()
    have = defaultdict(Counter)
    result = [""] * n_images
    for g in sorted(groups, key=key):
        members, counts = groups[g], group_classes[g]

        def score(s):  # how much split s still lacks of this group's classes and of images, relative to its aim
            need = sum((target[c][s] - have[c][s]) / target[c][s] for c in counts if target[c][s] > 0)
            room = (target_images[s] - have_images[s]) / max(target_images[s], 1e-9)
            return (need / len(counts) if counts else 0.0) + room, share[s]
        best = max(wanted, key=score)
        for i in members:
            result[i] = best
        have_images[best] += len(members)
        for c, n in counts.items():
            have[c][best] += n
    return result
