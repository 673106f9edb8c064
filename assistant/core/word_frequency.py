"""How common a word is in English, read straight from wordfreq's data file.

Importing wordfreq costs about half a second here (it pulls in ftfy, regex and langcodes) and
building its lookup table another 0.2 s, while a question looks up a handful of words. The
data file is a gzipped msgpack list of buckets, bucket i holding the words whose frequency
is 10^(-i/100) ("cB" format); reading it takes 0.07 s, and joining each bucket into one
newline-separated text lets a lookup be a substring search instead of a 321,000-entry dict.
"""

from __future__ import annotations

import gzip
import importlib.util
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path

import msgpack

_DATA_FILE = "large_en.msgpack.gz"  # the list wordfreq's zipf_frequency(word, "en") reads


class WordFrequencyError(RuntimeError):
    """The word-frequency data is missing or in a format this reader does not know."""


@lru_cache(maxsize=1)
def _buckets() -> tuple[str, list[int]]:
    """All words, "\\n"-separated and grouped by bucket, and where each bucket starts."""
    spec = importlib.util.find_spec("wordfreq")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise WordFrequencyError("the wordfreq package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / _DATA_FILE
    with gzip.open(path, "rb") as handle:
        header, *buckets = msgpack.unpackb(handle.read(), raw=False)
    if header != {"format": "cB", "version": 1}:
        raise WordFrequencyError(f"{path} has an unknown format: {header!r}")
    starts, parts, offset = [], [], 0
    for bucket in buckets:
        starts.append(offset)
        part = "\n" + "\n".join(bucket) + "\n" if bucket else ""
        parts.append(part)
        offset += len(part)
    return "".join(parts), starts


@lru_cache(maxsize=50_000)
def english_zipf(word: str) -> float:
    """How common a word is in English (Zipf scale: 7 = "the", 1 = once per 100M words, 0 = unknown),
    as wordfreq's zipf_frequency gives it for a word of letters. A word with a digit ("27b",
    "gpt4") is 0 here: wordfreq estimates such words from digit statistics, and none of them
    reaches the everyday-word level that the callers test for."""
    key = word.casefold().replace("’", "'")
    if not key or "\n" in key:
        return 0.0
    text, starts = _buckets()
    position = text.find(f"\n{key}\n")
    if position < 0:
        return 0.0
    return round(9 - (bisect_right(starts, position) - 1) / 100, 2)
