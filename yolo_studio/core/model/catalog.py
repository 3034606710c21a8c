"""The catalog of blocks a model YAML may name, read from source without importing torch.

Ultralytics resolves a row's module by name: a bare name from ``ultralytics.nn.tasks``' imports,
``nn.X`` from ``torch.nn`` or ``torchvision.ops.X``. Each block here carries its constructor
signature, a one-line doc, a category for the palette and its channel rule: how many arguments
Ultralytics injects before calling it, which validation needs to count the YAML's arguments.

Everything is read with ``ast`` from the installed packages' files, so validating a model never
imports torch (seconds) and always matches the installed versions. Which modules get channels
injected is read from ``parse_model`` itself (its ``base_modules`` and ``repeat_modules`` sets).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from yolo_studio.compat import block_layouts, model_dict

CATEGORIES = ("conv", "block", "attention", "transformer", "head", "torch.nn", "torchvision", "custom")

# Channel rules: how Ultralytics' parse_model treats a module's YAML args.
PASSTHROUGH, C1, BASE, REPEAT, CONCAT, HEAD, SPECIAL = model_dict.RULES
# What a custom block may declare as ``channel_rule``: an argument layout, or an earlier rule name.
CUSTOM_RULES = tuple(block_layouts.LAYOUTS) + tuple(block_layouts.ALIASES)
# Source of Ultralytics blocks that parse_model cannot resolve by name; the studio's hook builds them.
STUDIO_BUILT = "ultralytics, built by the studio"

# parse_model's special cases, by name (compat/model_dict.py): arguments added, rule, several inputs.
_SPECIAL = model_dict.SPECIAL_CASES
_DETECT_LIKE = model_dict.DETECT_LIKE  # heads that get ``reg_max, end2end, [channels]`` appended

# torch.nn layers shown in the palette (every torch.nn module is still accepted in a YAML).
COMMON_TORCH = (
    "Identity", "Conv2d", "ConvTranspose2d", "BatchNorm2d", "GroupNorm", "LayerNorm", "InstanceNorm2d",
    "ReLU", "SiLU", "GELU", "Hardswish", "LeakyReLU", "Mish", "Sigmoid", "Softmax", "MaxPool2d",
    "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "PixelShuffle", "PixelUnshuffle",
    "Dropout", "Dropout2d", "Flatten", "Linear", "ZeroPad2d", "ChannelShuffle",
)
_TORCH_FILES = ("activation", "batchnorm", "channelshuffle", "conv", "dropout", "flatten", "linear",
                "normalization", "instancenorm", "padding", "pixelshuffle", "pooling", "upsampling")
_ATTENTION = re.compile(r"Attn|Attention|PSA|CBAM|ABlock|SpatialAttention|ChannelAttention")


@dataclass(frozen=True)
class Param:
    name: str
    default: str | None = None  # source text of the default, None when required
    annotation: str = ""

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class BlockInfo:
    """One block a YAML row may name."""

    name: str  # as written in YAML: "Conv", "nn.Upsample", "torchvision.ops.X", "MyBlock"
    category: str
    rule: str
    params: tuple = ()  # constructor parameters without self
    varargs: bool = False  # *args or **kwargs: argument count is not checked
    doc: str = ""
    source: str = ""  # "ultralytics", "torch", "torchvision" or the custom block's file
    injected: int = 0  # arguments Ultralytics adds to the YAML's (negative: consumes)
    multi_input: bool | None = False  # None: either (decided when the block is built)
    common: bool = True  # shown in the palette by default
    extra: dict = field(default_factory=dict, compare=False)
    # False for a block whose call is decided when it is built (an undeclared custom block): its
    # argument count and inputs cannot be checked without building it.
    certain: bool = True

    def yaml_arg_range(self) -> tuple:
        """(min, max) number of YAML args; max is None when unbounded."""
        required = sum(1 for p in self.params if p.required)
        low = max(required - self.injected, 0)
        high = None if self.varargs else max(len(self.params) - self.injected, 0)
        if self.rule in (BASE, REPEAT):
            low = max(low, 1)  # c2 always comes from the YAML
        return low, high

    def yaml_arg_names(self) -> list:
        """The parameter name of each YAML argument position (what Ultralytics injects left out)."""
        names = [p.name for p in self.params]
        if self.rule == BASE:
            return names[1:2] + names[2:]  # c1 injected; c2 comes first in the YAML
        if self.rule == REPEAT:
            return names[1:2] + names[3:]  # c1 and n injected
        if self.rule in (C1, "inputs", "inputs-base", "inputs-count") or self.name in ("HGStem", "CBLinear"):
            return names[1:]
        if self.rule == "c1-replace":
            return [f"{names[0]} (a width: the input channels replace it)"] + names[1:] if names else []
        if self.name == "HGBlock":
            return names[1:4] + names[5:]  # c1 and n injected
        if self.name in ("RTDETRDecoder", "ImagePoolingAttn"):
            return names[:1] + names[2:]  # the channel list is inserted second
        if self.injected > 0 and self.rule == HEAD:
            return names[: len(names) - self.injected]  # appended: reg_max, end2end, channels
        if self.injected < 0:
            return ["c2 (output channels)"] + names
        return names

    def signature(self) -> str:
        parts = [p.name if p.required else f"{p.name}={p.default}" for p in self.params]
        if self.varargs:
            parts.append("...")
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class _ClassSource:
    name: str
    bases: tuple
    params: tuple | None  # None: no __init__ of its own
    varargs: bool
    doc: str
    file: str


def _package_dir(name: str) -> Path | None:
    """Where a top-level package is installed, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _read_classes(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        params, varargs = None, False
        if init is not None:
            params, varargs = init_parameters(init.args)
        doc = (ast.get_docstring(node) or "").strip().splitlines()
        bases = tuple(b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases)
        out[node.name] = _ClassSource(node.name, bases, params, varargs, doc[0] if doc else "", path.stem)
    return out


def init_parameters(args: ast.arguments) -> tuple:
    """(Params, whether it takes *args/**kwargs) of an ``__init__``'s arguments (``self`` left out)."""
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = []
    for a, d in zip(positional[1:], defaults[1:]):  # skip self
        params.append(Param(a.arg, ast.unparse(d) if d is not None else None,
                            ast.unparse(a.annotation) if a.annotation else ""))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        params.append(Param(a.arg, ast.unparse(d) if d is not None else None))
    return tuple(params), bool(args.vararg or args.kwarg)


def _resolve_init(name: str, classes: dict, depth: int = 0) -> tuple:
    """Parameters of a class, following bases that are defined in the same sources."""
    cls = classes.get(name)
    if cls is None or depth > 10:
        return (), True
    if cls.params is not None:
        return cls.params, cls.varargs
    for base in cls.bases:
        if base in classes:
            return _resolve_init(base, classes, depth + 1)
    return (), False  # nn.Module.__init__ takes no arguments


def _all_names(init_file: Path) -> list:
    """The ``__all__`` list of a package ``__init__``."""
    tree = ast.parse(init_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    return []


@dataclass(frozen=True)
class UltralyticsSources:
    """What the catalog learned from the installed Ultralytics' ``tasks.py``."""

    importable: frozenset  # names parse_model resolves by bare name
    base_modules: frozenset
    repeat_modules: frozenset


def read_tasks(tasks_file: Path) -> UltralyticsSources:
    tree = ast.parse(tasks_file.read_text(encoding="utf-8"))
    importable = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ultralytics.nn.modules"):
            importable.update(a.asname or a.name for a in node.names)
    parse_model = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "parse_model"), None)
    if parse_model is None:
        return UltralyticsSources(frozenset(importable), frozenset(), frozenset())
    base = model_dict.set_names(parse_model, "base_modules")
    repeat = model_dict.set_names(parse_model, "repeat_modules")
    return UltralyticsSources(frozenset(importable), frozenset(base), frozenset(repeat))


def _category(name: str, file: str) -> str:
    if file == "head" or name in _DETECT_LIKE or name in ("Classify", "RTDETRDecoder"):
        return "head"
    if _ATTENTION.search(name):
        return "attention"
    if file == "transformer":
        return "transformer"
    if file == "conv":
        return "conv"
    return "block"


def _ultralytics_rule(name: str, src: UltralyticsSources) -> tuple:
    """(rule, injected, multi_input) for a module Ultralytics knows."""
    if name in src.base_modules:
        return (REPEAT, 2, False) if name in src.repeat_modules else (BASE, 1, False)
    if name in _DETECT_LIKE:
        return HEAD, 3, True
    if name in _SPECIAL:
        injected, rule, multi = _SPECIAL[name]
        return rule, injected, multi
    return PASSTHROUGH, 0, False


class Catalog:
    """Blocks by YAML name, plus lookups that validation and the palette need."""

    def __init__(self, blocks: dict, versions: dict | None = None):
        self.blocks = dict(blocks)
        self.versions = versions or {}

    def get(self, name: str) -> BlockInfo | None:
        """The block a YAML name resolves to (Ultralytics accepts ``nn.X``, not ``torch.nn.X``)."""
        return self.blocks.get(name)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        return len(self.blocks)

    def by_category(self) -> dict:
        out = {c: [] for c in CATEGORIES}
        for block in sorted(self.blocks.values(), key=lambda b: b.name.lower()):
            out.setdefault(block.category, []).append(block)
        return out

    def with_blocks(self, blocks) -> "Catalog":
        """A new catalog with extra (custom) blocks. They win over Ultralytics blocks that only the
        studio can place (a user's own CBAM), not over those ``parse_model`` resolves by name: a
        ``Conv`` helper in a block file does not change what a YAML ``Conv`` row builds."""
        merged = dict(self.blocks)
        merged.update({b.name: b for b in blocks
                       if b.name not in self.blocks or self.blocks[b.name].source == STUDIO_BUILT
                       or self.blocks[b.name].category == "custom"})
        return Catalog(merged, self.versions)

    def suggest(self, name: str) -> list:
        """Close names for a misspelled module."""
        import difflib

        return difflib.get_close_matches(name, list(self.blocks), n=3, cutoff=0.6)


def _version(package_dir: Path | None) -> str:
    if package_dir is None:
        return ""
    try:
        from importlib.metadata import version

        return version(package_dir.name)
    except Exception:
        return ""


@functools.lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """The blocks of the installed Ultralytics, torch.nn and torchvision.ops (cached per process)."""
    blocks: dict = {}
    ul = _package_dir("ultralytics")
    if ul is not None:
        src = read_tasks(ul / "nn" / "tasks.py")
        classes = {}
        for file in sorted((ul / "nn" / "modules").glob("*.py")):
            classes.update(_read_classes(file))
        for name in sorted(src.importable):
            if name not in classes:
                continue
            params, varargs = _resolve_init(name, classes)
            rule, injected, multi = _ultralytics_rule(name, src)
            blocks[name] = BlockInfo(name, _category(name, classes[name].file), rule, params, varargs,
                                     classes[name].doc, "ultralytics", injected, multi)
        # Exported by ultralytics.nn.modules but unknown to parse_model (CBAM, TransformerBlock, ...):
        # the studio builds them like custom blocks, with the channel rule their signature implies.
        for name in _all_names(ul / "nn" / "modules" / "__init__.py"):
            if name in blocks or name not in classes:
                continue
            params, varargs = _resolve_init(name, classes)
            rule = block_layouts.infer_layout([p.name for p in params])
            info = BlockInfo(name, _category(name, classes[name].file), rule, params, varargs, classes[name].doc,
                             STUDIO_BUILT, common=False)
            blocks[name] = block_with_rule(info, rule, certain=False)
    torch_dir = _package_dir("torch")
    if torch_dir is not None:
        nn_dir = torch_dir / "nn" / "modules"
        classes = {}
        for stem in _TORCH_FILES:
            if (nn_dir / f"{stem}.py").exists():
                classes.update(_read_classes(nn_dir / f"{stem}.py"))
        for name in _all_names(nn_dir / "__init__.py"):
            params, varargs = _resolve_init(name, classes) if name in classes else ((), True)
            yaml_name = f"nn.{name}"
            rule, injected = PASSTHROUGH, 0
            if ul is not None and yaml_name in src.base_modules:
                rule, injected = BASE, 1
            elif name == "BatchNorm2d":
                rule, params, varargs = SPECIAL, (), True  # parse_model replaces its args with [c1]
            doc = classes[name].doc if name in classes else ""
            blocks[yaml_name] = BlockInfo(yaml_name, "torch.nn", rule, params, varargs, doc, "torch", injected,
                                          False, name in COMMON_TORCH)
    tv_dir = _package_dir("torchvision")
    if tv_dir is not None and (tv_dir / "ops" / "__init__.py").exists():
        for name in _all_names(tv_dir / "ops" / "__init__.py"):
            if name[:1].isupper():  # classes only; functions cannot be layers
                blocks[f"torchvision.ops.{name}"] = BlockInfo(f"torchvision.ops.{name}", "torchvision", PASSTHROUGH,
                                                              (), True, "", "torchvision", 0, False, False)
    versions = {"ultralytics": _version(ul), "torch": _version(torch_dir), "torchvision": _version(tv_dir)}
    return Catalog(blocks, versions)


def block_with_rule(block: BlockInfo, rule: str, certain: bool = True) -> BlockInfo:
    """A custom block's info under a layout (or earlier rule name); the injected count follows it.

    ``certain=False``: the layout was read from the signature and may change when the block is
    built on its real inputs, so validation does not count its arguments.
    """
    layout = block_layouts.ALIASES.get(rule, block_layouts.split_layout(rule)[0])
    injected = block_layouts.INJECTED.get(layout, 0)
    # c1, base, repeat, ... take the first input's channels (c1[k]: input k's) and accept one or several
    multi = True if layout in block_layouts.MULTI_INPUT or rule == CONCAT else None
    if layout == "c1-only":  # the YAML's arguments are dropped: any count will do
        return replace(block, rule=rule, injected=0, multi_input=multi, certain=certain, params=(), varargs=True)
    return replace(block, rule=rule, injected=injected, multi_input=multi, certain=certain)


def studio_built_blocks(module_names) -> dict:
    """``{name: (class, None)}`` for Ultralytics blocks that parse_model cannot resolve itself: the
    studio reads their call from the signature and the row, as for an undeclared custom block."""
    catalog = builtin_catalog()
    wanted = {n for n in module_names if (b := catalog.get(n)) is not None and b.source == STUDIO_BUILT}
    if not wanted:
        return {}
    from ultralytics.nn import modules

    return {name: (getattr(modules, name), None) for name in wanted}
