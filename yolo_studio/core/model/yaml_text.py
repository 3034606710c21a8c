"""Writing YAML values in Ultralytics' flow style, readable back by PyYAML exactly.

Ultralytics reads model YAML with PyYAML's SafeLoader (YAML 1.1), so that is the reader every
value written here must round-trip through: ``yaml.safe_load(flow(v)) == v``.
"""

from __future__ import annotations

import math
import re

import yaml

# Plain strings that need no quotes: identifiers, dotted names, simple paths.
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def safe_load(text: str):
    """Parse YAML text the way Ultralytics does."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def flow(value) -> str:
    """One value in YAML flow style: ``[-1, 1, Conv, [64, 3, 2]]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} to a model YAML: {value!r}")


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"  # YAML 1.1 floats need a dot
    if "e" in text:
        mantissa, exponent = text.split("e")
        if exponent[0] not in "+-":
            exponent = "+" + exponent  # and a signed exponent
        text = f"{mantissa}e{exponent}"
    return text


def _string(value: str) -> str:
    if _PLAIN.match(value):
        try:
            if safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return '"' + "".join(_escape(c) for c in value) + '"'


def _printable(code: int) -> bool:
    """Characters YAML allows unescaped (its 'printable' set, less line breaks and NEL)."""
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    if _printable(code):
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
