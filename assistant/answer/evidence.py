"""Evidence: the numbered sources an answer may cite, each with the few sentences of its
abstract that best answer the question.

Small models are easily distracted, so they are shown only the sentences that matter; the
verifier still checks answers against each source's whole text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from assistant.core.records import Paper, content_words, quantities_in, split_sentences, stems
from assistant.core.tuning import Tuning
from assistant.core.wording import name_list
from assistant.model.embedder import Embedder
from assistant.retrieve.hybrid import SearchResult


def _authors(count: int) -> str:
    return f"{count} author{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class Source:
    """A paper given to the model under a number, with the sentences chosen from it."""

    number: int
    paper: Paper
    sentences: list[str]
    similarity: float | None = None

    def metadata_facts(self) -> dict[str, str]:
        """The catalogue's facts about the paper, each as a sentence an answer may cite; a fact
        the catalogue lacks is said to be missing rather than left out silently."""
        paper, title = self.paper, f"“{self.paper.title}”"
        authors = paper.authors
        when = paper.date or paper.date_raw
        return {
            "authors": (f"{title} is by {name_list(paper.author_names)} ({_authors(len(paper.author_names))})."
                        if paper.author_names else
                        f"{title} has {authors} author{'s' if authors != 1 else ''}." if authors is not None
                        else f"The catalogue has no author count for {title}."),
            "date": f"{title} was published on {when}." if when else f"The catalogue has no publication date for {title}.",
            "upvotes": (f"{title} has {paper.upvotes} upvotes." if paper.upvotes is not None
                        else f"The catalogue has no upvote count for {title}."),
        }

    def all_sentences(self) -> list[str]:
        """Everything the source says: title, catalogue facts and every abstract sentence."""
        return [self.paper.title, *self.metadata_facts().values(), *split_sentences(self.paper.abstract)]

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


def rank_sentences(embedder: Embedder, query: str, sentences: list[str], tuning: Tuning,
                   quantity: bool = False) -> list[float]:
    """Relevance of each sentence to the query: embedding similarity plus word overlap, so
    that a sentence with the exact term asked about (a name, a number's unit) wins ties; when
    the question asks for a quantity, sentences that state one are preferred.

    The overlap weighs each query word by how few of the sentences use it: the topic's words
    ("massive activations") are in nearly every sentence and say nothing about which one
    answers; the question's rarer words ("model family", "testbed") do."""
    if not sentences:
        return []
    similarity = cosine_matrix(embedder, [query], sentences)[0]
    wanted = stems(query)
    own = [stems(sentence) for sentence in sentences]
    weight = {w: math.log(1 + len(sentences) / (1 + sum(w in words for words in own))) for w in wanted}
    total = sum(weight.values())
    scores = []
    for sentence, words, sim in zip(sentences, own, similarity):
        overlap = sum(weight[w] for w in wanted & words) / total if total else 0.0
        # "This is the X." matches a question about X well but says nothing: short sentences
        # are discounted so that the one explaining X wins.
        brevity = min(1.0, len(content_words(sentence)) / tuning.short_sentence_words)
        bonus = tuning.quantity_bonus if quantity and quantities_in(sentence) else 0.0
        scores.append((float(sim) + tuning.lexical_weight * overlap + bonus) * brevity)
    return scores


def choose(embedder: Embedder, query: str, paper: Paper, number: int, per_source: int, tuning: Tuning, *,
           similarity: float | None = None, quantity: bool = False) -> Source:
    """The `per_source` best sentences of a paper, kept in the order they appear so the model
    reads them as prose. (Catalogue metadata is given only when asked for: see answer.py.)"""
    candidates = split_sentences(paper.abstract)
    scores = rank_sentences(embedder, query, candidates, tuning, quantity)
    best = sorted(range(len(candidates)), key=lambda i: -scores[i])[:per_source]
    return Source(number, paper, [candidates[i] for i in sorted(best)], similarity)


def select_sources(embedder: Embedder, query: str, result: SearchResult, tuning: Tuning, *, max_sources: int,
                   per_source: int, cutoff: float, quantity: bool = False) -> list[Source]:
    """Number the papers within `cutoff` similarity of the best hit and pick their evidence.
    Others must reach the coverage threshold; the best one always qualifies, as a question
    covered below the threshold (by its distinctive words) is about it."""
    ranked = [hit for hit in result.hits if hit.similarity is not None]
    if not ranked:
        return []
    best = max(hit.similarity or 0.0 for hit in ranked)
    floor = max(min(result.threshold, best), best - cutoff)
    chosen = [hit for hit in ranked if (hit.similarity or 0.0) >= floor]
    chosen = sorted(chosen, key=lambda hit: -(hit.similarity or 0.0))[:max_sources]
    return [choose(embedder, query, hit.paper, number, per_source, tuning, similarity=hit.similarity, quantity=quantity)
            for number, hit in enumerate(chosen, start=1)]
