"""Reading a user's file as text: size cap, binary detection, UTF-8 with a Latin fallback."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.core.errors import SourceError

# A saved listing page is tens to hundreds of kB; anything this big is not one, and reading it
# whole would only waste memory and time.
MAX_PAGE_BYTES = 32 * 1024 * 1024
# C0 and C1 control characters other than newline, carriage return, tab and form feed
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def read_bytes(path: Path, limit: int) -> bytes:
    """Read at most `limit` bytes, refusing larger files instead of hanging on them."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    if size > limit:
        raise SourceError(path, f"too large ({size / 1e6:.0f} MB, limit {limit / 1e6:.0f} MB)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from exc


def decode(path: Path, data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else Windows-1252/Latin-1; reject what is not text.

    Pages saved by older tools or on Windows are often Latin-1/cp1252; those are real pages and
    must be read. Bytes that only decode into control characters are not.
    """
    if not data.strip():
        raise SourceError(path, "empty file")
    if b"\x00" in data[:65536]:
        raise SourceError(path, "binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = len(_CONTROLS.findall(text))
    if controls > max(2, len(text) // 200):
        raise SourceError(path, "undecodable: not UTF-8 or Latin-1 text")
    return text


def read_text(path: Path, limit: int = MAX_PAGE_BYTES) -> str:
    """Read and decode a text file, with line endings normalised to `\\n`."""
    text = decode(path, read_bytes(path, limit))
    return text.replace("\r\n", "\n").replace("\r", "\n")
