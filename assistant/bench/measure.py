"""Measuring a command as its user feels it: wall time, CPU time and peak memory of that one
process, each command in a new process. `os.wait4` gives the finished child's own resource
usage (with its own children), not the sum over everything the benchmark has started."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


class BenchError(Exception):
    """A measured command failed: the figure would be meaningless."""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    peak_mb: float  # resident set size at its highest
    stdout: str


def run(command: Sequence[str], env: Mapping[str, str], *, timeout: float = 900) -> Run:
    """Run `command` to the end and measure it; a failure raises BenchError with its stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=dict(env))
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if process.returncode != 0:
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise BenchError(f"{' '.join(command[:3])} … exited with {process.returncode}: {' / '.join(tail)}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)


def alternate(first: Callable[[], Run], second: Callable[[], Run], rounds: int,
              announce: Callable[[str], None]) -> tuple[list[Run], list[Run]]:
    """Run two commands `rounds` times each, alternating which goes first, so that a machine
    growing busier or quieter during the run weighs on both sides alike."""
    ours: list[Run] = []
    theirs: list[Run] = []
    for round_ in range(rounds):
        announce(f"round {round_ + 1}/{rounds}")
        if round_ % 2 == 0:
            ours.append(first())
            theirs.append(second())
        else:
            theirs.append(second())
            ours.append(first())
    return ours, theirs


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
