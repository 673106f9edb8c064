"""Concurrency: several assistant processes on one data directory lose nothing and corrupt
nothing. Writers take turns (the second one waits, saying so); readers never wait and always
see a consistent collection."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.core.settings import Settings
from assistant.face.tui.app import AssistantApp
from assistant.face.tui.widgets import AnswerBlock, QuestionInput
from assistant.session import Session
from assistant.store.data_dir import WRITER_LOCK, open_store
from tests.conftest import ScriptedModel, indexed_dir
from tests.face.test_tui import wait_until


def jsonl(path: Path, name: str, count: int) -> Path:
    rows = [{"title": f"Concurrent {name} study {i}: sparse coding of {name} signals in layer {i}",
             "abstract": f"We study {name} signals number {i}. Sparse codes reach {i % 9 + 1} bits. "
                         f"The {name} model is small."} for i in range(count)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def assistant(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir), *args],
                            env={**os.environ, "ASSISTANT_SEED_BUNDLED": "0"}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def checked(data_dir: Path) -> dict[str, object]:
    out, err = assistant(data_dir, "check", "--json").communicate(timeout=300)
    report = json.loads(out)
    assert report["consistent"], (report, err)
    return report


def ingest_beside(real_embedder, tmp_path: Path) -> tuple[Path, subprocess.Popen[str]]:  # noqa: ANN001
    """A data directory holding six papers, and an ingest of 150 more that has started writing."""
    data_dir = tmp_path / "shared"
    indexed_dir(data_dir, real_embedder, 6, tmp_path / "page.txt")
    writer = assistant(data_dir, "ingest", str(jsonl(tmp_path / "more.jsonl", "later", 150)))
    writing_started(data_dir, writer)
    return data_dir, writer


def writing_started(data_dir: Path, writer: subprocess.Popen[str], before: int = 6) -> None:
    """Wait (bounded) until the writer has committed its first papers, so that what follows
    really runs beside a write."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and writer.poll() is None:
        with closing(sqlite3.connect(data_dir / "catalog.sqlite3", timeout=30)) as db:
            if db.execute("SELECT COUNT(*) FROM papers").fetchone()[0] > before:
                return
        time.sleep(0.2)
    raise AssertionError(f"the writer never started writing (exit status {writer.poll()})")


@pytest.mark.slow  # 15-35 s each: with the slow tests, which CI runs
def test_two_concurrent_ingests_lose_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    runs = [assistant(data_dir, "ingest", str(jsonl(tmp_path / f"{name}.jsonl", name, 150)))
            for name in ("left", "right")]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert checked(data_dir)["papers"] == 300


def test_a_second_writer_waits_and_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir()
    lock = FileLock(data_dir / WRITER_LOCK)
    lock.acquire()  # another writer at work
    run = assistant(data_dir, "ingest", str(jsonl(tmp_path / "late.jsonl", "late", 20)))
    assert run.stderr is not None
    first_line = run.stderr.readline()  # blocks until the waiting writer speaks
    assert "Waiting for another assistant command to finish writing" in first_line
    time.sleep(1.0)
    assert run.poll() is None, "the second writer must wait, not write beside the first"
    lock.release()
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert checked(data_dir)["papers"] == 20


@pytest.mark.slow  # 15-35 s each: with the slow tests, which CI runs
def test_searches_while_an_ingest_writes(real_embedder, tmp_path: Path) -> None:  # noqa: ANN001
    data_dir, writer = ingest_beside(real_embedder, tmp_path)
    readers = [assistant(data_dir, "search", "sparse coding of signals", "--json") for _ in range(4)]  # four at once
    for reader in readers:
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, err
        assert json.loads(out)["hits"]  # a consistent collection: results, not an error
    writer.communicate(timeout=600)
    assert writer.returncode == 0
    assert checked(data_dir)["papers"] == 156


@pytest.mark.slow  # 15-35 s each: with the slow tests, which CI runs
def test_asking_while_an_ingest_writes(real_embedder, tmp_path: Path) -> None:  # noqa: ANN001
    """A one-shot ask reads the collection as it is at that moment: every cited paper is whole."""
    data_dir, writer = ingest_beside(real_embedder, tmp_path)
    settings = Settings(data_dir=data_dir, seed_bundled=False)
    asked = 0
    while writer.poll() is None or asked < 3:
        store = open_store(settings, embedder=real_embedder)
        session = Session(settings, store, ScriptedModel("Sparse codes reach several bits [1]."))
        result = session.ask("How many bits do sparse codes of later signals reach?").result
        for source in result.sources:
            stored = store.catalog.papers([source.paper.id])[source.paper.id]
            assert stored.abstract == source.paper.abstract and stored.title
        store.close()
        asked += 1
    assert writer.returncode == 0, writer.communicate()[1]
    assert asked >= 3 and checked(data_dir)["papers"] == 156


@pytest.mark.slow  # 15-35 s each: with the slow tests, which CI runs
async def test_the_chat_opens_and_answers_while_an_ingest_writes(real_embedder, tmp_path: Path) -> None:  # noqa: ANN001
    data_dir, writer = ingest_beside(real_embedder, tmp_path)
    app = AssistantApp(Settings(data_dir=data_dir, seed_bundled=False),
                       model=ScriptedModel("Sparse codes reach several bits [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready and not app.worker_busy, 120)
        app.query_one("#question", QuestionInput).value = "How many bits do sparse codes reach?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AnswerBlock)) and app.query(AnswerBlock).last().finished, 120)
        assert writer.poll() is None, "the chat should have opened and answered while the ingest wrote"
    writer.communicate(timeout=600)
    assert writer.returncode == 0
    assert checked(data_dir)["papers"] == 156
