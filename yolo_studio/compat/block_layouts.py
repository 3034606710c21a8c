"""How a YAML row calls a block's constructor: the argument layouts, read from the signature.

A repository that adds a block to Ultralytics patches ``parse_model`` so that the row's YAML
arguments become the constructor's: ``[c1, c2, *args[1:]]`` for a conv-like block (as for
``Conv``), ``[c1, c2, n, ...]`` for a repeated one (as for ``C2f``), ``[c1, *args]`` for an
attention block, ``[[ch[x] for x in f], ...]`` for a fusion of several inputs, or nothing at
all (arguments verbatim, Ultralytics' default for a module it does not know). Each such shape
is a *layout* here. Which one a block wants is read from how its parameters are named
(``c1``, ``in_channels``, ``inc``, ``dim``, ... for the input channels, ``c2``, ``out_channels``,
``oup``, ... for the output, ``n``, ``num_blocks``, ... for repeats) unless the block declares it.

The output channels are not a layout's business: the hook measures them by running the block.

This file imports nothing from YOLO Studio (nor torch): it is shipped next to
``ultralytics_hook.py`` in a training bundle.
"""

from __future__ import annotations

import inspect
import math
import re

LAYOUTS = {
    "verbatim": "the YAML arguments as written (plain Ultralytics' call for a module it does not know)",
    "c1": "the input channels, then the YAML arguments",
    "c1-replace": "the input channels in place of the YAML's first argument (a width written in the YAML)",
    "base": "the input channels, the first YAML argument scaled by width as for Conv, then the rest",
    "repeat": "as base, with the scaled repeats inserted third; the layer is built once, as for C2f",
    "inputs": "the list of the inputs' channels, then the YAML arguments",
    "inputs-base": "the list of the inputs' channels, the first YAML argument scaled by width, then the rest",
    "inputs-count": "how many inputs 'from' lists, then the YAML arguments (a weighted fusion)",
    "c1-only": "the input channels alone: the YAML arguments are dropped, as some repositories' patches do",
    "head": "the YAML arguments, then the list of the inputs' channels (a head, as forks' parse_model calls it)",
}
# With several inputs, ``c1``, ``c1-replace``, ``base`` and ``repeat`` take the first input's channels;
# a suffix picks another one: ``c1[1]`` is the second input's (e.g. a fusion that keeps the middle
# input's channels).
# Rules of earlier versions: the output channels are measured now, so they only name a layout.
ALIASES = {"passthrough": "verbatim", "concat": "verbatim"}
MULTI_INPUT = ("inputs", "inputs-base", "inputs-count")  # layouts that only make sense with several inputs
# Arguments each layout adds to the YAML's (for counting them statically); c1-replace adds none.
INJECTED = {"verbatim": 0, "c1": 1, "c1-replace": 0, "base": 1, "repeat": 2, "inputs": 1, "inputs-base": 1,
            "inputs-count": 1, "c1-only": 1, "head": 1}

_IN = re.compile(r"^(c1|c_?1|cin|c_in|ch_in|in_?c|inc|in_?ch|in_?chs|in_?chans?|in_?channels?|in_?planes|inplanes|"
                 r"inp|in_?dim|dim_?in|in_?features|input_?channels?|input_?dim|n_?in|nin|c|"
                 r"channels?_?in|chans?_?in|num_?features|n_?feats?|nf|num_?feat)$", re.I)
_OUT = re.compile(r"^(c2|c_?2|cout|c_out|ch_out|out_?c|ouc|outc|out_?ch|out_?chs|out_?chans?|out_?channels?|"
                  r"out_?planes|outplanes|oup|outp|out_?dim|dim_?out|out_?features|output_?channels?|"
                  r"output_?dim|n_?out|nout|channels?_?out|chans?_?out)$", re.I)
_ANY_CHANNELS = re.compile(r"^(channels?|chs?|chans?|dim|planes|num_?channels|filters|width|features|"
                           r"hidden_?dim|embed_?dim|d_?model|c_?)$", re.I)
_COUNT = re.compile(r"^(length|len|num_?inputs?|n_?inputs?|inputs?_?num|num_?in|num_?levels?|n_?levels?|"
                    r"num_?branch(es)?|num_?paths?)$", re.I)
_REPEATS = re.compile(r"^(n|nb|num|number|depth|repeats?|num_?repeats?|num_?blocks?|n_?blocks?|num_?layers|"
                      r"n_?layers|blocks)$", re.I)


def make_divisible(x: float, divisor: int = 8) -> int:
    """The smallest multiple of ``divisor`` not below ``x`` (Ultralytics' channel rounding)."""
    return math.ceil(x / divisor) * divisor


class Row:
    """What a layout knows about one YAML row; also what a block's ``yaml_args`` classmethod receives.

    ``c_in``: the input channels (a list when ``from`` lists several inputs); ``args``: the YAML
    arguments, names resolved; ``n``: the repeats after the scale's depth; ``channels(x)``: ``x``
    scaled by the model's width as Ultralytics scales ``Conv``'s output channels.
    """

    def __init__(self, c_in, args: list, n: int = 1, width: float = 1.0, max_channels: float = math.inf):
        self.c_in, self.args, self.n = c_in, list(args), n
        self.width, self.max_channels = width, max_channels
        self.repeats_taken = False

    def channels(self, x) -> int:
        return make_divisible(min(x, self.max_channels) * self.width, 8)

    def take_repeats(self) -> int:
        """The scaled repeats, for a block that builds them itself (the layer is then built once)."""
        self.repeats_taken = True
        return self.n

    @property
    def first_input(self) -> int:
        return self.c_in[0] if isinstance(self.c_in, list) else self.c_in

    def input_channels(self, k: int) -> int:
        return self.c_in[k] if isinstance(self.c_in, list) else self.c_in


def split_layout(layout: str) -> tuple:
    """``"c1[1]"`` -> ``("c1", 1)``; ``"base"`` -> ``("base", 0)``."""
    if layout.endswith("]") and "[" in layout:
        name, _, k = layout[:-1].partition("[")
        return name, int(k)
    return layout, 0


def is_layout(text) -> bool:
    """Whether ``text`` names a layout (an input suffix allowed), e.g. a ``channel_rule`` value."""
    if not isinstance(text, str):
        return False
    name, _ = split_layout(text) if text.endswith("]") and text[:-1].partition("[")[2].isdigit() else (text, 0)
    return name in LAYOUTS or name in ALIASES


def call_for(layout: str, row: Row) -> list:
    """The constructor arguments of ``layout`` for ``row`` (raises ``IndexError`` when it cannot apply)."""
    layout, k = split_layout(layout)
    args, c1 = row.args, row.input_channels(k)
    if layout == "verbatim":
        return list(args)
    if layout == "c1":
        return [c1, *args]
    if layout == "c1-replace":
        return [c1, *args[1:]]
    if layout == "c1-only":
        return [c1]
    if layout == "base":
        return [c1, row.channels(args[0]), *args[1:]]
    if layout == "repeat":
        return [c1, row.channels(args[0]), row.take_repeats(), *args[1:]]
    inputs = list(row.c_in) if isinstance(row.c_in, list) else [row.c_in]
    if layout == "inputs":
        return [inputs, *args]
    if layout == "inputs-base":
        return [inputs, row.channels(args[0]), *args[1:]]
    if layout == "inputs-count":
        return [len(inputs), *args]
    if layout == "head":
        return [*args, inputs]
    raise ValueError(f"unknown layout '{layout}'")


def declared_layout(cls) -> str | None:
    """The layout a class declares with ``channel_rule`` (earlier rule names accepted), else None."""
    declared = getattr(cls, "channel_rule", None)
    if declared is None:
        return None
    return ALIASES.get(declared, declared)


def parameters(cls) -> tuple:
    """(positional parameter names without self, how many are required, whether it takes *args)."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return [], 0, True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    star = any(p.kind == p.VAR_POSITIONAL for p in params)
    return [p.name for p in positional], required, star


def roles(names: list) -> dict:
    """Which leading parameters are input channels, output channels and repeats, by their names."""
    out = {"in": False, "out": False, "repeats": False}
    if names and (_IN.match(names[0]) or _ANY_CHANNELS.match(names[0])):
        out["in"] = True
        if len(names) > 1 and (_OUT.match(names[1]) or _ANY_CHANNELS.match(names[1])):
            out["out"] = True
            out["repeats"] = len(names) > 2 and bool(_REPEATS.match(names[2]))
    return out


def infer_layout(names: list, multi_input: bool = False) -> str:
    """The first layout tried for a signature (what the palette and the properties panel show)."""
    r = roles(names)
    if not r["in"]:
        return "verbatim"
    if multi_input:
        return "inputs-base" if r["out"] else "inputs"
    return "repeat" if r["repeats"] else "base" if r["out"] else "c1"


def _fits(names: list, required: int, star: bool, count: int) -> bool:
    return count >= required and (star or count <= len(names))


def candidates(cls, row: Row) -> list:
    """Layouts to try for ``cls`` on ``row``, most likely first, in two tiers.

    Tier 1 follows the parameter names; tier 2 holds every other layout whose argument count
    fits, tried only when no tier-1 layout builds and runs. Each entry is ``(tier, layout)``.
    """
    names, required, star = parameters(cls)
    multi = isinstance(row.c_in, list)
    r = roles(names)
    first: list = []
    if multi and names and _COUNT.match(names[0]):
        first.append("inputs-count")
    if r["in"]:
        if multi:
            first += ["inputs-base"] if r["out"] else []
            first += ["inputs"]
        singles = []
        if r["repeats"]:
            singles.append("repeat")
        if r["out"]:
            singles.append("base")
        width_written = bool(row.args) and _is_width(row.args[0], row)
        singles += ["c1-replace", "c1"] if width_written else ["c1", "c1-replace"]
        first += [f"{layout}{suffix}" for suffix in _input_suffixes(row) for layout in singles]
    first.append("verbatim")
    suffixes = _input_suffixes(row)
    rest = [f"{layout}{suffix}" for layout in LAYOUTS if (multi or layout not in MULTI_INPUT) and layout != "head"
            for suffix in (suffixes if layout not in MULTI_INPUT + ("verbatim",) else [""])]
    rest = [layout for layout in rest if layout not in first]
    out = []
    for tier, layouts in ((1, first), (2, rest)):
        for layout in layouts:
            probe = Row(row.c_in, row.args, row.n, row.width, row.max_channels)
            try:
                call = call_for(layout, probe)
            except (IndexError, TypeError):
                continue
            if _fits(names, required, star, len(call)):
                out.append((tier, layout))
    return out


def _input_suffixes(row: Row) -> list:
    """``[""]`` for one input; else the first input, then the last, then the others, one per channel count."""
    if not isinstance(row.c_in, list):
        return [""]
    order = [0, len(row.c_in) - 1, *range(1, len(row.c_in) - 1)]
    seen, out = set(), []
    for k in order:
        if row.c_in[k] not in seen:
            seen.add(row.c_in[k])
            out.append("" if k == 0 else f"[{k}]")
    return out


def _is_width(value, row: Row) -> bool:
    """Whether a YAML number is the input's channel count, written unscaled as a YAML width."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return False
    c1 = row.first_input
    return value == c1 or row.channels(value) == c1


# Where a repository's patch says what its code cannot: the studio replays that file's parse_model (fork_tasks.py).
FORK_TASKS = ("the repository's ultralytics/nn/tasks.py, unchanged, into the block folder: the studio then "
              "builds the row as that file's parse_model does")


def line_to_declare(layout: str) -> str:
    """The one line a block class needs to use ``layout`` without inference."""
    return f'channel_rule = "{layout}"'


def _channels_text(c_in) -> str:
    return f"inputs with {', '.join(map(str, c_in))} channels" if isinstance(c_in, list) else f"{c_in} input channels"


def failure_text(name: str, c_in, tried: list) -> tuple:
    """(message, hint) for a row that no layout could build; ``tried``: ``[(layout, call, error)]``,
    the first failure leads."""
    first = tried[0][2] if tried else "no argument layout fits its __init__ with these YAML arguments"
    lines = [f"{name} could not be built on its {_channels_text(c_in)}: {first}"]
    if len(tried) > 1:
        lines.append("the studio tried:")
        lines += [f"  {layout}: {name}({', '.join(map(repr, call or []))}) -> {error}" for layout, call, error in tried]
    hint = (f"Check the row's arguments against {name}'s __init__. If its repository patched tasks.py for it, "
            f"write that call in the class: `channel_rule = \"<layout>\"` with one of "
            f"{', '.join(LAYOUTS)}, or a classmethod `yaml_args(cls, row)` returning the "
            f"constructor arguments; or copy {FORK_TASKS} (docs/CUSTOM_BLOCKS.md).")
    return "\n".join(lines), hint


def ambiguity_text(name: str, c_in, found: list) -> tuple:
    """(message, hint) for a row that several different calls build; ``found``:
    ``[(layout, call, params, output channels)]``. The user picks one line."""
    lines = [f"{name} builds and runs on its {_channels_text(c_in)} with different calls,",
             "and nothing in its code says which one its repository meant:"]
    lines += [f"  {line_to_declare(layout)}  ->  {name}({', '.join(map(repr, call))}): "
              f"{params:,} params, {channels} output channels" for layout, call, params, channels in found]
    return "\n".join(lines), f"Add the line of the call you mean to class {name}, or copy {FORK_TASKS}."
