"""Bad input, hardened: mutated model YAMLs and label files either work or give a clear error;
never an unhandled exception, a hang, or a changed input file. Example counts are bounded so the
suite stays fast; every failing example hypothesis finds is a bug to fix, not to filter."""

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolo_studio.core.dataset_validate import validate as validate_dataset
from yolo_studio.core.document import ModelDocument
from yolo_studio.core.errors import StudioError
from yolo_studio.core.inspection import inspect_dict
from yolo_studio.core.validation import validate

DEMO = (Path(__file__).resolve().parents[2] / "resources" / "models" / "yolo11n-demo.yaml").read_text()
NOISE = st.text(alphabet=st.sampled_from(list("[]{},:-#'\"\n\t 0123456789abcnCovDetct._")), max_size=20)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated_yaml(draw, text=DEMO):
    """The demo model with a few random edits: delete, insert, replace or duplicate a line."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "splice"]))
        if action == "delete":
            del lines[i]
        elif action == "insert":
            lines.insert(i, draw(NOISE))
        elif action == "replace":
            lines[i] = draw(NOISE)
        elif action == "duplicate":
            lines.insert(i, lines[i])
        else:  # change some characters inside a line
            j = draw(st.integers(0, max(len(lines[i]) - 1, 0)))
            lines[i] = lines[i][:j] + draw(NOISE) + lines[i][j + 2:]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@FUZZ
@given(text=mutated_yaml())
def test_mutated_model_yaml_loads_and_checks_or_says_why(tmp_path, text):
    path = tmp_path / "model.yaml"
    path.write_text(text)
    before = _digest(path)
    try:
        doc = ModelDocument.load(path)
    except StudioError as exc:
        assert str(exc).strip()  # a message a user can read
    else:
        problems = validate(doc)
        assert all(p.message for p in problems)
    assert _digest(path) == before  # reading never writes


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_yaml())
def test_mutated_models_that_pass_validation_build_or_report_the_layer(text):
    try:
        doc = ModelDocument.from_text(text, "fuzz.yaml")
    except StudioError:
        return
    if any(p.severity == "error" for p in validate(doc)):
        return
    try:
        report = inspect_dict(doc.to_dict(), imgsz=64)
    except StudioError as exc:
        assert str(exc).strip()
    else:
        assert report.layers


LABEL_NOISE = st.text(alphabet=st.sampled_from(list("0123456789.- \neE+naif")), max_size=40)


@FUZZ
@given(lines=st.lists(LABEL_NOISE, min_size=1, max_size=4))
def test_mutated_label_files_are_reported_never_crash_and_stay_unchanged(tmp_path_factory, lines):
    from yolo_studio.core.demo_dataset import generate

    root = tmp_path_factory.mktemp("fuzz-data")
    data = generate(root / "d", train=2, val=1, imgsz=32)
    label = root / "d" / "labels" / "train" / "train_0000.txt"
    label.write_text("\n".join(lines))
    before = _digest(label)
    report = validate_dataset(data)
    for finding in report.findings:
        assert finding.message and finding.kind
        if finding.file == str(label) and finding.line:
            assert 1 <= finding.line <= len(label.read_text().splitlines())
    assert _digest(label) == before
