"""Deciding which paper a title belongs to: the same normalised title, or a spelling variant.

Two versions of a paper whose titles differ only by spelling (`colours`/`colors`,
`modelling`/`modeling`) are merged into one paper; the other spelling is kept as an alias.
"""

from __future__ import annotations

import re
from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant.papers import paper_id

_DIGITS = re.compile(r"\d+")


def allowed_edits(key: str) -> int:
    """Edits tolerated between spellings: none for short titles, one per 40 characters else.

    Short titles ("Continuous Thought Machines") are too easy to confuse with a different
    paper one letter away, so they must match exactly.
    """
    return 0 if len(key) < 30 else max(1, len(key) // 40)


class TitleMatcher:
    """Resolves normalised titles to paper ids, remembering every title it has resolved."""

    def __init__(self, known: dict[str, str]) -> None:
        self._ids = dict(known)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for key in known:
            self._by_length[len(key)].append(key)

    def resolve(self, key: str) -> str:
        """The id of the paper this title belongs to (a new id if it is a new paper)."""
        if key in self._ids:
            return self._ids[key]
        found = self._variant_of(key)
        pid = self._ids[found] if found else paper_id(key)
        self._ids[key] = pid
        self._by_length[len(key)].append(key)
        return pid

    def _variant_of(self, key: str) -> str | None:
        edits = allowed_edits(key)
        if edits == 0:
            return None
        candidates = [k for size in range(len(key) - edits, len(key) + edits + 1) for k in self._by_length.get(size, [])]
        match = process.extractOne(key, candidates, scorer=Levenshtein.distance, score_cutoff=edits)
        if match is None:
            return None
        # "Llama 2" and "Llama 3" are different papers: numbers must agree exactly.
        if _DIGITS.findall(match[0]) != _DIGITS.findall(key):
            return None
        return str(match[0])
