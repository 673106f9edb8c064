"""Measuring a command as its user feels it: wall time, CPU time and peak memory of that one
process, each command in a new process. `os.wait4` gives the finished child's own CPU time.
Its peak memory is read from /proc while it runs: Linux's ru_maxrss of a child starts from
its parent's size at the fork, so a child of a 1.2 GB benchmark would report 1.2 GB."""

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
        peak = _Peak(process.pid)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
            peak.stop()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode < 0 and wall >= timeout:  # killed by the timer
            raise BenchError(f"{' '.join(command[:3])} … did not finish within {timeout:.0f} s")
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if process.returncode != 0:
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise BenchError(f"{' '.join(command[:3])} … exited with {process.returncode}: {' / '.join(tail)}")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak.mb if peak.mb else usage.ru_maxrss / 1024, stdout)


class _Peak:
    """The process's high-water resident size (VmHWM), polled until it ends; VmHWM only grows,
    so the last reading misses at most the last few milliseconds' growth."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.mb = 0.0
        self._path = f"/proc/{pid}/status"
        self._done = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set():
            try:
                with open(self._path, encoding="ascii") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            self.mb = max(self.mb, int(line.split()[1]) / 1024)
            except (OSError, ValueError):
                return  # no /proc (not Linux), or the process has ended
            self._done.wait(self._every)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


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
