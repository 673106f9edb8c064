"""Text from saved pages is untrusted: terminal control sequences in it (clear screen, OSC 8
hyperlinks, OSC 52 clipboard writes, bells, C1 codes) must never reach a terminal. They are
removed when a file is parsed, and again wherever text leaves the store for a screen.
"""

from __future__ import annotations

import re

# Whole escape sequences first (so no "[2J" or "]52;…" debris is left), then any single
# C0/C1 control character except newline and tab, and DEL.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: ESC [ … final byte
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI as the single C1 byte
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC … BEL or ST
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC … ST
    r"|\x1b[ -/]*[0-~]"  # any other ESC sequence
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: str) -> str:
    """`text` without terminal control sequences or control characters (newline and tab stay)."""
    if not _CONTROLS.search(text):  # every sequence starts with a control character
        return text
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def count_removed(text: str) -> int:
    """How many characters `inert` removes from `text` (for the ingest report)."""
    return len(text) - len(inert(text))


def inert_json(value: object) -> object:
    """`value` (decoded JSON) with every string in it made inert: for results saved by a
    release that did not yet strip control characters."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, list):
        return [inert_json(item) for item in value]
    if isinstance(value, dict):
        return {key: inert_json(item) for key, item in value.items()}
    return value
