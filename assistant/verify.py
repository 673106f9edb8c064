"""Sentence-level citation checking: every answer sentence must cite a source it was given
and be supported by that source, or it is not shown as fact.

Support means: close in meaning to something the cited source says (embedding similarity),
made mostly of words the source uses, and every number in it present in the source. The
checks are deliberately strict; a dropped true sentence costs less than a shown invented one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.embed import Embedder
from assistant.evidence import Source, stems
from assistant.papers import content_words, split_sentences

_CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
# Support = mean of (cosine similarity to the closest sentence of a cited source) and (share of
# the sentence's content words the source uses). A faithful paraphrase of a long source
# sentence scores ~0.5 similarity but high overlap; an invented sentence about the same topic
# scores high similarity but low overlap. Both floors must hold as well.
SUPPORT_THRESHOLD = 0.7
MIN_SIMILARITY = 0.5
MIN_OVERLAP = 0.6
MIN_CONTENT_WORDS = 4  # fragments such as "Our experimental results." state nothing checkable
CITATION_MARGIN = 0.05  # another source must support a sentence this much better to take its citation


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, what it cites, and whether it passed verification."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    similarity: float = 0.0
    reason: str | None = None
    origin: str = "model"  # "model" (generated) or "evidence" (quoted from a source)
    corrected_from: tuple[int, ...] = ()  # the citation the model gave, when it was wrong

    def render(self) -> str:
        marks = "".join(f"[{n}]" for n in self.citations)
        return f"{self.text} {marks}".strip()

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "citations": list(self.citations), "supported": self.supported,
                "similarity": round(self.similarity, 4), "reason": self.reason, "origin": self.origin,
                "corrected_from": list(self.corrected_from)}


def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """Answer text → sentences with the source numbers each one cites.

    A citation applies to the sentences between the previous citation and itself, so
    "A. B [1]." gives both A and B the citation [1].
    """
    claims: list[tuple[str, tuple[int, ...]]] = []
    position = 0
    pending: list[str] = []
    for match in _CITATION.finditer(answer):
        text = answer[position : match.start()]
        numbers = tuple(dict.fromkeys(int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))))
        pending.extend(split_sentences(text))
        if pending:
            claims.extend((sentence, numbers) for sentence in pending)
            pending = []
        elif claims:  # "[1][2]": a second marker for the same sentence
            last_text, last_numbers = claims[-1]
            claims[-1] = (last_text, tuple(dict.fromkeys(last_numbers + numbers)))
        position = match.end()
    pending.extend(split_sentences(answer[position:]))
    claims.extend((sentence, ()) for sentence in pending)
    cleaned = [(text.strip(" .;,:").strip(), numbers) for text, numbers in claims]
    return [(text if text.endswith((".", "!", "?")) else text + ".", numbers) for text, numbers in cleaned
            if any(ch.isalnum() for ch in text)]


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class _Support:
    score: float
    similarity: float
    overlap: float
    missing_number: str | None

    @property
    def passes(self) -> bool:
        return (self.missing_number is None and self.similarity >= MIN_SIMILARITY and self.overlap >= MIN_OVERLAP
                and self.score >= SUPPORT_THRESHOLD)


class Checker:
    """Verifies sentences against a fixed set of sources, embedding each source only once."""

    def __init__(self, embedder: Embedder, sources: Sequence[Source]) -> None:
        self.embedder = embedder
        self.sources = {source.number: source for source in sources}
        # A source's title is left out of what a sentence is compared with: restating a title
        # ("X: a framework for Y is ...") must not count as support for what follows it.
        self._sentences = {n: s.all_sentences()[1:] for n, s in self.sources.items()}
        self._titles = {n: stems(s.paper.title) for n, s in self.sources.items()}
        flat = [sentence for n in self.sources for sentence in self._sentences[n]]
        vectors = np.array(embedder.embed_queries(flat)) if flat else np.zeros((0, 1))
        self._vectors: dict[int, np.ndarray] = {}
        start = 0
        for number in self.sources:
            count = len(self._sentences[number])
            self._vectors[number] = vectors[start : start + count]
            start += count
        self._stems = {n: stems(" ".join(self._sentences[n])) for n in self.sources}
        self._numbers = {n: numbers_in(" ".join(s.all_sentences())) for n, s in self.sources.items()}

    def _support(self, number: int, vector: np.ndarray, words: set[str], numbers: set[str]) -> _Support:
        similarity = float((self._vectors[number] @ vector).max()) if len(self._vectors[number]) else 0.0
        extra = words - self._titles[number]
        if len(extra) < MIN_CONTENT_WORDS // 2:
            return _Support(0.0, similarity, 0.0, None)  # says nothing beyond the title
        overlap = len(extra & self._stems[number]) / len(extra)
        missing = sorted(numbers - self._numbers[number])
        return _Support((similarity + overlap) / 2, similarity, overlap, missing[0] if missing else None)

    def check(self, text: str, citations: Sequence[int], origin: str = "model") -> Claim:
        """Verify one sentence; a supported sentence that cites the wrong given source gets the
        source that supports it best (small models often mix up source numbers)."""
        cited = tuple(citations)
        if not cited:
            return Claim(text, cited, False, reason="cites no source", origin=origin)
        unknown = [n for n in cited if n not in self.sources]
        if unknown:
            return Claim(text, cited, False, reason=f"cites [{unknown[0]}], which was not given", origin=origin)
        if len(content_words(text)) < MIN_CONTENT_WORDS:
            return Claim(text, cited, False, reason="too short to state anything", origin=origin)
        vector = np.array(self.embedder.embed_queries([text])[0])
        words, numbers = stems(text), numbers_in(text)
        support = {n: self._support(n, vector, words, numbers) for n in self.sources}
        best = max(support, key=lambda n: (support[n].passes, support[n].score))
        own = max(cited, key=lambda n: (support[n].passes, support[n].score))
        if support[own].passes and support[own].score >= support[best].score - CITATION_MARGIN:
            return Claim(text, cited, True, support[own].similarity, origin=origin)
        if support[best].passes:
            return Claim(text, (best,), True, support[best].similarity, origin=origin, corrected_from=cited)
        failed = support[own]
        if failed.missing_number is not None:
            reason = f"the number {failed.missing_number} is not in the cited source"
        else:
            reason = f"not supported by the cited source (similarity {failed.similarity:.2f}, word overlap {failed.overlap:.0%})"
        return Claim(text, cited, False, failed.similarity, reason=reason, origin=origin)


def verify(embedder: Embedder, answer: str, sources: list[Source]) -> list[Claim]:
    """Check every sentence of a generated answer."""
    claims = split_claims(answer)
    if not claims:
        return []
    checker = Checker(embedder, sources)
    return [checker.check(text, citations) for text, citations in claims]
