"""The benchmark's own parts: what a process is measured to use, alternation, targets, and the
synthetic collection it scales with. (Its figures are never asserted: CI runs `bench --quick`.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from assistant.measure.bench.measure import BenchError, Run, alternate, percentile, run
from assistant.measure.bench.report import Figure, table
from assistant.measure.bench.synthetic import write_collection


def test_a_process_is_measured_alone() -> None:
    """Peak memory and CPU are the child's own: a child holding 200 MB shows it, the
    benchmark's own (larger or smaller) footprint does not leak into the figure."""
    hold = "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('done')"
    ballast = bytearray(300 * 1024 * 1024)  # the measuring process is big (as the benchmark is)
    ballast[::4096] = b"x" * len(ballast[::4096])
    big = run([sys.executable, "-c", hold], os.environ)
    small = run([sys.executable, "-c", "import time; time.sleep(0.1); print('done')"], os.environ)
    assert big.stdout.strip() == "done" and big.peak_mb > 200 and small.peak_mb < 100
    assert big.wall > 0 and big.cpu > 0


def test_a_failing_command_stops_the_benchmark_with_its_error() -> None:
    with pytest.raises(BenchError, match="exited with 3: no such collection"):
        run([sys.executable, "-c", "import sys; sys.stderr.write('no such collection\\n'); sys.exit(3)"], os.environ)


def test_alternation_changes_who_goes_first() -> None:
    order: list[str] = []

    def side(name: str) -> Run:
        order.append(name)
        return Run(1.0, 1.0, 1.0, "")

    ours, theirs = alternate(lambda: side("ours"), lambda: side("peer"), 3, lambda _: None)
    assert order == ["ours", "peer", "peer", "ours", "ours", "peer"] and len(ours) == len(theirs) == 3


def test_targets_are_judged_on_the_right_side() -> None:
    assert Figure("ask", 9.0, "s", 6.0, "peer", max_ratio=1.5).met is True
    assert Figure("ask", 9.1, "s", 6.0, "peer", max_ratio=1.5).met is False
    assert Figure("rate", 85.0, "tok/s", 100.0, "bare", min_ratio=0.9).met is False
    assert Figure("help", 0.2, "s", max_value=0.3).met is True
    assert Figure("tokens", 142.0, "tok").met is None
    text = table([Figure("ask", 9.1, "s", 6.0, "peer", max_ratio=1.5)])
    assert "1.52×" in text and "NO" in text and "6.00 s (peer)" in text
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0 and percentile([1.0, 2.0], 0.5) == 1.0


def test_the_synthetic_collection_is_ingestible_and_varied(tmp_path: Path) -> None:
    from assistant.ingest.readers import read_source

    path = write_collection(tmp_path / "s.jsonl", 200)
    parsed = read_source(path)
    assert len(parsed.records) == 200
    words = {w for r in parsed.records for w in r.abstract.lower().split()}
    assert len(words) > 5000  # a vocabulary BM25 has to work with, not a handful of repeated terms


@pytest.mark.slow
def test_prompt_sizes_grow_with_the_evidence_given(tmp_path: Path) -> None:
    """Three evals of two questions with the real model: the prompt grows with the evidence
    budget, and each setting reports its quality figures."""
    from assistant.measure.bench.commands import Bench
    from assistant.measure.bench.prompt_size import EVIDENCE, prompt_sizes

    questions = tmp_path / "q.jsonl"
    questions.write_text("".join((Path(__file__).parents[1] / "data" / "eval" / "dev.jsonl").read_text().splitlines(keepends=True)[:2]))
    figures = prompt_sizes(Bench(tmp_path, 1, True, lambda _: None), questions)
    prompts = [f.ours for f in figures if f.name.endswith(": prompt")]
    assert len(prompts) == len(EVIDENCE) and prompts[0] < prompts[1] <= prompts[2]
    recall = [f for f in figures if f.name.endswith("fact recall")]
    assert len(recall) == len(EVIDENCE) and all(0 <= f.ours <= 100 for f in recall)


def test_stand_in_vectors_fill_a_store_that_search_reads(tmp_path: Path) -> None:
    """The scale figures' stand-in vectors: one per passage, unit length, in the bundled
    embedder's space (the store accepts it, questions are embedded for real), and a paper's
    own words find it."""
    import numpy as np

    from assistant.core.settings import Settings
    from assistant.core.tuning import Tuning
    from assistant.ingest.pipeline import ingest
    from assistant.measure.bench.scale import StandInVectors
    from assistant.retrieve.hybrid import search
    from assistant.store.check import check
    from assistant.store.data_dir import open_store

    source = write_collection(tmp_path / "s.jsonl", 40)
    stand_in = StandInVectors(tmp_path / "cache")
    store = open_store(Settings(data_dir=tmp_path / "d", seed_bundled=False, cache_dir=tmp_path / "cache"), embedder=stand_in)
    try:
        ingest(store, [source])
        vectors = np.asarray(stand_in.embed(["a first passage", "another passage"]))
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert not np.allclose(vectors[0], vectors[1])
        assert store.vectors.count() > 40 and check(store).consistent
        title = next(iter(store.catalog.papers(store.catalog.all_ids()).values())).title
        assert search(store, title, Tuning(), k=3).hits[0].paper.title == title
    finally:
        store.close()
