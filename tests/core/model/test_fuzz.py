"""Bad input, hardened: mutated model YAMLs and label files either work or give a clear error;
never an unhandled exception, a hang, or a changed input file. Example counts are bounded so the
suite stays fast; every failing example hypothesis finds is a bug to fix, not to filter."""

import contextlib
import hashlib
import signal
from pathlib import Path

import yaml

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolo_studio.core.data.dataset_validate import validate as validate_dataset
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import StudioError
from yolo_studio.core.model.inspection import inspect_dict
from yolo_studio.core.model.validation import validate

DEMO = (Path(__file__).resolve().parents[3] / "resources" / "models" / "yolo11n-demo.yaml").read_text()
NOISE = st.text(alphabet=st.sampled_from(list("[]{},:-#'\"\n\t 0123456789abcnCovDetct._&*!|>") +
                                         ["\x00", "\x07", "\x1b", "\x85", "\u2028", "\ufeff", "\udcff"]),
                max_size=20)  # with control characters, YAML's own line breaks and a lone surrogate
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


@contextlib.contextmanager
def no_hang(seconds: float = 20.0):
    """Fail, instead of waiting forever, when one example runs longer than ``seconds``."""
    def stop(_signum, _frame):
        raise TimeoutError(f"one example ran longer than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=True),
                    st.text(max_size=8), st.sampled_from(["Conv", "C3k2", "Detect", "nc", "Concat", "-1"]))
RANDOM_TREE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) |
                           st.dictionaries(st.sampled_from(["nc", "scales", "backbone", "head", "kpt_shape",
                                                            "depth_multiple", "x"]), inner, max_size=5),
                           max_leaves=30)


@FUZZ
@given(text=mutated_yaml())
def test_mutated_model_yaml_loads_and_checks_or_says_why(tmp_path, text):
    path = tmp_path / "model.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate makes the file invalid UTF-8
    _load_and_check(path)


@FUZZ
@given(tree=RANDOM_TREE)
def test_random_yaml_documents_load_and_check_or_say_why(tmp_path, tree):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True))
    _load_and_check(path)


def _load_and_check(path: Path) -> None:
    before = _digest(path)
    with no_hang():
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
        with no_hang(60):
            report = inspect_dict(doc.to_dict(), imgsz=64)
    except StudioError as exc:
        assert str(exc).strip()
    else:
        assert report.layers


LABEL_NOISE = st.text(alphabet=st.sampled_from(list("0123456789.- \neE+naif")), max_size=40)


@FUZZ
@given(lines=st.lists(LABEL_NOISE, min_size=1, max_size=4))
def test_mutated_label_files_are_reported_never_crash_and_stay_unchanged(tmp_path_factory, lines):
    from yolo_studio.core.data.demo_dataset import generate

    root = tmp_path_factory.mktemp("fuzz-data")
    data = generate(root / "d", train=2, val=1, imgsz=32)
    label = root / "d" / "labels" / "train" / "train_0000.txt"
    label.write_text("\n".join(lines))
    before = _digest(label)
    with no_hang():
        report = validate_dataset(data)
    for finding in report.findings:
        assert finding.message and finding.kind
        if finding.file == str(label) and finding.line:
            assert 1 <= finding.line <= len(label.read_text().splitlines())
    assert _digest(label) == before
