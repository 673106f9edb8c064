"""Coverage calibrated on the collection itself.

How close a question must come to a passage before the collection is said to cover it depends
on the collection: the more papers of one field it holds, the closer an absent topic of that
field comes to some passage by chance. So the similarity thresholds are not fixed numbers but
quantiles of what the collection's own near misses score: each probe takes part of a sentence
of one paper (the way a question takes a few of an abstract's words) and searches the other
papers for it, as if that paper were missing. The best similarity among the others is what a
same-field question on an absent topic scores here. Stored with the index, shown by `stats`,
and measured again when the collection has grown or shrunk by a tenth.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass

import numpy as np

from assistant.core.records import content_words, split_sentences
from assistant.core.tuning import Tuning
from assistant.store.data_dir import Store

META_KEY = "coverage_calibration"
PROBES = 150
MIN_PAPERS = 40  # fewer papers than this give too few near misses to read quantiles from
STALE_SHARE = 0.1  # measured again when the collection's size moved by more than this share
_PROBE_WORDS = 5  # at least this many content words per probe (half the sentence's, when longer)
_FORMAT = 1


@dataclass(frozen=True)
class Calibration:
    """The collection's near-miss similarities, sorted, and what they were measured on."""

    papers: int
    embedder: str
    near_miss: tuple[float, ...]

    def quantile(self, share: float) -> float:
        return float(np.quantile(self.near_miss, share))

    def thresholds(self, tuning: Tuning) -> dict[str, float]:
        """The similarity thresholds for this collection, from the tuning's quantiles."""
        return {"named_similarity": self.quantile(tuning.named_quantile),
                "coverage_threshold": self.quantile(tuning.coverage_quantile),
                "confident_similarity": self.quantile(tuning.confident_quantile),
                "absent_ceiling": self.quantile(tuning.absent_quantile)}

    def apply(self, tuning: Tuning) -> Tuning:
        return dataclasses.replace(tuning, **self.thresholds(tuning))  # type: ignore[arg-type]

    def stale(self, store: Store) -> bool:
        size = store.catalog.size()
        return (self.embedder != store.embedder.name
                or abs(size - self.papers) > STALE_SHARE * max(self.papers, 1))

    def to_json(self) -> dict[str, object]:
        return {"format": _FORMAT, "papers": self.papers, "embedder": self.embedder,
                "near_miss": list(self.near_miss)}

    @classmethod
    def from_json(cls, text: str | None) -> Calibration | None:
        try:
            data = json.loads(text or "")
            if data.get("format") != _FORMAT or not data["near_miss"]:
                return None
            return cls(int(data["papers"]), str(data["embedder"]), tuple(float(v) for v in data["near_miss"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def _probe(sentence: str) -> str:
    words = content_words(sentence)
    return " ".join(words[: max(_PROBE_WORDS, len(words) // 2)])


def measure(store: Store, probes: int = PROBES) -> Calibration | None:
    """Search for part of a sentence of `probes` papers among the other papers (None for a
    collection too small to calibrate). The papers are drawn by a fixed seed, so the same
    collection always gets the same thresholds."""
    size = store.catalog.size()
    if size < MIN_PAPERS:
        return None
    ids = sorted(store.catalog.all_ids())
    draw = random.Random(0)
    draw.shuffle(ids)
    queries: list[tuple[str, str]] = []
    for pid, paper in store.catalog.papers(ids[: probes * 2]).items():
        sentences = [s for s in split_sentences(paper.abstract)[1:] if len(content_words(s)) >= 2 * _PROBE_WORDS]
        if sentences:
            queries.append((pid, _probe(draw.choice(sentences))))
        if len(queries) == probes:
            break
    if not queries:
        return None
    vectors = store.embedder.embed_queries([text for _, text in queries])
    near_miss = []
    for (pid, _), vector in zip(queries, vectors):
        others = [hit.similarity for hit in store.vectors.query(vector, 40) if hit.paper_id != pid]
        if others:
            near_miss.append(max(others))
    if not near_miss:
        return None
    return Calibration(size, store.embedder.name, tuple(sorted(round(v, 4) for v in near_miss)))


def stored(store: Store) -> Calibration | None:
    return Calibration.from_json(store.catalog.get_meta(META_KEY))


def calibrated(store: Store, tuning: Tuning) -> tuple[Tuning, Calibration | None]:
    """The tuning with this collection's thresholds: from the stored calibration, or measured
    now (and stored when no other process is writing) when there is none or it is stale. A
    collection too small to calibrate keeps the tuning's fixed thresholds."""
    calibration = stored(store)
    if calibration is None or calibration.stale(store):
        calibration = measure(store)
        if calibration is not None:
            with store.writing_if_free() as held:
                if held:
                    store.catalog.set_meta(META_KEY, json.dumps(calibration.to_json()))
    return (calibration.apply(tuning) if calibration else tuning), calibration


def recalibrate(store: Store) -> Calibration | None:
    """Measure again after the collection changed (ingest); the caller holds the writer lock
    or knows none is needed."""
    calibration = measure(store)
    if calibration is None:
        store.catalog.delete_meta(META_KEY)
    else:
        store.catalog.set_meta(META_KEY, json.dumps(calibration.to_json()))
    return calibration
