"""COCO run-length masks decode as pycocotools (the reference implementation) decodes them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yolo_studio.core.data.exports.images import ImageFinder, rle_box, rle_counts, rle_polygon

mask_api = pytest.importorskip("pycocotools.mask")


def _decode(rle: dict) -> np.ndarray:
    height, width = rle["size"]
    flat = np.zeros(height * width, dtype=np.uint8)
    position, value = 0, 0
    for run in rle_counts(rle):
        flat[position:position + run] = value
        position, value = position + run, 1 - value
    return flat.reshape((width, height)).T


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_compressed_and_plain_counts_decode_like_pycocotools(height, width, seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((height, width)) < rng.random()).astype(np.uint8)
    encoded = mask_api.encode(np.asfortranarray(mask))
    compressed = {"size": encoded["size"], "counts": encoded["counts"].decode()}
    assert np.array_equal(_decode(compressed), mask_api.decode(encoded))
    plain = {"size": [height, width], "counts": rle_counts(compressed)}  # the uncompressed form of the same mask
    assert np.array_equal(_decode(plain), mask)
    box = rle_box(compressed)
    if mask.any():
        x, y, w, h = mask_api.toBbox(encoded)
        assert box == (x, y, x + w, y + h)
    else:
        assert box is None


def test_a_mask_outline_covers_the_mask():
    mask = np.zeros((30, 40), dtype=np.uint8)
    mask[5:20, 10:30] = 1
    encoded = mask_api.encode(np.asfortranarray(mask))
    outline = rle_polygon({"size": encoded["size"], "counts": encoded["counts"].decode()})
    xs, ys = outline[0::2], outline[1::2]
    assert (min(xs), min(ys), max(xs), max(ys)) == (10, 5, 29, 19)


def test_images_are_found_by_path_by_name_and_without_label_studios_upload_prefix(tmp_path):
    (tmp_path / "images" / "sub").mkdir(parents=True)
    for name in ("a.jpg", "sub/B.png", "sub/dog.jpg"):
        (tmp_path / "images" / name).write_bytes(b"x")
    finder = ImageFinder(tmp_path)
    assert finder.find("a.jpg", tmp_path / "images") == tmp_path / "images" / "a.jpg"
    assert finder.find("C:\\Users\\someone\\Pictures\\b.png") == tmp_path / "images" / "sub" / "B.png"
    assert finder.find("/data/upload/3/0f3a9c1e-dog.jpg") == tmp_path / "images" / "sub" / "dog.jpg"
    assert finder.find("missing.jpg") is None
