"""Custom heads: recognised by what they are, their task read from their class, and heads written for
Ultralytics 8.0-8.3 adapted to the protocol the installed trainer, losses, validator and exporter read.

The heads here are our own (tests/data/heads); the corpus that follows real repositories is
tests/data/community_heads (tests/training/test_community_heads.py)."""

import copy
import io
from pathlib import Path

import pytest
import torch
import yaml

from yolo_studio.compat import heads
from yolo_studio.core.blocks.custom_blocks import catalog_with_blocks, load_blocks
from yolo_studio.core.errors import BuildError
from yolo_studio.core.model.document import ModelDocument, task_of
from yolo_studio.core.model.inspection import build_model, inspect_dict, ultralytics_build
from yolo_studio.core.model.validation import validate

HEADS = Path(__file__).resolve().parent.parent / "data" / "heads"
ROWS = {"detect": ["Detect_Shared", ["nc", 64]], "segment": ["Segment_Shared", ["nc", 32, 256, 64]],
        "pose": ["Pose_Shared", ["nc", "kpt_shape", 64]], "obb": ["OBB_Shared", ["nc", 1, 64]],
        "old": ["Detect_Old", ["nc"]], "today": ["Detect_Today", ["nc"]], "pose_old": ["Pose_Old", ["nc", "kpt_shape"]]}
TASKS = {"detect": "detect", "segment": "segment", "pose": "pose", "obb": "obb", "old": "detect", "today": "detect",
         "pose_old": "pose"}


@pytest.fixture(scope="module")
def blocks():
    return load_blocks(HEADS)


def _model(which: str) -> dict:
    d = yaml.safe_load((HEADS / "small.yaml").read_text(encoding="utf-8"))
    d["head"][-1][2:] = copy.deepcopy(ROWS[which])
    d["kpt_shape"] = [3, 3]
    return d


def _built(which, blocks):
    with ultralytics_build():
        model, _args, resolved = build_model(_model(which), blocks, imgsz=64)
    return model, resolved


def test_a_head_is_recognised_by_its_signature_or_its_parent_not_by_its_name(blocks):
    assert sorted(name for name, (cls, _) in blocks.items() if heads.is_head_class(cls)) == \
        sorted(n for n, _ in ROWS.values())
    assert {name: heads.task_of_class(blocks[name][0]) for name, _ in ROWS.values()} == \
        {ROWS[k][0]: TASKS[k] for k in ROWS}
    # the same decisions without running the file: the catalog (palette, validation, previews)
    catalog, errors = catalog_with_blocks(HEADS)
    assert errors == []
    for key, (name, _args) in ROWS.items():
        block = catalog.get(name)
        assert block.extra.get("task") == TASKS[key] and block.yaml_arg_names()[-1] != "ch", name
    assert catalog.get("Conv_GN").extra.get("task") is None


def test_a_custom_head_ends_a_model_and_its_task_is_the_models(blocks, tmp_path):
    catalog, _ = catalog_with_blocks(HEADS)
    for key in ("segment", "pose", "obb"):
        path = tmp_path / f"{key}.yaml"
        path.write_text(yaml.safe_dump(_model(key)), encoding="utf-8")
        doc = ModelDocument.load(path)
        assert [p for p in validate(doc, catalog) if p.severity == "error"] == []
        assert task_of(doc, catalog) == key  # the head's name ("..._Shared") says nothing
    d = _model("detect")
    d["head"][-1][2:] = ["Conv_GN", [64]]  # a custom block that is not a head
    path = tmp_path / "not-a-head.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    refused = [p for p in validate(ModelDocument.load(path), catalog) if p.severity == "error"]
    assert len(refused) == 1 and "not an output module" in refused[0].message and "custom head" in refused[0].hint


@pytest.mark.parametrize("which", ["detect", "segment", "pose", "obb", "old", "pose_old"])
def test_a_head_written_for_8_3_is_adapted_and_speaks_todays_protocol(which, blocks):
    task = TASKS[which]
    report = inspect_dict(_model(which), imgsz=64, blocks=blocks)
    assert report.error is None and report.task == task
    assert [n for n in report.notes if heads.ADAPTED_NOTE in n] == [f"layer 22: {ROWS[which][0]}: {heads.ADAPTED_NOTE}"]
    assert report.layers[-1].layout.startswith("head")
    model, resolved = _built(which, blocks)
    head = model.model[-1]
    assert heads.is_adapted(head) and type(head).__name__ == ROWS[which][0]
    assert head.stride.tolist() == [8.0, 16.0, 32.0]  # found by Ultralytics' own stride probe
    assert resolved[22]["args"][-1] == [64, 128, 256]  # the inputs' channels appended, as forks do
    from ultralytics.cfg import DEFAULT_CFG

    x = torch.rand(2, 3, 64, 64)
    model.args = DEFAULT_CFG  # the trainer's hyperparameters, which the loss reads
    model.train()
    out = model(x)
    keys = {"boxes", "scores", "feats", *heads.EXTRA_KEYS.get(task, ())}
    assert set(out) == keys and out["boxes"].shape == (2, 64, 84) and out["scores"].shape == (2, 2, 84)
    loss, items = model.loss({"batch_idx": torch.zeros(0), "cls": torch.zeros(0, 1), "bboxes": torch.zeros(0, 4 + (task == "obb")),
                              "masks": torch.zeros(2, 16, 16), "keypoints": torch.zeros(0, 3, 3), "img": x}, out)
    assert torch.isfinite(loss).all() and all(torch.isfinite(v).all() for v in items.values())
    model.eval()
    decoded, raw = model(x)
    if task == "segment":  # ((boxes, scores and coefficients), prototypes), as today's Segment
        decoded, proto = decoded
        assert proto.shape[:2] == (2, 32)
    extra = {"detect": 0, "segment": 32, "pose": 9, "obb": 1}[task]
    assert decoded.shape == (2, 4 + 2 + extra, 84) and set(raw) == keys


def test_a_head_that_speaks_todays_protocol_is_left_alone(blocks):
    report = inspect_dict(_model("today"), imgsz=64, blocks=blocks)
    assert report.error is None and report.task == "detect" and not any(heads.ADAPTED_NOTE in n for n in report.notes)
    model, _ = _built("today", blocks)
    assert not heads.is_adapted(model.model[-1])


def test_an_adapted_head_pickles_and_copies_as_its_own_class(blocks):
    model, _ = _built("segment", blocks)
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    before = model(x)[0][0]
    buffer = io.BytesIO()
    torch.save({"model": model}, buffer)
    assert b"LegacyHead" not in buffer.getvalue()  # the checkpoint names the head's own class only
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)["model"]
    for other in (loaded, copy.deepcopy(model)):
        assert heads.is_adapted(other.model[-1]) and type(other.model[-1]).__mro__[2] is blocks["Segment_Shared"][0]
        assert torch.allclose(other(x)[0][0], before)


def test_a_heads_hidden_width_and_a_segmentation_heads_npr_are_width_scaled(blocks):
    """As forks' parse_model branches scale them (and Ultralytics its Segment's npr); width 0.25 here."""
    report = inspect_dict(_model("segment"), imgsz=64, blocks=blocks)
    assert report.layers[-1].args == [2, 32, 64, 16, [64, 128, 256]]  # npr 256 -> 64, hidc 64 -> 16
    assert heads.scaled_arguments(blocks["Pose_Shared"][0]) == [2]  # hidc; kpt_shape and nc are not widths


def test_a_head_that_does_not_build_says_how_heads_are_called(tmp_path):
    (tmp_path / "bad.py").write_text(
        "import torch.nn as nn\n\n\nclass Bad_Head(nn.Module):\n    def __init__(self, nc=80, hidc=256, ch=()):\n"
        "        super().__init__()\n        self.nc, self.stride = nc, None\n        self.cv = nn.Conv2d(ch[0] * 3, hidc, 1)\n\n"
        "    def forward(self, x):\n        return self.cv(x[0])\n", encoding="utf-8")
    d = _model("detect")
    d["head"][-1][2:] = ["Bad_Head", ["nc", 64]]
    with pytest.raises(BuildError) as raised:
        inspect_dict(d, imgsz=64, blocks=load_blocks(tmp_path))
    assert raised.value.layer == 22 and "Bad_Head could not be built as a head with [2, 16, [64, 128, 256]]" in str(raised.value)
    assert "yaml_args" in raised.value.hint


def test_the_probe_names_a_change_to_the_protocol_the_adapter_relies_on(monkeypatch):
    from ultralytics.nn.modules import head

    from yolo_studio.compat import probe

    assert heads.protocol_changes() == []
    original = head.Detect.forward_head

    def renamed(self, *args, **kwargs):  # as if a release called the class scores "cls"
        out = original(self, *args, **kwargs)
        out["cls"] = out.pop("scores", None)
        return out

    monkeypatch.setattr(head.Detect, "forward_head", renamed)
    found = [m.describe() for m in probe.probe() if m.subject == "the heads' protocol"]
    assert any("Detect's training output has ['boxes', 'cls', 'feats'], not ['boxes', 'feats', 'scores']" in line
               for line in found), found


def test_a_part_of_a_head_that_ends_a_model_is_refused_with_what_a_head_carries(tmp_path):
    (tmp_path / "part.py").write_text(
        "import torch.nn as nn\n\n\nclass Head_Part(nn.Module):\n    def __init__(self, nc=80, ch=()):\n"
        "        super().__init__()\n        self.cv = nn.ModuleList(nn.Conv2d(c, nc, 1) for c in ch)\n\n"
        "    def forward(self, x):\n        return [m(t) for m, t in zip(self.cv, x)]\n", encoding="utf-8")
    d = _model("detect")
    d["head"][-1][2:] = ["Head_Part", ["nc"]]
    with pytest.raises(BuildError) as raised:
        inspect_dict(d, imgsz=64, blocks=load_blocks(tmp_path))
    assert raised.value.layer == 22 and "does not carry a head's attributes" in str(raised.value)


def test_weights_load_into_an_adapted_head_whose_layers_are_not_todays(blocks):
    """Fine-tuning from weights: today's load() reads a Detect's cv2 as per-level Sequentials (LSCD shares one)."""
    model, _ = _built("detect", blocks)
    other, _ = _built("detect", blocks)
    assert model.model[-1].cv2.__class__.__name__ == "Conv2d"
    model.load(other, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))
    assert model.is_fused() is False  # reads the head's cv2 too
    head_without_cv2, _ = _built("pose_old", blocks)
    del head_without_cv2.model[-1].cv2
    assert head_without_cv2.is_fused() is False


def test_an_adapted_head_whose_state_refers_to_itself_copies_and_pickles(blocks):
    model, _ = _built("obb", blocks)
    model.model[-1].decode = model.model[-1].decode_bboxes  # a bound method kept as an attribute, as some forks do
    copied = copy.deepcopy(model)
    assert heads.is_adapted(copied.model[-1]) and copied.model[-1].decode.__self__ is copied.model[-1]
    torch.save(model, io.BytesIO())


def test_an_export_with_nms_gets_corners_from_a_head_that_decodes_centres(blocks):
    model, _ = _built("detect", blocks)
    model.eval()
    head = model.model[-1]
    x = torch.rand(1, 3, 64, 64)
    head.export = True
    centres = model(x)
    head.xyxy = True
    corners = model(x)
    assert torch.allclose(corners[:, :2], centres[:, :2] - centres[:, 2:4] / 2, atol=1e-5)
    assert torch.allclose(corners[:, 2:4], centres[:, :2] + centres[:, 2:4] / 2, atol=1e-5)
    assert torch.equal(corners[:, 4:], centres[:, 4:])


def test_a_head_row_that_reads_one_input_says_to_write_a_list(blocks):
    d = _model("detect")
    d["head"][-1][0] = 21
    with pytest.raises(BuildError) as raised:
        inspect_dict(d, imgsz=64, blocks=blocks)
    assert raised.value.layer == 22 and "from: [15, 18, 21] or [21]" in raised.value.hint
