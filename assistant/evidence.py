"""Evidence: the numbered sources an answer may cite, each with the few sentences of its
abstract that best answer the question.

Small models are easily distracted, so they are shown only the sentences that matter; the
verifier still checks answers against each source's whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.embed import Embedder
from assistant.papers import Paper, content_words, split_sentences
from assistant.retrieve import SearchResult

LEXICAL_WEIGHT = 0.3  # how much exact word overlap adds to embedding similarity
SHORT_SENTENCE_WORDS = 8  # content words below which a sentence rarely answers anything
RELATIVE_CUTOFF = 0.12
QUANTITY_BONUS = 0.15
STEM = 5
_QUANTITY = re.compile(
    r"\b(how (much|many|often|fast|large|big|accurate(ly)?|long|well)|by what (factor|margin)|"
    r"what (\w+ ){0,2}(share|percentage|fraction|proportion|speed-?up|accuracy|score|rate|factor|improvement|gain|error))\b",
    re.IGNORECASE)
_DIGIT = re.compile(r"\d")  # sources must be within this similarity of the best one


@dataclass(frozen=True)
class Source:
    """A paper given to the model under a number, with the sentences chosen from it."""

    number: int
    paper: Paper
    sentences: list[str]
    similarity: float | None = None

    def metadata_sentence(self) -> str:
        """The catalogue's facts about the paper, as a sentence the answer may cite."""
        parts = []
        if self.paper.authors is not None:
            parts.append(f"has {self.paper.authors} author{'s' if self.paper.authors != 1 else ''}")
        if self.paper.date or self.paper.date_raw:
            parts.append(f"was published on {self.paper.date or self.paper.date_raw}")
        return f'The paper "{self.paper.title}" {" and ".join(parts)}.' if parts else ""

    def all_sentences(self) -> list[str]:
        """Everything the source says: title, metadata and every abstract sentence."""
        return [s for s in [self.paper.title, self.metadata_sentence(), *split_sentences(self.paper.abstract)] if s]

    def block(self) -> str:
        """How the source appears in a prompt."""
        lines = [f"[{self.number}] {self.paper.title}"]
        lines += [f"- {sentence}" for sentence in self.sentences]
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {"number": self.number, "evidence": self.sentences, "similarity": self.similarity,
                **self.paper.to_json()}


def cosine_matrix(embedder: Embedder, left: list[str], right: list[str]) -> np.ndarray:
    vectors = np.array(embedder.embed_queries(left + right))
    return vectors[: len(left)] @ vectors[len(left) :].T


def stems(text: str) -> set[str]:
    """Content words cut to their first letters, so "achieves" matches "achieve"."""
    return {word[:STEM] for word in content_words(text)}


def asks_for_quantity(question: str) -> bool:
    """Whether the question wants a number (how much, how many, what speedup/accuracy...)."""
    return bool(_QUANTITY.search(question))


def rank_sentences(embedder: Embedder, query: str, sentences: list[str]) -> list[float]:
    """Relevance of each sentence to the query: embedding similarity plus word overlap, so
    that a sentence with the exact term asked about (a name, a number's unit) wins ties; when
    the question asks for a quantity, sentences that state one are preferred."""
    if not sentences:
        return []
    similarity = cosine_matrix(embedder, [query], sentences)[0]
    wanted = stems(query)
    quantity = asks_for_quantity(query)
    scores = []
    for sentence, sim in zip(sentences, similarity):
        words = content_words(sentence)
        overlap = len(wanted & stems(sentence)) / len(wanted) if wanted else 0.0
        # "This is the X." matches a question about X well but says nothing: short sentences
        # are discounted so that the one explaining X wins.
        brevity = min(1.0, len(words) / SHORT_SENTENCE_WORDS)
        bonus = QUANTITY_BONUS if quantity and _DIGIT.search(sentence) else 0.0
        scores.append((float(sim) + LEXICAL_WEIGHT * overlap + bonus) * brevity)
    return scores


def choose(embedder: Embedder, query: str, paper: Paper, number: int, per_source: int,
           similarity: float | None = None) -> Source:
    """The `per_source` best sentences of a paper (plus its metadata as a candidate), kept in
    the order they appear so the model reads them as prose."""
    candidates = split_sentences(paper.abstract)
    probe = Source(number, paper, [], similarity)
    if probe.metadata_sentence():
        candidates.append(probe.metadata_sentence())
    scores = rank_sentences(embedder, query, candidates)
    best = sorted(range(len(candidates)), key=lambda i: -scores[i])[:per_source]
    return Source(number, paper, [candidates[i] for i in sorted(best)], similarity)


def select_sources(embedder: Embedder, query: str, result: SearchResult, *, max_sources: int = 3,
                   per_source: int = 3) -> list[Source]:
    """Number the papers close enough to the best hit and pick their evidence sentences."""
    ranked = [hit for hit in result.hits if hit.similarity is not None]
    if not ranked:
        return []
    best = max(hit.similarity or 0.0 for hit in ranked)
    chosen = [hit for hit in ranked if (hit.similarity or 0.0) >= max(result.threshold, best - RELATIVE_CUTOFF)]
    chosen = sorted(chosen, key=lambda hit: -(hit.similarity or 0.0))[:max_sources]
    return [choose(embedder, query, hit.paper, number, per_source, hit.similarity)
            for number, hit in enumerate(chosen, start=1)]
