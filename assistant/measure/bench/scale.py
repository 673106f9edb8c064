"""Scale figures: the bundled collection plus a synthetic one of N papers: ingest time, disk
size, warm search latency, and a one-shot question against the same question at 311 papers."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.measure.bench.commands import QUESTION, Bench
from assistant.measure.bench.inprocess import search_latency, warm_search
from assistant.measure.bench.measure import alternate, median
from assistant.measure.bench.report import Figure
from assistant.measure.bench.synthetic import write_collection


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def scale(bench: Bench, papers: int) -> list[Figure]:
    label = f"{papers:,} papers"
    source = write_collection(bench.work / f"scale-{papers}.jsonl", papers, seed=11)
    target = bench.work / f"scale-{papers}"
    shutil.rmtree(target, ignore_errors=True)
    # Start from the indexed bundled collection, so the same question finds the same papers.
    shutil.copytree(bench.collection, target)
    bench.announce(f"ingest of {label} (this is the long part)")
    ingest = bench.assistant(target, "ingest", str(source), timeout=max(900.0, papers * 0.5))  # ~0.15 s a paper here
    bench.announce(f"warm search at {label}")
    figures = [Figure(f"ingest of {label}", ingest.wall / 60, "min"),
               Figure(f"disk size at {label} (+311 bundled)", _size_mb(target), "MB")]
    figures += warm_search(bench, target, label, search_latency(bench.collection, 20))
    bench.announce(f"ask at {label} against ask at 311 papers")
    big, small = alternate(lambda: bench.assistant(target, "ask", QUESTION),
                           lambda: bench.assistant(bench.collection, "ask", QUESTION), bench.rounds, bench.announce)
    figures.append(Figure(f"ask at {label}", median([r.wall for r in big]), "s", median([r.wall for r in small]),
                          "311 papers", max_ratio=1.2))
    return figures
