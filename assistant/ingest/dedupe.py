"""Deciding which paper a title belongs to: the same normalised title, or a spelling variant.

Two versions of a paper whose titles differ only by spelling (`colours`/`colors`,
`modelling`/`modeling`) are merged into one paper; the other spelling is kept as an alias.
Real titles also differ by one letter between different papers (Video-LLaMA / Video-LLaVA),
so a spelling-variant merge also needs the abstracts to agree, or one of them to be missing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from assistant.core.records import paper_id

_DIGITS = re.compile(r"\d+")
# Two versions of one paper's abstract (v1 and v2 on two pages, one cut short) share most of
# their words: rapidfuzz's token-set ratio is 86 for the sample's colours/colors pair and 100
# for a cut-short copy, while 20,000 pairs of different sample papers score at most 65.
SAME_ABSTRACT = 75.0


def allowed_edits(key: str) -> int:
    """Edits tolerated between spellings: none for short titles, one per 40 characters else.

    Short titles ("Continuous Thought Machines") are too easy to confuse with a different
    paper one letter away, so they must match exactly.
    """
    return 0 if len(key) < 30 else max(1, len(key) // 40)


def abstracts_agree(first: str | None, second: str | None) -> bool:
    """Whether two abstracts can be the same paper's: mostly the same words (one may be cut
    short or revised), or one of them missing."""
    a, b = " ".join((first or "").split()).casefold(), " ".join((second or "").split()).casefold()
    return not a or not b or fuzz.token_set_ratio(a, b) >= SAME_ABSTRACT


class TitleMatcher:
    """Resolves normalised titles to paper ids, remembering every title it has resolved.
    `abstract_of` gives a known paper's abstract by id, to check a spelling-variant merge."""

    def __init__(self, known: dict[str, str], abstract_of: Callable[[str], str | None] = lambda _: None) -> None:
        self._ids = dict(known)
        self._abstract_of = abstract_of
        self._abstracts: dict[str, str] = {}  # papers resolved in this run, by id
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for key in known:
            self._by_length[len(key)].append(key)

    def resolve(self, key: str, abstract: str | None = None) -> str:
        """The id of the paper this title (with this abstract) belongs to; a new id if it is a
        new paper."""
        if key in self._ids:
            return self._ids[key]
        found = self._variant_of(key, abstract)
        pid = self._ids[found] if found else paper_id(key)
        self._ids[key] = pid
        self._by_length[len(key)].append(key)
        if abstract:
            self._abstracts.setdefault(pid, abstract)
        return pid

    def learn(self, key: str, pid: str) -> None:
        """This title belongs to that paper (known by its arXiv id or DOI), whatever it reads."""
        if key not in self._ids:
            self._ids[key] = pid
            self._by_length[len(key)].append(key)

    def _variant_of(self, key: str, abstract: str | None) -> str | None:
        edits = allowed_edits(key)
        if edits == 0:
            return None
        candidates = [k for size in range(len(key) - edits, len(key) + edits + 1) for k in self._by_length.get(size, [])]
        for candidate, _, _ in process.extract(key, candidates, scorer=Levenshtein.distance, score_cutoff=edits,
                                               limit=None):
            # "Llama 2" and "Llama 3" are different papers: numbers must agree exactly.
            if _DIGITS.findall(candidate) != _DIGITS.findall(key):
                continue
            pid = self._ids[candidate]
            known = self._abstracts.get(pid) or self._abstract_of(pid)
            if abstracts_agree(known, abstract):
                return str(candidate)
        return None
