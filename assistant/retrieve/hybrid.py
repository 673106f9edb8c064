"""Hybrid retrieval: BM25 (SQLite FTS5) and dense (Chroma) ranked lists, fused with
reciprocal-rank fusion at the paper level, plus a relevance signal for "not covered".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.core.records import ASKING_WORDS, STEM, Hit, Paper, content_words, names_in, passage_text, spellings, stems
from assistant.core.tuning import Tuning
from assistant.core.word_frequency import english_zipf
from assistant.store.catalogue import Catalog
from assistant.store.data_dir import Store


def _query_words(query: str) -> list[str]:
    """The query's content words, once each, without asking words and bare numbers."""
    return [w for w in dict.fromkeys(content_words(query)) if w not in ASKING_WORDS and not w.isdigit()]


def _distinctive(frequency: dict[str, int], total: int, tuning: Tuning) -> dict[str, int]:
    return {w: n for w, n in frequency.items() if n <= tuning.distinctive_share * max(total, 1)
            and english_zipf(w) < (tuning.everyday_zipf if n else tuning.absent_everyday_zipf)}


def _rarest(frequency: dict[str, int]) -> dict[str, int]:
    used = {w: n for w, n in frequency.items() if n > 0 and len(w) > 2}
    if not used:
        return {}
    word = min(used, key=lambda w: (used[w], w))
    return {word: used[word]}


def distinctive_words(catalog: Catalog, query: str, tuning: Tuning) -> dict[str, int]:
    """The query's words that few papers use (or none) and that are not everyday English:
    what the question is about; with the number of papers using each."""
    return _distinctive(catalog.document_frequency(_query_words(query)), catalog.size(), tuning)


def rarest_word(catalog: Catalog, query: str) -> dict[str, int]:
    """The query's content word that the fewest papers use (at least one), with its count;
    empty when the query has none."""
    return _rarest(catalog.document_frequency(_query_words(query)))


def alternatives(query: str) -> dict[str, set[str]]:
    """Words offered as alternatives ("spikes or calcium imaging"): a paper that uses either
    answers the question as well as one using both."""
    pairs: dict[str, set[str]] = {}
    for left, right in re.findall(r"(\w+),? or (\w+)", query.casefold()):
        pairs.setdefault(left, set()).add(right)
        pairs.setdefault(right, set()).add(left)
    return pairs


def term_coverage(words: Iterable[str], paper: Paper, either: dict[str, set[str]] | None = None) -> float:
    """The share of `words` that a paper's title or abstract uses, a word counting as used when
    one of its alternatives (`either`) is (1.0 when there are no words)."""
    words = list(words)
    if not words:
        return 1.0
    own = stems(f"{paper.title} {paper.abstract}")

    def used(word: str) -> bool:
        return any(v[:STEM] in own for v in spellings(word))

    return sum(used(w) or any(used(x) for x in (either or {}).get(w, ())) for w in words) / len(words)


def uses_every_word(words: Iterable[str], paper: Paper) -> bool:
    """Whether a paper's title or abstract has each of `words` as a whole word (or its plural):
    stricter than `term_coverage`, whose stems let "we speculate" count for "speculative"."""
    text = f"{paper.title} {paper.abstract}"
    words = list(words)
    return bool(words) and all(re.search(rf"\b{re.escape(w)}(?:s|es)?\b", text, re.IGNORECASE) for w in words)


@dataclass(frozen=True)
class SearchResult:
    """Ranked papers, and whether the collection covers the query at all.

    Covered means: the best passage is close in meaning to the query, and either very close
    or one of the best papers uses the query's distinctive words (either of
    two offered as alternatives). A near miss (same field,
    absent topic) is close in meaning but names things no paper talks about. A terse query
    may be less close when one of the best papers uses every distinctive word it has.
    """

    query: str
    hits: list[Hit]
    best_similarity: float
    term_coverage: float  # the most of the query's distinctive words one of the best papers uses
    absent_share: float  # the share of the query's distinctive words no paper uses at all
    tuning: Tuning
    named: int = 0  # how many of the query's distinctive words some paper uses
    titled: bool = False  # the best paper, first by keywords and by meaning, has a name the query uses in its title

    @property
    def threshold(self) -> float:
        return self.tuning.coverage_threshold

    @property
    def covered(self) -> bool:
        t, similarity = self.tuning, self.best_similarity
        if similarity < t.coverage_threshold:
            # a terse question ("What is the Vary-toy score on ChartQA?", a follow-up's rewrite)
            # whose every distinctive word one of the best papers uses is less close in meaning
            # and a question that names a paper by the name in its title ("What does FailSafe
            # do …?") is about that paper, however loosely the rest of it is worded
            return ((similarity >= t.named_similarity or self.titled) and self.named > 0 and self.absent_share == 0
                    and self.term_coverage == 1.0)
        if self.absent_share >= t.max_absent_share and similarity < t.absent_ceiling:
            return False  # the topic's own words appear nowhere in the collection
        return similarity >= t.confident_similarity or self.term_coverage >= t.min_term_coverage

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "covered": self.covered,
            "best_similarity": round(self.best_similarity, 4),
            "term_coverage": round(self.term_coverage, 4),
            "absent_share": round(self.absent_share, 4),
            "named": self.named,
            "titled": self.titled,
            "threshold": self.threshold,
            "hits": [hit.to_json() for hit in self.hits],
        }


def _dense(store: Store, query: str, pool: int, allowed: set[str] | None,
           only: set[str] | None) -> tuple[list[str], dict[str, tuple[float, str]]]:
    """Papers ranked by their best passage's similarity, with that similarity and passage id."""
    vector = store.embedder.embed_queries([query])[0]
    best: dict[str, tuple[float, str]] = {}
    for hit in store.vectors.query(vector, pool * 4, only):
        if allowed is not None and hit.paper_id not in allowed:
            continue
        if hit.paper_id not in best or hit.similarity > best[hit.paper_id][0]:
            best[hit.paper_id] = (hit.similarity, hit.passage_id)
    ranked = sorted(best, key=lambda pid: best[pid][0], reverse=True)
    return ranked, best


def search(store: Store, query: str, tuning: Tuning, k: int = 5, since: str | None = None, until: str | None = None,
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
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (tuning.rrf_k + rank)
    ordered = sorted(scores, key=lambda pid: (-scores[pid], pid))
    papers = store.catalog.papers(ordered[: k * 2])  # vectors of just-deleted papers are skipped
    top = [pid for pid in ordered if pid in papers][:k]
    keyword_rank = {pid: rank for rank, pid in enumerate(keyword, start=1)}
    dense_rank = {pid: rank for rank, pid in enumerate(dense, start=1)}
    hits = [
        Hit(
            paper=papers[pid], score=scores[pid], similarity=best[pid][0] if pid in best else None,
            bm25_rank=keyword_rank.get(pid), dense_rank=dense_rank.get(pid),
            passage=passage_text(papers[pid], best[pid][1]) if pid in best else None,
        )
        for pid in top
    ]
    best_similarity = max((sim for sim, _ in best.values()), default=0.0)
    frequency = store.catalog.document_frequency(_query_words(query))  # counted once for both uses below
    wanted = _distinctive(frequency, store.catalog.size(), tuning)
    either = alternatives(query)
    # A question in everyday words ("robots that cut human hair") has no distinctive word to
    # vouch for its topic; its rarest word in the collection then must be in one of the best
    # papers, or only a confident similarity covers it (kirigami robots "optimise cut patterns").
    vouching = wanted or _rarest(frequency)
    coverage = max((term_coverage(vouching, hit.paper, either) for hit in hits[:tuning.coverage_hits]), default=0.0)
    absent = sum(count == 0 for count in wanted.values()) / len(wanted) if wanted else 0.0
    return SearchResult(query=query, hits=hits, best_similarity=best_similarity, term_coverage=coverage,
                        absent_share=absent, tuning=tuning, named=sum(count > 0 for count in wanted.values()),
                        titled=bool(hits) and _names_in_title(query, hits[0], wanted))


def _names_in_title(query: str, hit: Hit, wanted: dict[str, int]) -> bool:
    """Whether the hit ranks first both by keywords and by meaning and its title has a name
    (see `names_in`) that the query uses and few papers share."""
    if hit.bm25_rank != 1 or hit.dense_rank != 1:
        return False
    title = {word.casefold() for word in re.findall(r"[\w-]+", hit.paper.title)}
    return any(name in title and any(wanted.get(part, 0) > 0 for part in re.findall(r"\w+", name))
               for name in names_in(query))
