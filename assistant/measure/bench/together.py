"""Two commands at once: a one-shot question answered while another runs beside it, against
the same question alone, each a whole process as a user starts it in two terminals."""

from __future__ import annotations

import sys
import threading

from assistant.measure.bench.commands import QUESTION, Bench
from assistant.measure.bench.measure import BenchError, Run, median, run
from assistant.measure.bench.report import Figure

OTHER = "How do models fail to reverse facts they have learned?"


def two_at_once(bench: Bench) -> list[Figure]:
    """`ask` alone, then two `ask`s started together; the slower of the pair against alone."""
    alone: list[Run] = []
    slower: list[float] = []
    faster: list[float] = []
    for round_ in range(bench.rounds):
        bench.announce(f"two asks at once against one alone, round {round_ + 1}/{bench.rounds}")
        alone.append(bench.assistant(bench.collection, "ask", QUESTION))
        pair = _together([[sys.executable, "-m", "assistant", "ask", QUESTION],
                          [sys.executable, "-m", "assistant", "ask", OTHER]], bench)
        slower.append(max(r.wall for r in pair))
        faster.append(min(r.wall for r in pair))
    base = median([r.wall for r in alone])
    return [Figure("two asks at once: the slower one", median(slower), "s", base, "one ask alone", max_ratio=2.5),
            Figure("two asks at once: the faster one", median(faster), "s", base, "one ask alone")]


def _together(commands: list[list[str]], bench: Bench) -> list[Run]:
    """Start every command at the same moment; their runs, once all have ended."""
    runs: list[Run | BaseException] = [BenchError("not run")] * len(commands)

    def one(index: int) -> None:
        try:
            runs[index] = run(commands[index], bench.env(bench.collection))
        except BenchError as exc:
            runs[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in runs:
        if isinstance(outcome, BaseException):
            raise outcome
    return runs  # type: ignore[return-value]
