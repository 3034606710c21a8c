"""A model trained in the test (with custom blocks) is listed, registered, run on images and a video,
exported to ONNX, and the ONNX output matches PyTorch's."""

import json

import pytest

from helpers import run_cli
from yolo_studio.core.data.dataset_check import images_in
from yolo_studio.deploy.export import export, formats, verify_onnx
from yolo_studio.deploy.predict import expand_sources, predict, resolve_model, timing_summary
from yolo_studio.training import registry
from yolo_studio.training.run_store import curves, delete_run, list_runs, summarize

ONNX_TOLERANCE = 1e-3  # max |ONNX - PyTorch| over the raw output tensor (float32 on CPU)


def test_the_runs_table_reads_the_run_folders(trained_project, tmp_path):
    run = next(r for r in list_runs(trained_project.runs_dir) if r.name == "tiny")
    assert (run.status, run.epochs_done, run.epochs, run.studio) == ("completed", 2, 2, True)
    assert run.best_map is not None and run.best_epoch in (1, 2) and run.duration > 0 and run.started
    assert run.model == "yolo11n-se.yaml" and run.data.endswith("data.yaml")
    lines = curves(run.path)
    assert lines["metrics/mAP50-95(B)"][0] == [1, 2] and len(lines["train/box_loss"][1]) == 2
    # A folder plain Ultralytics wrote (results.csv, args.yaml, no events) is listed too.
    plain = trained_project.runs_dir / "plain"
    plain.mkdir()
    (plain / "results.csv").write_text((run.path / "results.csv").read_text())
    (plain / "args.yaml").write_text("model: yolo11n.yaml\ndata: d.yaml\nepochs: 2\ntask: detect\n")
    summary = summarize(plain)
    assert not summary.studio and summary.status == "completed" and summary.best_map == pytest.approx(run.best_map)
    with pytest.raises(ValueError, match="not a run of this project"):
        delete_run(run.path, tmp_path)
    delete_run(plain, trained_project.runs_dir)
    assert not plain.exists() and run.path.exists()


def test_register_versions_tags_and_compare(trained_project):
    run = trained_project.runs_dir / "tiny"
    first = registry.register(trained_project.registry_dir, run, "shapes", ["baseline"])
    second = registry.register(trained_project.registry_dir, run, "shapes")
    assert (first.ref, second.ref) == ("shapes:v1", "shapes:v2")
    assert first.weights.is_file() and (first.folder / "model.yaml").is_file()
    assert (first.folder / "modules" / "attention.py").is_file()  # the blocks travel with the model
    assert first.task == "detect" and first.names == ["square", "circle", "triangle"] and first.imgsz == 64
    assert set(first.metrics) == {"mAP50", "mAP50-95", "precision", "recall"}
    assert len(first.dataset["hash"]) == 16 and first.dataset["hash"] == second.dataset["hash"]
    assert registry.find(trained_project.registry_dir, "shapes").ref == "shapes:v2"
    assert registry.find(trained_project.registry_dir, "shapes:v1").tags == ["baseline"]
    registry.set_tags(second, ["candidate", "cpu"])
    rows = registry.compare([e for e in registry.list_entries(trained_project.registry_dir) if e.name == "shapes"])
    assert [r["model"] for r in rows] == ["shapes:v1", "shapes:v2"] and rows[1]["tags"] == "candidate, cpu"
    with pytest.raises(ValueError, match=r"no registered model 'birds' \(registered: .*shapes:v2"):
        registry.find(trained_project.registry_dir, "birds")
    with pytest.raises(ValueError, match="cannot be a model name"):
        registry.register(trained_project.registry_dir, run, "no spaces")


def test_a_promoted_version_is_the_one_in_use_and_rolling_back_is_one_step(trained_project, capsys):
    """Today the newest version wins even when it is worse; a version promoted to production wins over it."""
    from yolo_studio.cli import main

    run = trained_project.runs_dir / "tiny"
    for _ in range(3):
        registry.register(trained_project.registry_dir, run, "inuse")
    registry_dir = trained_project.registry_dir
    assert registry.find(registry_dir, "inuse").ref == "inuse:v3"  # nothing promoted: the newest
    assert main(["registry", "promote", "inuse:v1", "--project", str(trained_project.root)]) == 0
    assert "inuse@production is inuse:v1" in capsys.readouterr().out
    assert registry.find(registry_dir, "inuse").ref == "inuse:v1" == registry.find(registry_dir, "inuse@production").ref
    registry.promote(registry_dir, "inuse:v2")
    rows = {r["model"]: r["aliases"] for r in registry.compare(registry.list_entries(registry_dir)) if r["model"].startswith("inuse")}
    assert rows == {"inuse:v1": "", "inuse:v2": "production", "inuse:v3": ""}
    assert main(["registry", "rollback", "inuse", "--project", str(trained_project.root)]) == 0
    assert registry.find(registry_dir, "inuse").ref == "inuse:v1"
    with pytest.raises(ValueError, match="no earlier version to roll back to"):
        registry.roll_back(registry_dir, "inuse")
    with pytest.raises(ValueError, match="has no version called 'staging'"):
        registry.find(registry_dir, "inuse@staging")
    registry.promote(registry_dir, "inuse:v3")
    import shutil

    shutil.rmtree(registry.find(registry_dir, "inuse:v1").folder)  # the version it would roll back to is gone
    held = (registry_dir / "inuse" / "aliases.yaml").read_text()
    with pytest.raises(ValueError, match="no registered model 'inuse:v1'"):
        registry.roll_back(registry_dir, "inuse")
    assert (registry_dir / "inuse" / "aliases.yaml").read_text() == held  # nothing written


def test_predict_on_images_and_a_video_reports_objects_and_timing(trained_project, tiny_dataset, tmp_path):
    import cv2

    weights = resolve_model("tiny", trained_project)
    images = images_in(tiny_dataset.parent / "images" / "val")[:3]
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 64))
    for image in images:
        writer.write(cv2.imread(str(image)))
    writer.release()
    seen = []
    results = predict(weights, [*images, video], conf=0.001, imgsz=64, save_dir=tmp_path / "out",
                      on_result=seen.append)
    assert len(results) == len(seen) == 6 and [r.frame for r in results[3:]] == [0, 1, 2]
    for r in results:
        assert set(r.timing) == {"preprocess", "inference", "postprocess"} and (r.width, r.height) == (64, 64)
        assert r.saved and (tmp_path / "out" / r.saved.split("/")[-1]).is_file()
    assert any(r.objects for r in results)  # conf=0.001 keeps the weak boxes of a 2-epoch model
    obj = next(o for r in results for o in r.objects)
    assert obj["name"] in ("square", "circle", "triangle") and len(obj["box"]) == 4
    assert set(timing_summary(results)) == {"preprocess", "inference", "postprocess"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images or videos"):
        expand_sources([tmp_path / "empty"])


def _float16_interface(source, target):
    """The ONNX model with float16 input and output, as Ultralytics' half=True export from a GPU has (a CPU
    cannot make that export): casts at both ends of the float32 graph."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(source))
    graph = model.graph
    feed, out = graph.input[0], graph.output[0]
    inner_in, inner_out = feed.name + "_f32", out.name + "_f32"
    for node in graph.node:
        node.input[:] = [inner_in if name == feed.name else name for name in node.input]
        node.output[:] = [inner_out if name == out.name else name for name in node.output]
    graph.node.insert(0, helper.make_node("Cast", [feed.name], [inner_in], to=TensorProto.FLOAT))
    graph.node.append(helper.make_node("Cast", [inner_out], [out.name], to=TensorProto.FLOAT16))
    feed.type.tensor_type.elem_type = out.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.save(model, str(target))
    return target


def _flat_class_scores(source, target, boxes: int = 4):
    """A copy of an exported detect model whose class scores are all 0.5 whatever the image (the output times
    1 for the box channels and 0 for the rest, plus 0.5 there)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    out = graph.output[0]
    channels = out.type.tensor_type.shape.dim[1].dim_value
    dtype = np.float16 if out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16 else np.float32
    mask = np.array([1.0] * boxes + [0.0] * (channels - boxes), dtype=dtype).reshape(1, channels, 1)
    graph.initializer.append(numpy_helper.from_array(mask, "score_mask"))
    graph.initializer.append(numpy_helper.from_array(((1 - mask) * 0.5).astype(dtype), "score_flat"))
    inner = out.name + "_unmasked"
    for node in graph.node:
        node.output[:] = [inner if name == out.name else name for name in node.output]
    graph.node.append(helper.make_node("Mul", [inner, "score_mask"], [inner + "_masked"]))
    graph.node.append(helper.make_node("Add", [inner + "_masked", "score_flat"], [out.name]))
    onnx.save(model, str(target))
    return target


def test_export_onnx_matches_pytorch_and_the_cli_does_the_same(trained_project, tiny_dataset):
    assert {f.name for f in formats() if f.available} >= {"onnx", "torchscript"}
    entry = registry.register(trained_project.registry_dir, trained_project.runs_dir / "tiny", "onnx-check")
    onnx_file = export(entry.weights, "onnx", imgsz=64)
    assert onnx_file.suffix == ".onnx" and onnx_file.parent == entry.folder  # written inside the project
    images = images_in(tiny_dataset.parent / "images" / "val")[:4]
    check = verify_onnx(onnx_file, entry.weights, images, 64, tolerance=ONNX_TOLERANCE)
    assert check.ok, check.text()
    assert check.images == 4 and check.torch_ms > 0 and check.onnx_ms > 0
    with pytest.raises(ValueError, match="on a CUDA GPU only"):
        export(entry.weights, "onnx", imgsz=64, half=True, device="cpu")  # Ultralytics would quietly make FP32
    with pytest.raises(ValueError, match="not installed here"):
        unavailable = next(f.name for f in formats() if not f.available)
        export(entry.weights, unavailable, imgsz=64)
    half = _float16_interface(onnx_file, onnx_file.with_name("half.onnx"))
    check = verify_onnx(half, entry.weights, images, 64, tolerance=ONNX_TOLERANCE)
    assert check.ok and check.tolerance == 1.0, check.text()  # fed float16 images, as the model asks
    blind = _flat_class_scores(half, onnx_file.with_name("blind.onnx"))  # every class score 0.5: a broken model
    check = verify_onnx(blind, entry.weights, images, 64, tolerance=ONNX_TOLERANCE)
    assert not check.ok and "class scores" in check.text(), check.text()  # one pixel tolerance let it "match"
    done = run_cli("export", "tiny", "--project", trained_project.root, "--format", "onnx", "--verify", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["imgsz"] == 64 and result["verification"]["ok"] and result["verification"]["images"] == 8
    done = run_cli("predict", "onnx-check", images[0], "--project", trained_project.root, "--json", "--conf", "0.001")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["source"] == str(images[0])


def test_detections_after_nms_are_matched_by_iou():
    """The decoded comparison: the same confident box matches; a box moved by half its size does not."""
    import numpy as np

    from yolo_studio.deploy.export import _match_detections

    def raw(x):  # one anchor holding a 40x40 box of class 1 at 0.9, the rest empty (4 box rows, 3 classes)
        out = np.zeros((1, 7, 8), dtype=np.float32)
        out[0, :4, 0] = [x, 50, 40, 40]
        out[0, 5, 0] = 0.9
        return out

    same, moved = {"boxes": 0, "unmatched": 0, "lowest_iou": 1.0}, {"boxes": 0, "unmatched": 0, "lowest_iou": 1.0}
    _match_detections(raw(50), raw(50.4), 3, same)
    _match_detections(raw(50), raw(70), 3, moved)
    assert same["boxes"] == 1 and same["unmatched"] == 0 and same["lowest_iou"] > 0.95
    assert moved["unmatched"] == 1
