"""Scale figures: the bundled collection plus a synthetic one of N papers: ingest time, disk
size, warm search latency, and a one-shot question against the same question at 311 papers.

Embedding 100,000 papers (~400,000 passages) takes hours on two cores, so `stand_in_vectors`
builds the collection with stand-in passage vectors: each the mean of the real embedder's
vectors of the passage's words (every word embedded once). Searching and asking then run as a
user runs them, the question embedded by the real model, over a store of the full size; the
ingest time of such a build leaves out the embedding and is labelled so.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from assistant.measure.bench.commands import QUESTION, Bench
from assistant.measure.bench.inprocess import search_latency, warm_search
from assistant.measure.bench.measure import Run, alternate, median
from assistant.measure.bench.report import Figure
from assistant.measure.bench.synthetic import write_collection

WORD = re.compile(r"[a-z]+")


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def scale(bench: Bench, papers: int, stand_in_vectors: bool = False) -> list[Figure]:
    label = f"{papers:,} papers" + (", stand-in vectors" if stand_in_vectors else "")
    source = write_collection(bench.work / f"scale-{papers}.jsonl", papers, seed=11)
    target = bench.work / f"scale-{papers}"
    shutil.rmtree(target, ignore_errors=True)
    # Start from the indexed bundled collection, so the same question finds the same papers.
    shutil.copytree(bench.collection, target)
    bench.announce(f"ingest of {label} (this is the long part)")
    if stand_in_vectors:
        minutes = _build_with_stand_in_vectors(bench, target, source) / 60
        figures = [Figure(f"build of {label} (no embedding)", minutes, "min")]
    else:
        ingest = bench.assistant(target, "ingest", str(source), timeout=max(900.0, papers * 0.5))
        figures = [Figure(f"ingest of {label}", ingest.wall / 60, "min")]
    figures.append(Figure(f"disk size at {label} (+311 bundled)", _size_mb(target), "MB"))
    bench.announce(f"warm search at {label}")
    figures += warm_search(bench, target, label, search_latency(bench.collection, 20, bench.cache))
    bench.announce(f"ask at {label} against ask at 311 papers")
    big, small = alternate(lambda: bench.assistant(target, "ask", "--json", QUESTION),
                           lambda: bench.assistant(bench.collection, "ask", "--json", QUESTION), bench.rounds,
                           bench.announce)
    figures.append(Figure(f"ask at {label}", median([r.wall for r in big]), "s", median([r.wall for r in small]),
                          "311 papers", max_ratio=1.2))
    # The answers differ (other papers are found at scale), so the whole command's ratio moves
    # with what is written; the search is where the size itself shows.
    figures.append(Figure(f"ask at {label}: its search", median([_retrieval(r) for r in big]), "s",
                          median([_retrieval(r) for r in small]), "311 papers"))
    return figures


def _retrieval(ask: Run) -> float:
    """Seconds an `ask --json` spent searching: the embedder's load and any wait for the vector
    index included."""
    return float(json.loads(ask.stdout)["timings"]["retrieve"])


class StandInVectors:
    """The bundled embedder for queries; for passages, the mean of its vectors of their words."""

    def __init__(self, cache: Path) -> None:
        from assistant.model.embedder import LocalEmbedder

        self.real = LocalEmbedder(cache_dir=cache)
        self.name = self.real.name
        self.words: dict[str, object] = {}

    @property
    def dim(self) -> int:
        return self.real.dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        split = [WORD.findall(text.lower()) or ["empty"] for text in texts]
        new = sorted({w for words in split for w in words} - self.words.keys())
        for start in range(0, len(new), 4096):
            chunk = new[start : start + 4096]
            self.words.update(zip(chunk, np.asarray(self.real.embed(chunk), dtype=np.float32)))
        vectors = np.stack([np.mean([self.words[w] for w in words], axis=0) for words in split])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self.real.embed_queries(texts)


def _build_with_stand_in_vectors(bench: Bench, target: Path, source: Path) -> float:
    """Ingest `source` into `target` in this process with stand-in passage vectors, then
    calibrate as ingest does; returns the seconds it took."""
    import time

    from assistant.core.settings import Settings
    from assistant.ingest.pipeline import ingest
    from assistant.retrieve.calibrate import recalibrate
    from assistant.store.data_dir import open_store

    started = time.perf_counter()
    store = open_store(Settings(data_dir=target, seed_bundled=False, cache_dir=bench.cache),
                       embedder=StandInVectors(bench.cache))
    try:
        ingest(store, [source])
        with store.writing():
            recalibrate(store)
    finally:
        store.close()
    return time.perf_counter() - started
