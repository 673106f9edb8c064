"""Hostile files, through the command a user runs: each gets one clear message (no traceback,
nothing but that file's line), nothing of it is written, and `assistant check` finds the store
consistent afterwards. The readers' own tests cover each case in detail; this is the whole path."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from assistant.face.cli import main as cli
from tests.ingest.test_zotero import make_library

FORMATS = Path(__file__).parent.parent / "data" / "formats"


def _sparse(path: Path) -> None:
    with path.open("wb") as out:
        out.truncate(1_000_000_000)  # a 1 GB page, never read


REFUSED: list[tuple[str, Callable[[Path], object], str]] = [
    ("laughs.xml", lambda p: p.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<title>&lol3;</title><summary>&lol3;</summary></entry></feed>"), "declares entities"),
    ("external.atom", lambda p: p.write_text(
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&x;</title></entry></feed>'), "declares entities"),
    ("huge.html", _sparse, "too large"),
    ("braces.bib", lambda p: p.write_text("@article{a,\n title = {Unbalanced {braces},\n abstract = {We study.}\n}\n"),
     "not valid BibTeX"),
    ("old.sqlite", lambda p: make_library(p, schema_version=77), "older schema"),
    ("foreign.sqlite", lambda p: sqlite3.connect(p).execute("CREATE TABLE t(x)").connection.commit(),
     "not a Zotero library"),
    ("corrupt.sqlite", lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x17" * 4000),
     "cannot read the Zotero database"),
]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.slow
def test_hostile_files_get_their_message_and_leave_the_store_consistent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    code, shown = _run(capsys, *data, "ingest", str(FORMATS / "zotero-export.bib"))
    assert code == 0 and "3 papers in the collection" in shown
    for name, make, reason in REFUSED:
        path = tmp_path / name
        make(path)
        code, shown = _run(capsys, *data, "ingest", str(path))
        assert code == 1, name
        assert f"✗ {path}: " in shown and reason in shown, shown
        assert "Traceback" not in shown and "3 papers in the collection" in shown, shown
        assert len([line for line in shown.splitlines() if line.strip()]) == 3, shown  # ✗ line, Readable, summary
    code, shown = _run(capsys, *data, "check")
    assert code == 0 and "3 papers" in shown and ": consistent" in shown, shown


@pytest.mark.slow
def test_files_that_hide_things_are_read_for_what_a_reader_sees(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A page's scripts and inline JSON, escape codes in a title, and a library Zotero has locked:
    read, with nothing hidden let in."""
    data = ["--data-dir", str(tmp_path / "data")]
    escapes = tmp_path / "escapes.bib"
    abstract = " ".join(["We scale sparse graph kernels to many machines."] * 30)
    escapes.write_text("@article{e,\n title = {Graph \x1b[2J\x1b]0;owned\x07Kernels at Scale},\n"
                       f" abstract = {{{abstract}}},\n year = {{2024}}\n}}\n")
    library = make_library(tmp_path / "zotero.sqlite")
    with closing(sqlite3.connect(library)) as zotero:
        zotero.execute("PRAGMA locking_mode = EXCLUSIVE")
        zotero.execute("BEGIN EXCLUSIVE")  # as Zotero holds it while it runs
        code, shown = _run(capsys, *data, "ingest", str(FORMATS / "daily-listing.html"), str(escapes), str(library))
        zotero.rollback()
    assert code == 0 and "Traceback" not in shown, shown
    assert "removed" in shown and "control character" in shown, shown
    code, shown = _run(capsys, *data, "papers", "--json")
    assert "Graph Kernels at Scale" in shown and "\x1b" not in shown and "owned" not in shown
    assert "Not A Paper" not in shown and "JavaScript" not in shown  # the page's script and inline data
    code, shown = _run(capsys, *data, "check")
    assert code == 0 and ": consistent" in shown, shown
