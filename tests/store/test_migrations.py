"""Stores outlive releases: files written before schema versions existed are upgraded in place
with their data, and a file from a newer release is refused without being changed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from assistant.core.errors import StoreError
from assistant.store.catalogue import UPGRADES as CATALOGUE_UPGRADES
from assistant.store.catalogue import Catalog
from assistant.store.conversations import ConversationStore

# The conversations schema as released before versioning (user_version 0, no `kind` column).
UNVERSIONED_CONVERSATIONS = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL, answer TEXT NOT NULL, result TEXT NOT NULL, created TEXT NOT NULL
);
INSERT INTO conversations VALUES (1, 'Vary-toy', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO turns VALUES (1, 1, 'What ANLS score does Vary-toy reach?', 'It reaches 65.6% [1].',
                          '{"status": "answered", "sources": []}', '2025-01-01T00:00:00+00:00');
"""


def test_conversations_from_before_versioning_are_upgraded_with_their_turns(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(UNVERSIONED_CONVERSATIONS)
    store = ConversationStore(path)
    turns = store.turns(1)
    assert [(t.question, t.answer, t.kind) for t in turns] == [
        ("What ANLS score does Vary-toy reach?", "It reaches 65.6% [1].", "answer")]
    turn = store.begin_turn(1, "Summarise: Vary", "paper")
    assert [(t.kind, t.complete) for t in store.turns(1)] == [("answer", True), ("paper", False)]
    store.finish_turn(turn, "A summary [1].", {"status": "answered"})
    assert [(t.kind, t.complete) for t in store.turns(1)] == [("answer", True), ("paper", True)]
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    reopened = ConversationStore(path)  # upgrading twice changes nothing
    assert len(reopened.turns(1)) == 2
    assert [c.id for c in reopened.list("ANLS")] == [1]  # the turns saved before are searchable
    reopened.close()


def test_a_store_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(UNVERSIONED_CONVERSATIONS)
        db.execute("PRAGMA user_version = 99")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="newer version"):
        ConversationStore(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_catalogue_from_before_versioning_keeps_its_papers(tmp_path: Path) -> None:
    from assistant.store.catalogue import SCHEMA

    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:  # today's tables, written the way the unversioned release did
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        db.execute("INSERT INTO papers(id, title, abstract, links, content_hash) VALUES (?, ?, ?, ?, ?)",
                   ("p1", "A paper", "An abstract.", json.dumps([]), "h"))
    catalog = Catalog(path)
    assert catalog.counts()["papers"] == 1
    catalog.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(CATALOGUE_UPGRADES)


def test_a_catalogue_from_before_author_names_keeps_everything_and_reads_its_tables_again(tmp_path: Path) -> None:
    """Format 1 (author counts only) gains author names; every paper and field stays, and a
    JSONL file indexed before is read again on its next ingest, so its names come in."""
    from assistant.store.catalogue import SCHEMA

    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO papers(id, title, abstract, authors, date, links, content_hash, embedded_hash)"
                   " VALUES ('p1', 'A paper', 'An abstract.', 3, '2024-05-01', '[]', 'h', 'h')")
        db.execute("INSERT INTO pages(path, name, sha256, layout, papers, ingested_at) VALUES"
                   " ('/a.jsonl', 'a.jsonl', 'abc', 'jsonl', 1, 'now'), ('/b.txt', 'b.txt', 'def', 'daily', 1, 'now')")
    catalog = Catalog(path)
    paper = catalog.papers(["p1"])["p1"]
    assert (paper.title, paper.authors, paper.date, paper.author_names) == ("A paper", 3, "2024-05-01", [])
    assert catalog.page_hash("/a.jsonl") == "" and catalog.page_hash("/b.txt") == "def"
    assert catalog.pending_embeddings() == []  # nothing to embed again: the text did not change
    catalog.close()


def test_a_catalogue_from_before_identifiers_keeps_everything_and_gains_them(tmp_path: Path) -> None:
    """Format 2 (names, no identifiers) gains arXiv ids, DOIs, venues and categories; every
    paper, name and vector state stays, and JSONL files are read again for their new columns."""
    from assistant.store.catalogue import SCHEMA

    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        CATALOGUE_UPGRADES[1].apply(db)
        db.execute("PRAGMA user_version = 2")
        db.execute("INSERT INTO papers(id, title, abstract, authors, author_names, links, content_hash, embedded_hash)"
                   " VALUES ('p1', 'A paper', 'An abstract.', 2, '[\"Ada Lovelace\", \"Alan Turing\"]', '[]', 'h', 'h')")
        db.execute("INSERT INTO pages(path, name, sha256, layout, papers, ingested_at) VALUES"
                   " ('/a.jsonl', 'a.jsonl', 'abc', 'jsonl', 1, 'now'), ('/b.txt', 'b.txt', 'def', 'daily', 1, 'now')")
    catalog = Catalog(path)
    paper = catalog.papers(["p1"])["p1"]
    assert (paper.title, paper.author_names, paper.arxiv_id, paper.doi, paper.categories) == \
        ("A paper", ["Ada Lovelace", "Alan Turing"], None, None, [])
    assert catalog.page_hash("/a.jsonl") == "" and catalog.page_hash("/b.txt") == "def"
    assert catalog.pending_embeddings() == []
    catalog.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_two_processes_opening_a_new_catalogue_take_each_step_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second opener read version 0 before the first one's upgrade committed: under the
    write lock it finds the steps taken and does not take them again (the ALTER TABLE steps
    would fail on their columns)."""
    from assistant.store import migrations

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    real = migrations.version
    stale = [0]  # the second opener's first read: from before the first one committed

    def version(db: sqlite3.Connection) -> int:
        return stale.pop() if stale else real(db)

    monkeypatch.setattr(migrations, "version", version)
    catalog = Catalog(path)
    try:
        assert real(catalog.db) == len(CATALOGUE_UPGRADES)
        assert "author_names" in {row[1] for row in catalog.db.execute("PRAGMA table_info(papers)")}
    finally:
        catalog.close()
