"""Themes of a page for the digest: papers grouped by meaning (k-means on the vectors ingest
stored) and each group named by the title words that set it apart (TF-IDF over the page's
titles).

Both are a few lines of numpy here rather than scikit-learn calls: importing scikit-learn
alone takes 2.4 s on a two-core laptop (scipy's clustering 0.8 s), half of what a whole digest
is meant to take, for arithmetic on a few hundred vectors.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from assistant.core.records import STEM, content_words

RESTARTS = 10  # k-means runs from different starts; the tightest grouping wins
MAX_ROUNDS = 100
NAME_TERMS = 3  # words or word pairs in a theme's name
# Words that join a title's parts rather than say what it is about.
_CONNECTIVES = frozenset("via towards toward through based beyond across within without new novel approach".split())


def theme_count(papers: int) -> int:
    """About one theme per three papers' square root: 2 for a dozen papers, 4 for 44, 8 at most."""
    return int(min(8, max(2, round((papers / 3) ** 0.5))))


def kmeans(vectors: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Labels from Lloyd's k-means with k-means++ starts, the best of `RESTARTS` runs by the
    sum of squared distances. Seeded, so a page's digest is the same every time."""
    rng = np.random.default_rng(seed)
    best_labels, best_cost = np.zeros(len(vectors), dtype=int), math.inf
    for _ in range(RESTARTS):
        centres = _plus_plus(vectors, count, rng)
        for _ in range(MAX_ROUNDS):
            distances = ((vectors[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            labels = distances.argmin(axis=1)
            moved = np.array([vectors[labels == c].mean(axis=0) if (labels == c).any() else centres[c]
                              for c in range(count)])
            if np.allclose(moved, centres):
                break
            centres = moved
        cost = float(distances[np.arange(len(vectors)), labels].sum())
        if cost < best_cost:
            best_labels, best_cost = labels, cost
    return best_labels


def _plus_plus(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ starting centres: each next one drawn with probability growing with its
    squared distance from the centres already chosen, so the starts spread over the data."""
    chosen = [vectors[rng.integers(len(vectors))]]
    for _ in range(1, count):
        nearest = np.min([((vectors - c) ** 2).sum(axis=1) for c in chosen], axis=0)
        total = nearest.sum()
        pick = rng.choice(len(vectors), p=nearest / total) if total > 0 else rng.integers(len(vectors))
        chosen.append(vectors[pick])
    return np.array(chosen)


def group(vectors: np.ndarray) -> list[list[int]]:
    """Indices of the rows grouped into themes, largest theme first (one group for fewer
    than four papers: themes of one paper say nothing)."""
    if len(vectors) < 4:
        return [list(range(len(vectors)))]
    count = theme_count(len(vectors))
    labels = kmeans(vectors, count)
    groups = [[i for i, label in enumerate(labels) if label == c] for c in range(count)]
    return sorted((g for g in groups if g), key=len, reverse=True)


def _terms(title: str) -> list[str]:
    """A title's content words and adjacent pairs of them."""
    words = [w for w in content_words(title) if w not in _CONNECTIVES]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def names(titles: list[str], groups: list[list[int]]) -> list[str]:
    """For each group, its `NAME_TERMS` highest-weighted terms by TF-IDF over the page's titles
    (smoothed IDF, each title's weights scaled to unit length, averaged over the group), a term
    inside one already chosen, or made of the same word stems ("modeling" after "models"),
    skipped; "Other papers" when the titles have no content words."""
    counts = [Counter(_terms(t)) for t in titles]
    frequency = Counter(term for c in counts for term in c)
    idf = {term: math.log((1 + len(titles)) / (1 + n)) + 1 for term, n in frequency.items()}
    weighted = []
    for c in counts:
        row = {term: n * idf[term] for term, n in c.items()}
        norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
        weighted.append({term: v / norm for term, v in row.items()})
    result = []
    for members in groups:
        totals: Counter[str] = Counter()
        for i in members:
            totals.update(weighted[i])
        chosen: list[str] = []
        said: set[str] = set()
        # highest weight first; equal weights in alphabetical order, so names are stable
        for term, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
            term_stems = {word[:STEM] for word in term.split()}
            if not any(term in c or c in term for c in chosen) and not term_stems <= said:
                chosen.append(term)
                said |= term_stems
            if len(chosen) == NAME_TERMS:
                break
        result.append(", ".join(chosen).capitalize() if chosen else "Other papers")
    return result
