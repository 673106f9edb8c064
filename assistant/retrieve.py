"""Hybrid retrieval: BM25 (SQLite FTS5) and dense (Chroma) ranked lists, fused with
reciprocal-rank fusion at the paper level, plus a relevance signal for "not covered".
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.papers import Hit
from assistant.store import Store

RRF_K = 60  # the usual constant: damps the head of each list so neither ranker dominates
# Cosine similarity (all-MiniLM-L6-v2) below which no passage is really about the question.
# Measured on the bundled collection: the 26 questions in tests/data score 0.40-0.83 for their
# paper; off-topic questions (cooking, sport, tax law, travel) score 0.15-0.24.
COVERAGE_THRESHOLD = 0.35


@dataclass(frozen=True)
class SearchResult:
    """Ranked papers, and whether the collection covers the query at all."""

    query: str
    hits: list[Hit]
    best_similarity: float
    threshold: float = COVERAGE_THRESHOLD

    @property
    def covered(self) -> bool:
        return self.best_similarity >= self.threshold

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "covered": self.covered,
            "best_similarity": round(self.best_similarity, 4),
            "threshold": self.threshold,
            "hits": [hit.to_json() for hit in self.hits],
        }


def _dense(store: Store, query: str, pool: int, allowed: set[str] | None,
           only: set[str] | None) -> tuple[list[str], dict[str, tuple[float, str]]]:
    """Papers ranked by their best passage's similarity, with that similarity and passage."""
    vector = store.embedder.embed_queries([query])[0]
    best: dict[str, tuple[float, str]] = {}
    for hit in store.vectors.query(vector, pool * 4, only):
        if allowed is not None and hit.paper_id not in allowed:
            continue
        if hit.paper_id not in best or hit.similarity > best[hit.paper_id][0]:
            best[hit.paper_id] = (hit.similarity, hit.text)
    ranked = sorted(best, key=lambda pid: best[pid][0], reverse=True)
    return ranked, best


def search(store: Store, query: str, k: int = 5, since: str | None = None, until: str | None = None,
           only: set[str] | None = None) -> SearchResult:
    """The `k` papers that best match `query`, optionally published within [since, until]
    and/or limited to the papers in `only` (a question scoped to one paper)."""
    pool = max(50, k * 10)
    allowed = store.catalog.ids_in_range(since, until) if since or until else None
    if only is not None:
        allowed = set(only) if allowed is None else allowed & set(only)
    keyword = [pid for pid in store.catalog.bm25(query, pool, since, until) if allowed is None or pid in allowed]
    dense, best = _dense(store, query, pool, allowed, only)
    scores: dict[str, float] = {}
    for ranking in (keyword, dense):
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    ordered = sorted(scores, key=lambda pid: (-scores[pid], pid))
    papers = store.catalog.papers(ordered[: k * 2])  # vectors of just-deleted papers are skipped
    top = [pid for pid in ordered if pid in papers][:k]
    keyword_rank = {pid: rank for rank, pid in enumerate(keyword, start=1)}
    dense_rank = {pid: rank for rank, pid in enumerate(dense, start=1)}
    hits = [
        Hit(
            paper=papers[pid], score=scores[pid], similarity=best[pid][0] if pid in best else None,
            bm25_rank=keyword_rank.get(pid), dense_rank=dense_rank.get(pid), passage=best[pid][1] if pid in best else None,
        )
        for pid in top
    ]
    best_similarity = max((sim for sim, _ in best.values()), default=0.0)
    return SearchResult(query=query, hits=hits, best_similarity=best_similarity)
