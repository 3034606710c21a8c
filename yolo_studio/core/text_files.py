"""Reading a user's text file (model YAML, data YAML, block file, label file) with errors that say
where the file goes wrong, instead of a codec's byte offset or a traceback."""

from __future__ import annotations

from pathlib import Path


def read_text(path: str | Path) -> str:
    """The file's text as UTF-8; raises ``UnreadableText`` (a ValueError) naming the line of the first
    byte that is not UTF-8, or the reason the file cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UnreadableText(path, None, "is a folder, not a file") from None
    except FileNotFoundError:
        raise UnreadableText(path, None, "does not exist") from None
    except OSError as exc:
        raise UnreadableText(path, None, f"cannot be opened ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        kind = "a binary file, not text" if b"\0" in data[:4096] else "not UTF-8 text"
        raise UnreadableText(path, line, f"is {kind} (byte 0x{data[exc.start]:02X} on line {line})") from None


class UnreadableText(ValueError):
    def __init__(self, path: Path, line: int | None, reason: str):
        self.path, self.line, self.reason = Path(path), line, reason
        super().__init__(f"{path}: {reason}")
