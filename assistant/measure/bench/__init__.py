"""`assistant bench`: speed against peers and bare libraries, on this machine.

Every figure is measured in the same run as what it is compared with, alternated, so that
the ratios hold on a noisy machine. Targets are reported, never asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.core.safe_text import inert
from assistant.measure.bench.measure import BenchError
from assistant.measure.bench.report import Figure, table

QUICK_INGEST, FULL_INGEST = 150, 1000  # synthetic papers for the ingest-rate figure
SERVED_INGEST = 12  # through llama-cpp-python's server, about one passage a second here


def run_bench(*, quick: bool, rounds: int | None, scales: Sequence[int], out: Path, work: Path | None = None,
              scale_only: bool = False, prompt_questions: Path | None = None, stand_in_vectors: bool = False) -> int:
    """Run every figure, print the table, write the JSON to `out`; returns an exit status."""
    from assistant.measure.bench import commands, encoder, inprocess, prompt_size, scale, served, together

    started = time.perf_counter()
    machine = _machine()

    def announce(message: str) -> None:  # messages name pages and question files: no control bytes
        print(f"[{time.perf_counter() - started:5.0f} s] {inert(message)}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="assistant-bench-", dir=work) as folder:
        bench = commands.Bench(Path(folder), rounds or (2 if quick else 5), quick, announce)
        figures: list[Figure] = []
        steps = [commands.first_use, encoder.encoder]  # what every other figure uses: the collection, the export
        if not scale_only:
            steps += [commands.start_up, commands.ask, together.two_at_once, inprocess.generation, commands.digests,
                      lambda b: commands.ingest(b, QUICK_INGEST if quick else FULL_INGEST),
                      lambda b: served.served_ingest(b, SERVED_INGEST),
                      lambda b: inprocess.warm_search(b, b.collection, "311 papers")]
        steps += [lambda b, n=n: scale.scale(b, n, stand_in_vectors) for n in scales]  # type: ignore[misc]
        if prompt_questions is not None:
            steps.append(lambda b: prompt_size.prompt_sizes(b, prompt_questions))
        try:
            for step in steps:
                figures += step(bench)
        except BenchError as exc:
            print(table(figures), file=sys.stderr)
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(table(figures))
    report = {"quick": quick, "rounds": bench.rounds, "seconds": round(time.perf_counter() - started, 1),
              "machine": machine, "figures": [f.to_json() for f in figures]}
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{sum(f.met is True for f in figures)} of {sum(f.met is not None for f in figures)} targets met; "
          f"written to {out} ({report['seconds']:.0f} s)")
    return 0


def _machine() -> dict[str, object]:
    import os
    import platform

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "load_at_start": load}
