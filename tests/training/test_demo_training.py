"""The demo project trains: its "CPU quick" preset, run as the user runs it, learns the shapes (a real training);
then it is evaluated as a user evaluates it (``yolo-studio val``), and the suspected label errors of a copy of its
validation split with planted label errors are found.

A test of training quality must hold on any CPU: different CPUs take different kernels, so the curve of one
machine is not a promise. What the preset promises is a useful detector after its 15 epochs (mAP50 about 0.9 on
the machines measured, 0.91 on the one where a 7-epoch cut reached only 0.09); the test asks for far less than
that at the end, and for the losses to fall, which every machine showed by a wide margin.
"""

import json
import shutil

import numpy as np
import pytest

from helpers import run_cli
from yolo_studio.training.demo_project import CPU_QUICK, DATA, MODEL, PRESET, create_demo
from yolo_studio.training.events import epoch_history, read_events

ROBUST_MAP50 = 0.5  # the preset reaches about 0.9; half of that is a model that learned, on any CPU


@pytest.fixture(scope="module")
def trained_demo(tmp_path_factory):
    """The demo project after its preset's training (one training for this file's tests)."""
    project = create_demo(tmp_path_factory.mktemp("demo") / "demo")
    done = run_cli("train", "--project", project.root, "--model", project.resolve(MODEL), "--data",
                   project.resolve(DATA), "--preset", PRESET, "--name", "preset", "workers=0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return project


def test_the_demo_preset_trains_a_useful_detector(trained_demo):
    project = trained_demo
    history = epoch_history(read_events(project.runs_dir / "preset" / "events.jsonl"))
    maps = [e["metrics"]["metrics/mAP50(B)"] for e in history]
    losses = [e["metrics"]["train/box_loss"] for e in history]
    assert len(maps) == CPU_QUICK["epochs"]
    assert max(maps) >= ROBUST_MAP50, maps
    assert min(losses[-3:]) < losses[0], losses


def test_val_gives_ultralytics_own_figures_and_keeps_every_prediction(trained_demo):
    from ultralytics import YOLO

    from yolo_studio.core.evaluation.store import SUSPECTS_HEADER, Evaluation

    project = trained_demo
    done = run_cli("val", "--model", project.runs_dir / "preset", "--project", project.root, "--name", "first", "--json",
                   "--referee")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    plain = YOLO(str(project.runs_dir / "preset" / "weights" / "best.pt")).val(
        data=str(project.resolve(DATA)), plots=False, verbose=False, project=str(project.root / "plain"))
    for key, value in plain.results_dict.items():
        assert abs(result[key] - value) <= 1e-4, key
    assert abs(result["referee"]["mAP50-95"] - result["metrics/mAP50-95(B)"]) < 0.02  # COCO's interpolation
    evaluation = Evaluation.load(result["folder"])
    assert len(evaluation.images) == 64 and len(evaluation.predictions) > 10 * len(evaluation.truth)
    assert evaluation.predictions[:, 2].min() < 0.01  # kept at Ultralytics' validation confidence
    assert (evaluation.folder / "label_suspects.csv").read_text().splitlines()[0] == SUSPECTS_HEADER


def test_planted_label_errors_are_suspected(trained_demo, tmp_path):
    """A copy of the validation split with three label errors, each planted where this machine's model is sure:
    a label it finds with confidence removed, the class of another changed, and a box added where it sees
    nothing. All three are listed, each as its kind."""
    from yolo_studio.core.evaluation import matching
    from yolo_studio.core.evaluation.store import Evaluation
    from yolo_studio.deploy.evaluate import evaluate

    project = trained_demo
    clean = Evaluation.load(next((project.runs_dir / "preset" / "evaluations").iterdir()))
    matcher = matching.Matcher(clean)
    m = matcher.matching(0.5)
    def alone(t):  # no other label of its image near it: a removed one leaves nothing the model could match
        t0, t1 = matcher.truth_ranges[int(matcher.truth_image[t])]
        others = [k for k in range(t0, t1) if k != t]
        return not others or matching.iou_matrix(matcher.truth_box[t:t + 1], matcher.truth_box[others]).max() < 0.05

    sure = sorted(((matcher.conf[p], t) for t, p in enumerate(m.truth_same) if p >= 0 and alone(t)), reverse=True)
    images = {}
    for conf, t in sure:  # the two most surely found labels that stand alone, on two images
        images.setdefault(int(matcher.truth_image[t]), t)
        if len(images) == 2:
            break
    (removed_image, removed), (changed_image, changed) = images.items()

    def corner(i):  # the top-left 4 % of image i, in pixels
        h, w = clean.sizes[i]
        return np.array([[0.005 * w, 0.005 * h, 0.045 * w, 0.045 * h]])

    def quiet(i):  # nothing labelled or seen (at 0.1) near the corner of image i
        near = lambda boxes: len(boxes) and matching.iou_matrix(corner(i), boxes).max() > 0  # noqa: E731
        seen = (matcher.pred_image == i) & (matcher.conf >= 0.1)
        return not near(matcher.truth_box[matcher.truth_image == i]) and not near(matcher.pred_box[seen])

    empty_image = next(i for i in range(len(clean.images)) if i not in images and quiet(i))
    data = tmp_path / "shapes"
    shutil.copytree(project.resolve(DATA).parent, data)
    for cache in data.rglob("*.cache"):
        cache.unlink()

    def label_file(image):
        return data / "labels" / "val" / (clean.images[image].rsplit("/", 1)[-1].rsplit(".", 1)[0] + ".txt")

    def line_of(t):  # the label line of truth t: the same order as Ultralytics read it
        return t - int(matcher.truth_ranges[int(matcher.truth_image[t])][0])

    lines = label_file(removed_image).read_text().splitlines()
    del lines[line_of(removed)]
    label_file(removed_image).write_text("\n".join(lines) + "\n")
    lines = label_file(changed_image).read_text().splitlines()
    old = int(lines[line_of(changed)].split()[0])
    new = (old + 1) % len(clean.names)
    lines[line_of(changed)] = " ".join([str(new), *lines[line_of(changed)].split()[1:]])
    label_file(changed_image).write_text("\n".join(lines) + "\n")
    with open(label_file(empty_image), "a") as handle:  # a box where the model sees nothing: 4 % of a corner
        handle.write(f"{old} 0.025 0.025 0.04 0.04\n")

    planted = evaluate(project.runs_dir / "preset", data / "data.yaml", project, "planted")
    found = {(s.image, s.kind) for s in matching.suspects(matching.Matcher(planted))}
    assert (removed_image, "missing_label") in found
    assert (changed_image, "wrong_class") in found
    assert (empty_image, "unmatched_label") in found
    csv = (planted.folder / "label_suspects.csv").read_text()
    assert clean.images[removed_image].rsplit("/", 1)[-1] in csv
