"""Matching kept predictions to ground truth at any threshold, without the model (core.evaluation)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yolo_studio.compat.evaluation import Kept
from yolo_studio.core.evaluation import matching
from yolo_studio.core.evaluation.store import SUSPECTS_HEADER, Evaluation, is_evaluation, write_suspects

NAMES = {0: "square", 1: "circle"}


def _evaluation(truth, predictions, images=3):
    kept = Kept("detect", [f"/data/img{i}.png" for i in range(images)], [(100, 100)] * images, truth, predictions)
    return Evaluation.from_kept(kept, NAMES, {"metrics/mAP50-95(B)": 0.5}, {"model": "m.pt"})


def _scene():
    truth = [(0, 0, 10, 10, 40, 40), (0, 1, 60, 60, 90, 90), (1, 0, 10, 10, 40, 40), (2, 1, 50, 50, 70, 70)]
    predictions = [(0, 0, 0.9, 11, 11, 40, 40),  # a hit
                   (0, 0, 0.6, 60, 60, 90, 90),  # a circle taken for a square
                   (0, 0, 0.3, 12, 10, 41, 40),  # a duplicate of the hit: a false positive
                   (1, 1, 0.8, 70, 5, 95, 30),  # nothing there
                   (2, 1, 0.05, 50, 50, 70, 70)]  # the circle, barely
    return _evaluation(truth, predictions)


def test_per_class_figures_and_the_confusion_matrix_follow_the_confidence():
    matcher = matching.Matcher(_scene())
    high = matcher.summary(0.5, 0.5)
    assert high["per_class"][0] | {} == {**high["per_class"][0], "tp": 1, "fp": 1, "fn": 1, "instances": 2}
    assert high["per_class"][1]["tp"] == 0 and high["per_class"][1]["fp"] == 1 and high["per_class"][1]["fn"] == 2
    # rows: predicted square, circle, background; columns: true square, circle, background
    assert high["confusion"].tolist() == [[1, 1, 0], [0, 0, 1], [1, 1, 0]]
    low = matcher.summary(0.01, 0.5)
    assert low["per_class"][1]["tp"] == 1 and low["per_class"][0]["fp"] == 2
    assert low["confusion"][1, 1] == 1 and low["confusion"][2, 1] == 0 and low["confusion"][2, 0] == 1


def test_a_cell_lists_exactly_its_errors():
    matcher = matching.Matcher(_scene())
    assert matcher.cell(0.5, 0.5, 0, 1) == [(0, 1, 1)]  # image 0: prediction 1 (square) on truth 1 (circle)
    assert matcher.cell(0.5, 0.5, 1, 2) == [(1, 3, -1)]  # a circle where there is nothing
    assert sorted(matcher.cell(0.5, 0.5, 2, 0)) == [(1, -1, 2)]  # the square of image 1, missed


def test_images_are_ranked_by_how_wrong_they_are_and_f1_picks_a_confidence():
    matcher = matching.Matcher(_scene())
    ranked = matcher.ranked_images(0.5, 0.5)
    assert [r[0] for r in ranked] == [0, 1, 2] and ranked[0][1:3] == (1, 1)
    assert [r[0] for r in matcher.ranked_images(0.5, 0.5, cls=1)] == [0, 1, 2]
    conf, f1 = matcher.f1_optimal(0.5)[0]
    assert conf == 0.9 and round(f1, 3) == round(2 / 3, 3)  # one of two squares, nothing false at 0.9


def test_suspected_label_errors_of_each_kind():
    truth = [(0, 0, 10, 10, 40, 40), (1, 1, 10, 10, 40, 40), (2, 0, 70, 70, 90, 90)]
    predictions = [(0, 0, 0.95, 10, 10, 40, 40), (0, 1, 0.9, 60, 60, 90, 90),  # a circle nobody labelled
                   (1, 0, 0.85, 10, 10, 40, 40),  # a square labelled circle
                   (2, 0, 0.02, 70, 70, 90, 90)]  # a label the model barely sees
    found = matching.suspects(matching.Matcher(_evaluation(truth, predictions)))
    assert [(s.image, s.kind, s.cls) for s in found] == [(0, "missing_label", 1), (1, "wrong_class", 0),
                                                           (2, "unmatched_label", 0)]
    assert found[2].confidence == 0.02  # the most the model says there


def test_an_evaluation_is_written_and_read_back(tmp_path):
    evaluation = _scene()
    evaluation.save(tmp_path / "e")
    assert is_evaluation(tmp_path / "e")
    again = Evaluation.load(tmp_path / "e")
    assert again.images == evaluation.images and np.array_equal(again.predictions, evaluation.predictions)
    assert again.names == NAMES and again.metrics == evaluation.metrics
    csv = write_suspects(again, matching.suspects(matching.Matcher(again)), tmp_path / "e" / "s.csv")
    assert csv.read_text().splitlines()[0] == SUSPECTS_HEADER


def _greedy(evaluation, conf, iou):
    """The matching at ``conf``, computed from scratch: predictions below it never existed."""
    tp = 0
    for image in range(len(evaluation.images)):
        truth = evaluation.truth[evaluation.truth[:, 0] == image]
        preds = evaluation.predictions[(evaluation.predictions[:, 0] == image) & (evaluation.predictions[:, 2] >= conf)]
        taken = set()
        for p in preds[np.argsort(-preds[:, 2], kind="stable")]:
            ious = matching.iou_matrix(p[None, 3:], truth[:, 2:])[0] if len(truth) else np.zeros(0)
            options = [(v, k) for k, v in enumerate(ious) if v >= iou and k not in taken and truth[k, 1] == p[1]]
            if options:
                taken.add(max(options)[1])
                tp += 1
    return tp


boxes = st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(0, 60), st.integers(0, 60), st.integers(5, 40),
                  st.integers(5, 40))


@settings(max_examples=40, deadline=None)
@given(st.lists(boxes, max_size=12), st.lists(st.tuples(boxes, st.floats(0.01, 1.0)), max_size=20),
       st.sampled_from([0.05, 0.3, 0.6]))
def test_one_matching_per_iou_serves_every_confidence(truth, predictions, conf):
    truth = sorted((i, c, x, y, x + w, y + h) for i, c, x, y, w, h in truth)
    predictions = [(i, c, p, x, y, x + w, y + h) for (i, c, x, y, w, h), p in predictions]
    evaluation = _evaluation(truth, predictions, images=4)
    summary = matching.Matcher(evaluation).summary(conf, 0.5)
    assert sum(row["tp"] for row in summary["per_class"].values()) == _greedy(evaluation, conf, 0.5)


def test_two_evaluations_of_the_same_images_compare_image_by_image():
    from yolo_studio.core.evaluation.compare import compare

    before = _scene()
    truth = [(0, 0, 10, 10, 40, 40), (0, 1, 60, 60, 90, 90), (1, 0, 10, 10, 40, 40), (2, 1, 50, 50, 70, 70)]
    after = _evaluation(truth, [(0, 0, 0.9, 11, 11, 40, 40), (0, 1, 0.7, 60, 60, 90, 90),  # image 0 fixed
                                (1, 1, 0.8, 70, 5, 95, 30),  # image 1 as before
                                (2, 0, 0.9, 10, 10, 30, 30)])  # image 2 worse: a false square, the circle still missed
    result = compare(before, after, conf=0.25, iou=0.5)
    assert [(r[0], r[2], r[3]) for r in result.better] == [(0, 3, 0)]  # a miss and two false squares, fixed
    assert [(r[0], r[2], r[3]) for r in result.worse] == [(2, 1, 2)]
    assert result.same == 1
    circle = next(row for row in result.per_class if row[0] == 1)
    assert circle[1]["recall"] == 0.0 and circle[2]["recall"] == 0.5
    other = _evaluation(truth, [], images=2)
    import pytest

    with pytest.raises(ValueError, match="not of the same images"):
        compare(before, other)


def test_a_classification_evaluation_gives_accuracies_and_confused_pairs():
    from yolo_studio.core.evaluation.classify import figures, images_of

    kept = Kept("classify", [f"/c/{i}.png" for i in range(5)], [(0, 0)] * 5, [], [],
                [(0, 0, [0, 1], [0.9, 0.1]), (1, 0, [1, 0], [0.6, 0.4]), (2, 1, [1, 0], [0.8, 0.2]),
                 (3, 1, [0, 1], [0.7, 0.3]), (4, 0, [1, 0], [0.9, 0.1])])
    evaluation = Evaluation.from_kept(kept, NAMES, {}, {})
    result = figures(evaluation)
    assert result["top1"] == 0.4 and result["top5"] == 1.0
    assert result["per_class"] == {0: (3, 1 / 3), 1: (2, 0.5)}
    assert result["confused"] == [(0, 1, 2), (1, 0, 1)]
    assert images_of(evaluation, 0, 1) == [(4, 0.9), (1, 0.6)]
