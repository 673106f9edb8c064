"""Limits: every out-of-range input and every unusable data directory or model file gets one
clear message and exit status 1, never a traceback, and never a change to the user's files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.limits import MAX_QUESTION_CHARS, check_question
from assistant.core.settings import Settings
from assistant.face.cli.main import main
from assistant.ingest.pipeline import ingest
from assistant.model.chat import bundled_gguf_path
from assistant.model.embedder import LocalEmbedder
from assistant.face.tui.widgets import QuestionInput
from tests.conftest import daily_page, fake_papers, indexed_dir
from tests.ingest.test_crash import synthetic


@pytest.fixture
def small_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: LocalEmbedder) -> Path:
    """The default data directory, holding four dated papers (no bundled seeding, so it is quick)."""
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    return indexed_dir(tmp_path / "data", real_embedder, 4, tmp_path / "page.txt")


def error_of(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the command; it must fail with status 1 and one `error:` line, no traceback."""
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_question_bounds() -> None:
    assert check_question("  what is it?  ") == "what is it?"
    assert check_question("什么是逆转诅咒？") == "什么是逆转诅咒？"
    assert check_question("x" * MAX_QUESTION_CHARS)
    for bad in ("", "   \n\t", "x" * (MAX_QUESTION_CHARS + 1)):
        with pytest.raises(Exception, match="question is"):
            check_question(bad)


def test_questions_and_k_out_of_range_are_refused_before_any_work(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    assert "question is empty" in error_of(capsys, ["ask", "  "])
    assert "10,000 characters" in error_of(capsys, ["ask", "y" * 10_000])
    assert "10,000 characters" in error_of(capsys, ["search", "y" * 10_000])
    assert "between 1 and 20 (got 0)" in error_of(capsys, ["ask", "what?", "-k", "0"])
    assert "between 1 and 200 (got 10000)" in error_of(capsys, ["search", "graphs", "-k", "10000"])
    assert not (tmp_path / "data").exists(), "nothing may be indexed for a refused command"


def test_a_question_in_another_script_is_answered_or_refused_cleanly(small_collection: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "图学习的准确率", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["covered"] is False


def test_a_date_filter_matching_nothing_says_what_the_dates_are(small_collection: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    message = error_of(capsys, ["search", "graph learning", "--since", "2099"])
    assert "no paper is dated on or after 2099-01-01" in message and "2024-03-01 to 2024-03-04" in message
    assert "after --until" in error_of(capsys, ["search", "graph learning", "--since", "2025", "--until", "2024"])
    assert main(["search", "graph learning", "--since", "Mar 2, 2024", "--json"]) == 0


def test_model_paths_that_cannot_be_loaded(small_collection: Path, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    assert "is a folder, not a model file (it holds no .gguf file)" in error_of(
        capsys, ["ask", "what is graph learning?", "--model", str(folder)])
    text = folder / "notes.gguf"
    text.write_text("these are not weights\n")
    assert "is not a GGUF model file" in error_of(capsys, ["ask", "what is graph learning?", "--model", str(text)])
    truncated = folder / "cut.gguf"
    with bundled_gguf_path().open("rb") as whole:
        truncated.write_bytes(whole.read(1_000_000))
    message = error_of(capsys, ["ask", "what is graph learning?", "--model", str(truncated)])
    assert "cannot load model" in message and "cut short" in message


def test_a_data_dir_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data-file"
    not_a_dir.write_text("x")
    assert "cannot write to the data directory" in error_of(capsys, ["--data-dir", str(not_a_dir), "stats"])
    assert not_a_dir.read_text() == "x"


def cli(*argv: str) -> str:
    """A command in a new process, as the user runs it (this process may hold moved files open)."""
    return subprocess.run([sys.executable, "-m", "assistant", *argv], capture_output=True, text=True, timeout=300,
                          check=True).stdout


def cli_error(*argv: str) -> str:
    """Like `error_of`, in a new process: for damage that an open connection in this one would hide."""
    run = subprocess.run([sys.executable, "-m", "assistant", *argv], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and run.stderr.startswith("error: ") and "Traceback" not in run.stderr, run.stderr
    return run.stderr


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_catalogue_is_left_alone_and_the_message_says_how_to_recover(
        small_collection: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalogue = tmp_path / "data" / "catalog.sqlite3"
    catalogue.write_bytes(os.urandom(8192))
    before = sha(catalogue)
    message = cli_error("stats")
    assert "was not changed" in message and "assistant ingest" in message
    assert sha(catalogue) == before
    shutil.move(catalogue, tmp_path / "catalog.damaged")
    shutil.move(tmp_path / "data" / "chroma", tmp_path / "chroma.damaged")
    cli("ingest", str(small_collection))  # the recovery the message gives
    assert json.loads(cli("check", "--json"))["papers"] == 4


def test_a_damaged_vector_store_is_rebuilt_from_the_catalogue(small_collection: Path,
                                                              capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    chroma = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    damaged = bytearray(chroma.read_bytes())
    damaged[:100] = bytes(100)
    chroma.write_bytes(bytes(damaged))
    message = cli_error("search", "graph learning")
    assert "cannot be opened" in message and "assistant reindex" in message
    message = cli_error("ask", "What is graph learning?")  # read first in the background: the same message
    assert "cannot be opened" in message and "assistant reindex" in message
    shutil.move(tmp_path / "data" / "chroma", tmp_path / "chroma.damaged")
    cli("reindex")
    assert json.loads(cli("check", "--json"))["papers"] == 4


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small file system of its own (root only: it is mounted), for full and read-only disks."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount_point)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.slow  # 35 s: it embeds 300 papers twice to fill the disk mid-write (CI runs it)
def test_a_full_disk_stops_cleanly_and_the_next_run_finishes(tmpfs: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    source = tmp_path / "papers.jsonl"
    synthetic(source, seed=1, count=300)
    data = tmpfs / "data"
    # in its own process, as a command is: Chroma keeps one store per folder for the life of a
    # process, and one that met a full disk mid-write may not write again in that process
    full = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data), "ingest", str(source)],
                          capture_output=True, text=True, timeout=600)
    assert full.returncode == 1 and "is full" in full.stderr and "Traceback" not in full.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(tmpfs)], check=True)
    assert main(["--data-dir", str(data), "ingest", str(source)]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["papers"] == 300 and report["pending_embeddings"] == 0


def test_a_read_only_disk_is_refused_without_a_change(tmpfs: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(2)))
    data = tmpfs / "data"
    subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data), "ingest", str(page)], check=True,
                   capture_output=True)  # in its own process, so that nothing here holds the disk open
    before = sha(data / "catalog.sqlite3")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert "Read-only file system" in error_of(capsys, ["--data-dir", str(data), "search", "graph"])
    assert sha(data / "catalog.sqlite3") == before


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; returns the filler, to delete to free the space."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


async def test_the_chat_on_a_full_disk_says_so_and_goes_on(tmpfs: Path, make_store, tmp_path: Path) -> None:  # noqa: ANN001
    from assistant.face.tui.app import AssistantApp
    from assistant.face.tui.widgets import AnswerBlock
    from tests.conftest import ScriptedModel
    from tests.face.test_tui import wait_until

    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(4)))
    store = make_store("collection")
    ingest(store, [page])
    app = AssistantApp(Settings(data_dir=tmpfs / "chat", seed_bundled=False), store=store,
                       model=ScriptedModel("We study variant 1 of graph learning. [1]"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready and not app.worker_busy)
        filler = fill(tmpfs)
        app.query_one("#question", QuestionInput).value = "What does variant 1 of graph learning study?"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert not app.query(AnswerBlock)
        assert any("is full" in str(n.message) for n in app._notifications)  # noqa: SLF001
        filler.unlink()  # space again: the next question is answered and saved
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AnswerBlock)) and app.query(AnswerBlock).last().finished)
        assert app.conversations.turns(app.conversation)[0].complete  # type: ignore[arg-type]
