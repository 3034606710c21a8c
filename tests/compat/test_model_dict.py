"""The rules the studio reads a model dict by (compat/model_dict.py), against Ultralytics' own answers."""

import pytest

from yolo_studio.compat import model_dict

SCALES = {"n": [0.50, 0.25, 1024], "s": [0.50, 0.50, 1024], "x": [1.00, 1.50, 512]}


def test_scale_and_multiples_follow_parse_model():
    assert model_dict.chosen_scale({"scales": SCALES}) == "n"  # parse_model takes the first, with a warning
    assert model_dict.multiples({"scales": SCALES, "scale": "x"}) == (1.00, 1.50, 512)
    assert model_dict.multiples({"depth_multiple": 0.33, "width_multiple": 0.5}) == (0.33, 0.5, float("inf"))
    assert model_dict.chosen_scale({"scales": {}}) is None
    assert [model_dict.effective_repeats(n, {"scales": SCALES}) for n in (1, 2, 3, 6)] == [1, 1, 2, 3]


@pytest.mark.parametrize("name", ["yolo11x.yaml", "yolov8s-seg.yaml", "yoloe-11l.yaml", "yolo26n-pose.yaml",
                                  "custom.yaml", "yolo11q.yaml"])
def test_the_scale_a_file_name_names_is_ultralytics_own(name):
    from ultralytics.nn.tasks import guess_model_scale

    d = {"scales": {s: [1, 1, 1024] for s in "nslmx"}}
    assert model_dict.scale_for_file(name, d) == (guess_model_scale(name) or "n")
    assert model_dict.scale_for_file(name, {**d, "scale": "m"}) == "m"  # a scale in the dict wins


def test_named_arguments_resolve_to_the_dicts_values():
    d = {"nc": 7, "scales": SCALES, "scale": "s", "kpt_shape": [17, 3]}
    assert model_dict.resolve_args(["nc", "width", "kpt_shape", "None", "nn.ReLU()", "(2, 2)"], d) == \
        [7, 0.50, [17, 3], None, "nn.ReLU()", (2, 2)]


def test_heads_make_ultralytics_model_classes_without_importing_torch():
    import subprocess
    import sys

    code = ("import sys; from yolo_studio.compat import model_dict as m; "
            "d = lambda h: {'head': [[-1, 1, h, []]]}; "
            "print(m.model_class(d('Pose')), m.model_class(d('RTDETRDecoder')), m.guess_task(d('Classify')), "
            "m.guess_task({}), 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["PoseModel", "RTDETRDetectionModel", "classify", "detect", "False"], done.stderr
