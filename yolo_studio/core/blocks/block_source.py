"""Block source files: templates for new blocks, and editing a class's declared channel rule.

Pure text operations (``ast`` finds the class; the user's formatting is kept).
"""

from __future__ import annotations

import ast
import re

TEMPLATES = {
    "attention (keeps channels, rule c1)": ('''import torch
import torch.nn as nn


class {name}(nn.Module):
    """Channel attention: reweights the input's channels; output channels = input channels."""

    def __init__(self, c1, reduction=16):
        super().__init__()
        hidden = max(c1 // reduction, 4)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c1, hidden, 1), nn.SiLU(),
                                  nn.Conv2d(hidden, c1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.gate(x)
''', "Attention"),
    "conv-like (sets channels, rule base)": ('''import torch.nn as nn


class {name}(nn.Module):
    """Conv -> BatchNorm -> SiLU; the YAML's first argument (c2) is width-scaled like Conv's."""

    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))
''', "ConvBlock"),
    "C2f-like stack (repeats, rule repeat)": ('''import torch
import torch.nn as nn


class {name}(nn.Module):
    """Split, n bottlenecks, concatenate: Ultralytics inserts the scaled repeats as n."""

    def __init__(self, c1, c2, n=1, shortcut=True, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = nn.Conv2d(c1, 2 * self.c, 1)
        self.m = nn.ModuleList(nn.Sequential(nn.Conv2d(self.c, self.c, 3, 1, 1), nn.SiLU()) for _ in range(n))
        self.cv2 = nn.Conv2d((2 + n) * self.c, c2, 1)
        self.shortcut = shortcut

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(y[-1] + m(y[-1]) if self.shortcut else m(y[-1]))
        return self.cv2(torch.cat(y, 1))
''', "StackBlock"),
    "multi-input fusion (rule concat)": ('''import torch
import torch.nn as nn


class {name}(nn.Module):
    """Concatenate several inputs along channels; 'from' lists them, e.g. [-1, 6]."""

    channel_rule = "concat"

    def __init__(self, dim=1):
        super().__init__()
        self.dim = dim

    def forward(self, xs):
        return torch.cat(xs, self.dim)
''', "Fuse"),
}


def template_text(kind: str, name: str | None = None) -> tuple:
    """(source, class name) of a new block file from template ``kind``."""
    text, default = TEMPLATES[kind]
    name = name or default
    return text.format(name=name), name


def _class_node(tree: ast.Module, class_name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node
    raise KeyError(f"no class {class_name} in this file")


def set_channel_rule(source: str, class_name: str, rule: str | None) -> str:
    """Declare ``channel_rule = "rule"`` on a class (``None`` removes it, back to inference)."""
    tree = ast.parse(source)
    cls = _class_node(tree, class_name)
    lines = source.splitlines(keepends=True)
    existing = next((s for s in cls.body if isinstance(s, ast.Assign)
                     and any(getattr(t, "id", "") == "channel_rule" for t in s.targets)), None)
    if existing is not None:
        start, end = existing.lineno - 1, existing.end_lineno
        if rule is None:
            del lines[start:end]
            blank_after = start < len(lines) and not lines[start].strip()
            before = lines[start - 1].rstrip() if start > 0 else ""
            if blank_after and (not before or before.endswith(":")):  # the blank line the insert added
                del lines[start]
        else:
            indent = re.match(r"\s*", lines[start]).group(0)
            lines[start:end] = [f'{indent}channel_rule = "{rule}"\n']
        return "".join(lines)
    if rule is None:
        return source
    first = cls.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
        and isinstance(first.value.value, str)
    anchor = first.end_lineno if has_doc else first.lineno - 1
    indent = " " * (first.col_offset)
    insert = [f"\n{indent}channel_rule = \"{rule}\"\n"] if has_doc else [f'{indent}channel_rule = "{rule}"\n\n']
    lines[anchor:anchor] = insert
    return "".join(lines)
