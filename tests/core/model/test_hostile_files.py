"""Hostile files at every entry point: control characters, NUL, invalid UTF-8, binary data, deep nesting,
alias bombs and huge files, given as model YAMLs, block files, data YAMLs and label files.

Each entry point (check, inspect, fmt, modules check, dataset check) must answer every file with its
own message naming the file, never a traceback, and must go on to check the files after it. The
window's Open is covered in tests/ui/test_main_window.py with the same files."""

import os
import subprocess
import sys

import pytest

from helpers import DEMO_MODEL_TEXT as DEMO
from helpers import hostile_texts
from yolo_studio.cli import main


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for name, data in hostile_texts().items():
        (folder / f"{name}.yaml").write_bytes(data)
        files[name] = folder / f"{name}.yaml"
    (folder / "last_ok.yaml").write_text(DEMO)
    return files


def run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("command", ["check", "inspect", "fmt"])
def test_model_commands_answer_each_hostile_file_and_go_on(hostile, capsys, tmp_path, command):
    files = [str(p) for p in hostile.values()]
    last_ok = str(next(iter(hostile.values())).parent / "last_ok.yaml")
    if command == "check":
        code, text = run(capsys, ["check", *files, last_ok])
        assert code == 1 and f"{last_ok}: OK" in text, text[-2000:]  # the files after a bad one are checked
        outputs = {name: text for name in hostile}
    else:  # one file per call
        outputs = {}
        for name, path in hostile.items():
            argv = ["fmt", str(path), "-o", str(tmp_path / "out.yaml")] if command == "fmt" else \
                ["inspect", str(path), "--imgsz", "64"]
            code, outputs[name] = run(capsys, argv)
            assert code != 0 or name == "huge", (name, outputs[name][-1000:])
    for name, path in hostile.items():
        text = outputs[name]
        assert "Traceback" not in text, (name, text[-1000:])
        assert str(path) in text or (name == "huge" and command == "fmt"), (name, text[-1000:])  # huge is valid
    check_text = outputs["nul"]
    for name, fragment in (("nul", "nul.yaml:5"), ("nul", "the file holds a control character (U+0000)"),
                           ("control", "control character (U+0007)"),
                           ("invalid_utf8", "not UTF-8 text"), ("binary", "binary file"),
                           ("deep_brackets", "nested too deeply"), ("deep_mappings", "nested too deeply")):
        assert fragment in (check_text if command == "check" else outputs[name]), (command, name)


def test_hostile_block_files_are_refused_one_by_one_with_their_line(hostile, capsys, tmp_path):
    folder = tmp_path / "blocks"
    folder.mkdir()
    sources = {"nul": b"import torch.nn as nn\nclass A(nn.Module):\n    def forward(self, x):\n        return x\0\n",
               "invalid_utf8": b"import torch.nn as nn\n# caf\xe9\nclass A(nn.Module):\n    pass\n",
               "binary": bytes(range(256)) * 8,
               "deep": ("x = " + "(" * 5000 + ")" * 5000 + "\n").encode(),
               "control": b"import torch.nn as nn\nclass A(nn.Module):\n    pass\x07\n"}
    expected = {"nul": ":4:", "invalid_utf8": ":2:", "binary": ":2:", "deep": ":1:", "control": ":3:"}
    for name, data in sources.items():
        (folder / f"{name}.py").write_bytes(data)
    (folder / "good.py").write_text("import torch.nn as nn\n\n\nclass Good(nn.Module):\n"
                                    "    def forward(self, x):\n        return x\n")
    code, text = run(capsys, ["check", "--modules", str(folder), str(hostile["huge"].parent / "last_ok.yaml")])
    for name in sources:
        assert f"{name}.py" in text, name
    assert "Traceback" not in text
    for name, where in expected.items():
        code, text = run(capsys, ["modules", "check", str(folder / f"{name}.py")])
        assert code == 1 and f"{name}.py{where}" in text and "Traceback" not in text, (name, text)


def test_hostile_data_yamls_and_label_files_are_findings_not_crashes(capsys, tmp_path):
    from yolo_studio.core.data.demo_dataset import generate

    data = generate(tmp_path / "shapes", train=4, val=2, imgsz=32)
    labels = sorted((data.parent / "labels" / "train").glob("*.txt"))
    for label, blob in zip(labels, (b"0 0.5 0.5\0 0.2 0.2\n", b"\xff\xfe0 0.5\n", bytes(range(256)) * 4,
                                    b"0 " + b"0.5 " * 200_000 + b"\n")):
        label.write_bytes(blob)
    code, text = run(capsys, ["dataset", "check", str(data)])
    assert code == 1 and "Traceback" not in text
    for label in labels:
        assert label.name in text, label.name
    for name, blob in hostile_texts().items():
        bad = tmp_path / f"{name}-data.yaml"
        bad.write_bytes(blob)
        code, text = run(capsys, ["dataset", "check", str(bad)])
        assert code != 0 and "Traceback" not in text and str(bad) in text, (name, text[-800:])


def test_a_closed_pipe_ends_quietly(hostile):
    """`yolo-studio check ... | head -1`: no BrokenPipeError traceback."""
    files = [str(hostile["huge"].parent / "last_ok.yaml")] * 200
    child = subprocess.Popen([sys.executable, "-m", "yolo_studio", "check", *files], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    child.stdout.readline()
    child.stdout.close()  # what `head -1` does after its line
    _out, err = child.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()[-1500:]
    assert child.returncode in (0, 141, -13)
