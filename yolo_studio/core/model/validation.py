"""Validation of a model document without importing torch.

Each ``Problem`` carries the section, the layer index, a message and a hint a user can act on.
Checks: header keys (``nc``, ``scales``, ``scale``, multiples, ``activation``, ``kpt_shape``),
references (in range, pointing backwards, one input unless the module takes several), module
names (built-in catalog or custom block), argument counts against the module's signature, and
a head module last.
"""

from __future__ import annotations

import numbers
import re

from yolo_studio.core.model.catalog import STUDIO_BUILT, Catalog, builtin_catalog
from yolo_studio.core.model.document import ModelDocument
from yolo_studio.core.errors import Problem
from yolo_studio.core.model.renumber import INPUT, target

_ACTIVATION = re.compile(r"^(torch\.)?nn\.[A-Za-z_][A-Za-z0-9_]*\(.*\)$")


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _header_problems(h: dict) -> list:
    out = []

    def err(msg, hint, severity="error"):
        out.append(Problem(severity, "header", None, msg, hint))

    nc = h.get("nc")
    if "nc" not in h:
        err("'nc' (number of classes) is missing", "Add 'nc: 80' (or your dataset's class count) to the header.")
    elif not isinstance(nc, int) or isinstance(nc, bool) or nc < 1:
        err(f"'nc' must be a whole number of at least 1, got {nc!r}", "Set 'nc' to your dataset's class count.")
    scales = h.get("scales")
    if "scales" in h and scales in (None, {}):
        out.append(Problem("warning", "header", None, "'scales' is empty: Ultralytics ignores it and uses "
                           "depth_multiple and width_multiple", "Remove the empty 'scales:' line, or list the scales."))
    elif "scales" in h:
        if not isinstance(scales, dict) or not scales:
            err("'scales' must map scale names to [depth, width, max_channels]", "e.g. 'n: [0.50, 0.25, 1024]'.")
        else:
            for name, value in scales.items():
                ok = (isinstance(value, list) and len(value) == 3 and all(_is_number(v) for v in value)
                      and value[0] > 0 and value[1] > 0 and value[2] >= 1)
                if not ok:
                    err(f"scale '{name}' must be [depth, width, max_channels] with positive numbers, got {value!r}",
                        "e.g. 'n: [0.50, 0.25, 1024]'.")
    if "scale" in h and isinstance(scales, dict) and h["scale"] not in scales:
        err(f"'scale: {h['scale']}' is not one of the scales ({', '.join(map(str, scales))})",
            "Pick one of the defined scales or remove 'scale'.")
    for key in ("depth_multiple", "width_multiple"):
        if key in h and (not _is_number(h[key]) or h[key] <= 0):
            err(f"'{key}' must be a positive number, got {h[key]!r}", "e.g. 0.33 for depth, 0.25 for width.")
    act = h.get("activation")
    if act is not None and (not isinstance(act, str) or not _ACTIVATION.match(act.strip())):
        err(f"'activation' must be a torch.nn activation call such as 'nn.ReLU()', got {act!r}",
            "Ultralytics evaluates it as Python, e.g. activation: nn.SiLU()")
    kpt = h.get("kpt_shape")
    if kpt is not None and not (isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(k, int) for k in kpt)
                                and kpt[1] in (2, 3)):
        err(f"'kpt_shape' must be [keypoints, 2 or 3], got {kpt!r}", "e.g. kpt_shape: [17, 3] for COCO poses.")
    return out


def _ref_problems(doc: ModelDocument, i: int, block) -> list:
    row = doc.rows[i]
    section = doc.section_of(i)
    out = []

    def err(msg, hint):
        out.append(Problem("error", section, i, msg, hint, _line(row)))

    # a block whose call is decided at build takes as many inputs as its forward reads: not checked here
    multi = block.multi_input if block is not None and block.certain else None
    if isinstance(row.from_, list) and multi is False and len(row.from_) > 1:
        custom = block is not None and block.category == "custom"
        err(f"{row.module} takes one input but 'from' lists {len(row.from_)}"
            + (f" (its class declares channel_rule = \"{block.rule}\")" if custom else ""),
            "If the block fuses its inputs (its forward takes a list), declare a layout for several inputs in "
            "the class, e.g. channel_rule = \"inputs\" or \"verbatim\"; otherwise connect one input."
            if custom else "Connect one input, or put a Concat in front to merge them.")
    elif isinstance(row.from_, list) and multi is False:
        err(f"{row.module} takes one input: write 'from' as {row.from_[0]} instead of a list", "Drop the brackets.")
    elif not isinstance(row.from_, list) and multi is True:
        err(f"{row.module} merges several inputs: 'from' must be a list such as [-1, 6]", "Wrap the inputs in brackets.")
    for pos, ref in enumerate(row.inputs()):
        t = target(i, ref)
        name = f"input {pos}" if isinstance(row.from_, list) else "'from'"
        if ref is None:
            err(f"{name} is not connected", "Drag a wire to it from the output of a layer above, or set 'from' "
                "(-1 reads the previous layer).")
        elif t == INPUT and not (i == 0 and ref == -1):
            err(f"{name} = {ref} points before the first layer", "Only layer 0 can read the image (from -1).")
        elif t >= i:
            err(f"{name} = {ref} points at layer {t}, which is not above layer {i}",
                "A layer can only read earlier layers; use -1 for the previous one.")
    return out


def _line(row) -> int | None:
    return row.source.line if row.source is not None and row.source.line else None


def validate(doc: ModelDocument, catalog: Catalog | None = None) -> list:
    """All problems of ``doc``, header first, then layers in order."""
    catalog = catalog or builtin_catalog()
    problems = _header_problems(doc.header)
    if doc.head_start == 0:
        problems.append(Problem("error", "backbone", None, "the backbone has no layers",
                                "Add at least one row under 'backbone:'."))
    if doc.head_start >= len(doc.rows):
        problems.append(Problem("error", "head", None, "the head has no layers",
                                "Add rows under 'head:' ending with an output module such as Detect."))
    for i, row in enumerate(doc.rows):
        section = doc.section_of(i)
        block = catalog.get(row.module)
        if block is None:
            close = catalog.suggest(row.module)
            hint = f"Did you mean {' or '.join(close)}?" if close else "Check the spelling, or add the block to the modules folder."
            problems.append(Problem("error", section, i, f"unknown module '{row.module}'", hint, _line(row)))
        problems.extend(_ref_problems(doc, i, block))
        if block is not None and block.source == STUDIO_BUILT:
            problems.append(Problem(
                "warning", section, i, f"{row.module} is an Ultralytics block that plain Ultralytics cannot place "
                "in a YAML; the studio reads its call from its signature and this row when it builds the model",
                "Inspecting and training through the studio work; plain `yolo train` needs the studio's hook "
                "installed first (docs/CUSTOM_BLOCKS.md).",
                _line(row)))
        if block is not None and _placed_torch_layer(block, row):
            problems.append(Problem(
                "warning", section, i, f"{row.module} takes at least {block.yaml_arg_range()[0]} arguments, got "
                f"{len(row.args)}: plain Ultralytics passes them as written and fails; the studio calls it as a "
                "repository that added it to parse_model's base_modules would (input channels first)",
                "The call is confirmed when the model is built; write all of its arguments for plain `yolo train`.",
                _line(row)))
        elif block is not None and block.certain:
            low, high = block.yaml_arg_range()
            count = len(row.args)
            if count < low or (high is not None and count > high):
                expected = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
                problems.append(Problem(
                    "error", section, i, f"{row.module} takes {expected} argument{'s' if high != 1 else ''} here, got {count}",
                    _args_hint(block), _line(row)))
    if doc.head_start < len(doc.rows):
        last = doc.rows[-1]
        block = catalog.get(last.module)
        if block is not None and block.category != "head" and not block.extra.get("task"):
            problems.append(Problem("error", "head", len(doc.rows) - 1,
                                    f"the last layer is {last.module}, not an output module",
                                    "End the head with Detect, Segment, Pose, OBB, Classify or RTDETRDecoder, or "
                                    "a custom head (a class whose constructor takes nc first and ch last, or that "
                                    "subclasses one of Ultralytics' heads).",
                                    _line(last)))
    return problems


def _args_hint(block) -> str:
    who = "the studio" if block.category == "custom" else "Ultralytics"
    injected = {1: f"the input channels are added by {who}: do not write them",
                2: f"input channels and repeats are added by {who}",
                3: "reg_max, end2end and the input channels are added by Ultralytics"}.get(block.injected, "")
    return f"Signature: {block.signature()}" + (f"; {injected}" if injected else "") + "."



def needs_build(doc: ModelDocument, catalog: Catalog | None = None) -> list:
    """Layers whose block call is decided only when the model is built (undeclared custom blocks,
    Ultralytics blocks parse_model does not know, torch layers short of arguments): validation
    cannot vouch for them."""
    catalog = catalog or builtin_catalog()
    return [i for i, row in enumerate(doc.rows) if (block := catalog.get(row.module)) is not None
            and (not block.certain or _placed_torch_layer(block, row))]


def _placed_torch_layer(block, row) -> bool:
    """A torch.nn layer that parse_model passes its arguments verbatim, written with too few of them:
    the studio places it like a custom block (ultralytics_hook)."""
    return (block.source == "torch" and block.rule == "passthrough" and not block.varargs
            and len(row.args) < block.yaml_arg_range()[0])
