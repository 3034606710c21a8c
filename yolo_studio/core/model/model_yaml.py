"""Reading and writing model YAML text while keeping what the user wrote.

Loading is two-phase: PyYAML (the reader Ultralytics uses) composes the text into nodes, which
give every key and row its line numbers; those become plain ``Row`` values plus a ``Layout`` of
the raw text around them (comments, blank lines, the exact spelling of unchanged entries).
Writing emits unchanged rows and header entries byte-for-byte from that layout, and only
regenerates, in Ultralytics' flow style, what an edit changed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from yolo_studio.core.errors import ModelYamlError
from yolo_studio.core.model.yaml_text import flow

SECTIONS = ("backbone", "head")


@dataclass(frozen=True)
class RowSource:
    """The text a row was read from, and the values it had then."""

    text: str  # whole lines, including indentation, dash and trailing comment
    values: tuple
    line: int = 0  # 1-based line number in the file it was read from


@dataclass(frozen=True)
class Row:
    """One ``[from, repeats, module, args]`` row. ``None`` in ``from`` marks an unconnected input."""

    from_: int | list | None
    repeats: int
    module: str
    args: list
    comment: str = ""  # trailing comment, e.g. "# 0-P1/2"
    leading: str = ""  # comment and blank lines written above the row
    source: RowSource | None = field(default=None, compare=False, repr=False)

    def values(self) -> tuple:
        return (self.from_, self.repeats, self.module, self.args)

    def as_list(self) -> list:
        """The row as Ultralytics reads it (a fresh copy the caller may mutate)."""
        return [copy.deepcopy(self.from_), self.repeats, self.module, copy.deepcopy(self.args)]

    def inputs(self) -> list:
        """The references of this row, always as a list."""
        return list(self.from_) if isinstance(self.from_, list) else [self.from_]


@dataclass
class HeaderEntry:
    """Raw text of one top-level key that is not a row section."""

    text: str  # from the key line to the end of its value
    value: object  # the value when read
    sub_entries: dict = field(default_factory=dict)  # for block mappings: sub-key -> HeaderEntry
    prelude: str = ""  # block mappings: key line and comment lines before the first sub-key


@dataclass
class Layout:
    """Everything about the file's text that is not a value."""

    order: list = field(default_factory=list)  # top-level keys in file order
    leading: dict = field(default_factory=dict)  # key -> comment/blank lines above it
    header: dict = field(default_factory=dict)  # key -> HeaderEntry
    section_line: dict = field(default_factory=dict)  # "backbone" -> "backbone: # comment\n"
    section_tail: dict = field(default_factory=dict)  # text after a section's last row
    row_indent: str = "  "
    trailer: str = ""


@dataclass
class ParsedModel:
    header: dict
    rows: list
    head_start: int
    layout: Layout


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _leading_start(lines: list, key_line: int, floor: int) -> int:
    """First line of the run of comment/blank lines directly above ``key_line`` (not below ``floor``)."""
    start = key_line
    while start - 1 >= floor and _is_blank_or_comment(lines[start - 1]):
        start -= 1
    return start


def _trailing_comment(line: str, column: int) -> str:
    rest = line[column:].strip()
    return rest if rest.startswith("#") else ""


# PyYAML's wording -> what a user can act on.
_PLAIN_YAML_PROBLEMS = (
    ("expected <block end>", "this line is indented differently from the lines above it"),
    ("expected ',' or ']'", "a '[' is not closed by a matching ']'"),
    ("expected ',' or '}'", "a '{' is not closed by a matching '}'"),
    ("mapping values are not allowed", "a ':' where YAML does not expect one (a missing space, or a value to quote)"),
    ("could not find expected ':'", "a key without ':' after it"),
    ("found character '\\t'", "a tab character; YAML indents with spaces only"),
)


def _extra_closing(line: str) -> str | None:
    """The bracket a line closes more often than it opens (``]]`` where one ``]`` ends the row), if any."""
    code = line.split(" #", 1)[0]
    for opening, closing in (("[", "]"), ("{", "}")):
        if code.count(closing) > code.count(opening):
            return closing
    return None


def _yaml_error(exc: yaml.YAMLError, file: str, text: str = "") -> ModelYamlError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    plain = next((text for key, text in _PLAIN_YAML_PROBLEMS if key in problem), None)
    lines = text.splitlines()
    if plain and "indented differently" in plain and mark is not None and mark.line < len(lines):
        extra = _extra_closing(lines[mark.line])
        if extra:  # PyYAML reads the row as ended and then meets the extra bracket as a misplaced token
            plain = f"this line has one '{extra}' more than it opens: delete the extra '{extra}'"
    if plain and "is not closed" in plain and getattr(exc, "context_mark", None) is not None:
        mark = exc.context_mark  # the line the bracket opens on, not the line where PyYAML gave up
    message = f"YAML syntax error: {plain or problem}"
    hint = "Check the indentation and brackets on this line; every row is [from, repeats, module, args]."
    return ModelYamlError(message, file=file, line=mark.line + 1 if mark else None, hint=hint)


def _first_unreadable_character(text: str):
    """(line, 'U+0000') of the first character PyYAML refuses to read, or None."""
    match = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1, f"U+{ord(match.group()):04X}"


def _deepest_line(text: str) -> int:
    """The line where bracket nesting is deepest (where a too-deep document goes wrong)."""
    depth = deepest = 0
    line = where = 1
    for char in text:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line += 1
    return where


def parse(text: str, file: str = "<text>") -> ParsedModel:
    """Parse model YAML text. Raises ``ModelYamlError`` with file, line and a hint."""
    for line_no, line in enumerate(text.splitlines(), 1):
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise ModelYamlError("a tab is used for indentation", file=file, line=line_no,
                                 hint="YAML indents with spaces only; replace the tab with spaces.")
    bad = _first_unreadable_character(text)
    if bad is not None:
        line, char = bad
        raise ModelYamlError(f"the file holds a control character ({char}) YAML does not allow", file=file,
                             line=line, hint="Remove it: is this a binary file, or text pasted from a terminal?")
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, text) from None
    except RecursionError:
        raise ModelYamlError("brackets or indentation nested too deeply to read", file=file,
                             line=_deepest_line(text), hint="A model row is [from, repeats, module, args]: a "
                             "few levels of nesting at most.") from None
    finally:
        loader.dispose()
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ModelYamlError(
            "a model YAML must be a mapping with 'backbone' and 'head' keys",
            file=file,
            line=root.start_mark.line + 1 if root is not None else 1,
            hint="Start from a template, e.g. 'nc: 80', then 'backbone:' and 'head:' lists of rows.",
        )
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return _Reader(lines, file).read(root, data)


class _Reader:
    def __init__(self, lines: list, file: str):
        self.lines = lines
        self.file = file

    def text(self, start: int, end: int) -> str:
        return "".join(self.lines[start:end])

    def read(self, root: yaml.MappingNode, data: dict) -> ParsedModel:
        layout = Layout()
        header: dict = {}
        sections: dict = {}
        pairs = root.value
        key_lines = [k.start_mark.line for k, _ in pairs]
        floor = 0
        for n, (knode, vnode) in enumerate(pairs):
            key = knode.value
            if key in layout.order:
                raise ModelYamlError(f"key '{key}' appears twice", file=self.file, line=knode.start_mark.line + 1,
                                     hint="Keep one of them.")
            start = _leading_start(self.lines, key_lines[n], floor)
            nxt = _leading_start(self.lines, key_lines[n + 1], key_lines[n] + 1) if n + 1 < len(pairs) else None
            end = nxt if nxt is not None else self._content_end(key_lines[n])
            layout.order.append(key)
            layout.leading[key] = self.text(start, key_lines[n])
            if key in SECTIONS:
                sections[key] = self._read_section(key, knode, vnode, data[key], end, layout)
            else:
                header[key] = data[key]
                layout.header[key] = self._read_header(knode, vnode, data[key], end)
            floor = end
        layout.trailer = self.text(floor, len(self.lines))
        missing = [s for s in SECTIONS if s not in sections]
        if missing:
            raise ModelYamlError(
                f"the model has no '{missing[0]}' section",
                file=self.file,
                line=None,
                hint=f"Add '{missing[0]}:' followed by its rows; the last head row is the output module (e.g. Detect).",
            )
        rows = sections["backbone"] + sections["head"]
        return ParsedModel(header=header, rows=rows, head_start=len(sections["backbone"]), layout=layout)

    def _content_end(self, key_line: int) -> int:
        end = len(self.lines)
        while end - 1 > key_line and _is_blank_or_comment(self.lines[end - 1]):
            end -= 1
        return end

    def _last_line(self, node) -> int:
        """The last line holding part of ``node`` (block nodes end where the next token starts)."""
        end, start = node.end_mark, node.start_mark.line
        last = end.line
        if last > start and not self.lines[last][: end.column].strip():
            last -= 1
        while last > start and _is_blank_or_comment(self.lines[last]):
            last -= 1
        return last

    def _read_header(self, knode, vnode, value, end: int) -> HeaderEntry:
        start = knode.start_mark.line
        entry = HeaderEntry(text=self.text(start, end), value=copy.deepcopy(value))
        if isinstance(vnode, yaml.MappingNode) and not vnode.flow_style and vnode.value:
            sub_lines = [k.start_mark.line for k, _ in vnode.value]
            first = _leading_start(self.lines, sub_lines[0], start + 1)
            entry.prelude = self.text(start, first)
            floor = first
            for n, (sk, _sv) in enumerate(vnode.value):
                nxt = _leading_start(self.lines, sub_lines[n + 1], sub_lines[n] + 1) if n + 1 < len(sub_lines) else end
                sub_value = value.get(sk.value) if isinstance(value, dict) else None
                entry.sub_entries[sk.value] = HeaderEntry(text=self.text(floor, nxt), value=copy.deepcopy(sub_value))
                floor = nxt
        return entry

    def _read_section(self, key, knode, vnode, value, end: int, layout: Layout) -> list:
        key_line = knode.start_mark.line
        if value is None:
            value = []
        if not isinstance(value, list):
            raise ModelYamlError(f"'{key}' must be a list of rows", file=self.file, line=key_line + 1,
                                 hint="Write each row on its own line as '- [from, repeats, module, args]'.")
        rows = []
        row_nodes = vnode.value if isinstance(vnode, yaml.SequenceNode) else []
        block_style = isinstance(vnode, yaml.SequenceNode) and not vnode.flow_style
        prev_end = key_line + 1
        for n, (rnode, rvalue) in enumerate(zip(row_nodes, value)):
            line = rnode.start_mark.line
            check_row(rvalue, key, n, self.file, line + 1)
            comment, leading, source = "", "", None
            if block_style and line >= prev_end:
                last = self._last_line(rnode)
                comment = _trailing_comment(self.lines[last], rnode.end_mark.column) if last == rnode.end_mark.line else ""
                leading = self.text(prev_end, line)
                source = RowSource(self.text(line, last + 1), _row_values(rvalue), line + 1)
                if n == 0:
                    indent_end = len(self.lines[line]) - len(self.lines[line].lstrip())
                    layout.row_indent = self.lines[line][:indent_end]
                prev_end = last + 1
            if source is None:
                source = RowSource("", (), line + 1)  # flow-style section: only the line is kept
            rows.append(Row(rvalue[0], rvalue[1], rvalue[2], rvalue[3], comment, leading, source))
        if block_style:
            layout.section_line[key] = self.text(key_line, key_line + 1)
            layout.section_tail[key] = self.text(prev_end, end)
        else:  # a flow-style section is rewritten one row per line
            layout.section_line[key] = f"{key}:\n"
            layout.section_tail[key] = ""
        return rows


def _row_values(row: list) -> tuple:
    return (copy.deepcopy(row[0]), row[1], row[2], copy.deepcopy(row[3]))


def _valid_ref(ref) -> bool:
    return ref is None or (isinstance(ref, int) and not isinstance(ref, bool))


def check_row(row, section: str, n: int, file: str, line: int | None) -> None:
    """Refuse a row that is not ``[from, repeats, module, args]`` with the right types."""
    where = f"{section} row {n}"
    hint = "A row is [from, repeats, module, args], e.g. [-1, 1, Conv, [64, 3, 2]]."
    if not isinstance(row, list) or len(row) != 4:
        got = f"a list of {len(row)} items" if isinstance(row, list) else f"'{row}'"
        raise ModelYamlError(f"{where} must be a list of 4 items, got {got}", file=file, line=line, hint=hint)
    f, n_rep, module, args = row
    if not (_valid_ref(f) or (isinstance(f, list) and f and all(_valid_ref(x) for x in f))):
        raise ModelYamlError(f"{where}: 'from' must be a layer index or a list of them, got {f!r}", file=file,
                             line=line, hint="Use -1 for the previous layer, or [-1, 6] for several inputs.")
    if not isinstance(n_rep, int) or isinstance(n_rep, bool) or n_rep < 1:
        raise ModelYamlError(f"{where}: 'repeats' must be a whole number of at least 1, got {n_rep!r}", file=file,
                             line=line, hint=hint)
    if not isinstance(module, str) or not module:
        raise ModelYamlError(f"{where}: 'module' must be a module name, got {module!r}", file=file, line=line,
                             hint=hint)
    if not isinstance(args, list):
        raise ModelYamlError(f"{where}: 'args' must be a list, got {args!r}", file=file, line=line,
                             hint="Wrap the arguments in brackets, e.g. [64, 3, 2]; use [] for none.")


# --------------------------------------------------------------------------- writing


def same(a, b) -> bool:
    """Equal values of equal types, all the way down (``True`` is not ``1`` in a YAML file)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def row_line(row: Row, indent: str) -> str:
    """A row in Ultralytics' flow style, with its trailing comment."""
    text = f"{indent}- {flow(list(row.values()))}"
    return f"{text} {row.comment}\n" if row.comment else text + "\n"


def _kept_comment(entry: HeaderEntry | None, key) -> str:
    """The comment at the end of a one-line entry (``nc: 3 # classes``), kept when its value changes: the
    first ``#`` after which the line before it still reads as the old value."""
    if entry is None or entry.text.count("\n") > 1:
        return ""
    line = entry.text.rstrip("\n")
    for found in re.finditer(r"\s+#", line):
        try:
            if same(yaml.safe_load(line[:found.start()]), {key: entry.value}):
                return line[found.start():]
        except yaml.YAMLError:
            continue
    return ""


def _header_text(key: str, value, entry: HeaderEntry | None) -> str:
    if entry is not None and same(entry.value, value):
        return entry.text
    if isinstance(value, dict) and value:
        prelude = entry.prelude if entry is not None and entry.prelude else f"{key}:\n"
        parts = [prelude]
        for sub_key, sub_value in value.items():
            old = entry.sub_entries.get(sub_key) if entry is not None else None
            if old is not None and same(old.value, sub_value):
                parts.append(old.text)
            else:
                parts.append(f"  {flow(sub_key)}: {flow(sub_value)}{_kept_comment(old, sub_key)}\n")
        return "".join(parts)
    return f"{key}: {flow(value)}{_kept_comment(entry, key)}\n"


def write(header: dict, rows: list, head_start: int, layout: Layout, spans: dict | None = None) -> str:
    """The YAML text of a model, reusing every unchanged piece of ``layout``.

    If ``spans`` is given it is filled with ``{row index: (first line, last line)}`` (0-based).
    """
    order = [k for k in layout.order if k in header or k in SECTIONS]
    new_keys = [k for k in header if k not in order]
    first_section = min((order.index(s) for s in SECTIONS if s in order), default=len(order))
    order[first_section:first_section] = new_keys
    for section in SECTIONS:
        if section not in order:
            order.append(section)
    sections = {"backbone": rows[:head_start], "head": rows[head_start:]}
    parts = []
    lines = 0
    index = 0
    for key in order:
        leading = layout.leading.get(key, "\n" if parts else "")
        parts.append(leading)
        if key in SECTIONS:
            parts.append(layout.section_line.get(key, f"{key}:\n"))
            lines = sum(p.count("\n") for p in parts)
            index = 0 if key == "backbone" else head_start
            for row in sections[key]:
                lines += row.leading.count("\n")
                parts.append(row.leading)
                if row.source is not None and row.source.text and same(row.source.values, row.values()):
                    text = row.source.text
                else:
                    text = row_line(row, layout.row_indent)
                parts.append(text)
                if spans is not None:
                    spans[index] = (lines, lines + text.count("\n") - 1)
                lines += text.count("\n")
                index += 1
            parts.append(layout.section_tail.get(key, ""))
        else:
            parts.append(_header_text(key, header[key], layout.header.get(key)))
    parts.append(layout.trailer)
    return "".join(parts)


def read_file(path: str | Path) -> ParsedModel:
    """Read a model YAML file; errors name the file."""
    from yolo_studio.core.text_files import UnreadableText, read_text

    path = Path(path)
    if not path.exists():
        raise ModelYamlError("file not found", file=str(path), hint="Check the path.")
    try:
        text = read_text(path)
    except UnreadableText as exc:
        raise ModelYamlError(f"the file {exc.reason}", file=str(path), line=exc.line,
                             hint="A model YAML is UTF-8 text: is this the right file?") from None
    return parse(text, str(path))
