"""A Zotero library (zotero.sqlite), read from a private read-only copy.

The test library is made here with the tables and columns Zotero 7's `userdata.sql` (schema
version 129) gives the parts the reader uses: items, itemData / itemDataValues /
fieldsCombined, itemTypesCombined, creators / itemCreators / creatorTypes, deletedItems and
version; the dates are stored as Zotero stores them ("2022-02-24 2022-02-24"), a trashed item,
a note, an attachment and an item without an abstract beside three papers. The same rows put
into a database made from Zotero's own `resource/schema/system.sql` and `userdata.sql` (schema
129; not copied here) read the same: four papers, the same names, dates and links.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import ingest
from assistant.ingest.readers import read_source

FORMATS = Path(__file__).parent.parent / "data" / "formats"
SCHEMA = """
CREATE TABLE version (schema TEXT PRIMARY KEY, version INT NOT NULL);
CREATE TABLE itemTypesCombined (itemTypeID INT NOT NULL, typeName TEXT NOT NULL, display INT DEFAULT 1 NOT NULL,
    custom INT NOT NULL, PRIMARY KEY (itemTypeID));
CREATE TABLE fieldsCombined (fieldID INT NOT NULL, fieldName TEXT NOT NULL, label TEXT, fieldFormatID INT,
    custom INT NOT NULL, PRIMARY KEY (fieldID));
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, clientVersion INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE, valueNormalized TEXT);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT,
    firstNameNormalized TEXT, lastNameNormalized TEXT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex),
    UNIQUE (itemID, orderIndex));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
INSERT INTO version VALUES ('userdata', 129);
INSERT INTO itemTypesCombined VALUES (1, 'annotation', 1, 0), (3, 'attachment', 1, 0), (22, 'journalArticle', 1, 0),
    (28, 'note', 1, 0), (30, 'preprint', 1, 0);
INSERT INTO fieldsCombined VALUES (1, 'title', NULL, NULL, 0), (2, 'abstractNote', NULL, NULL, 0),
    (6, 'date', NULL, NULL, 0), (13, 'url', NULL, NULL, 0), (59, 'DOI', NULL, NULL, 0);
INSERT INTO creatorTypes VALUES (8, 'author'), (10, 'editor');
"""


def make_library(path: Path, schema_version: int = 129) -> Path:
    items = json.loads((FORMATS / "zotero-export.json").read_text(encoding="utf-8"))
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA)
        db.execute("UPDATE version SET version = ?", (schema_version,))
        values: dict[str, int] = {}

        def put(item_id: int, field: int, value: str) -> None:
            value_id = values.setdefault(value, len(values) + 1)
            db.execute("INSERT OR IGNORE INTO itemDataValues(valueID, value) VALUES (?, ?)", (value_id, value))
            db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, field, value_id))

        for item_id, item in enumerate(items, start=1):
            db.execute("INSERT INTO items(itemID, itemTypeID, libraryID, key) VALUES (?, 30, 1, ?)",
                       (item_id, f"KEY{item_id}"))
            year, month, day = item["issued"]["date-parts"][0]
            put(item_id, 1, item["title"])
            put(item_id, 2, item["abstract"])
            put(item_id, 6, f"{year}-{month:02d}-{day:02d} {year}-{month:02d}-{day:02d}")
            put(item_id, 13, item["URL"])
            for order, name in enumerate(item["author"]):
                db.execute("INSERT OR IGNORE INTO creators(firstName, lastName, fieldMode) VALUES (?, ?, 0)",
                           (name["given"], name["family"]))
                (creator,) = db.execute("SELECT creatorID FROM creators WHERE lastName = ? AND firstName = ?",
                                        (name["family"], name["given"])).fetchone()
                db.execute("INSERT INTO itemCreators VALUES (?, ?, 8, ?)", (item_id, creator, order))
        # an institution as author (one name), a trashed paper, a note, an attachment, no abstract
        db.execute("INSERT INTO items(itemID, itemTypeID, libraryID, key) VALUES (10, 22, 1, 'INST'), "
                   "(11, 22, 1, 'TRASH'), (12, 28, 1, 'NOTE'), (13, 3, 1, 'PDF'), (14, 22, 1, 'BARE')")
        put(10, 1, "A Report by an Institution")
        put(10, 2, "We report what the consortium measured over ten years of observations.")
        put(10, 6, "2019-00-00 2019")
        put(10, 59, "10.1000/report.2019")
        db.execute("INSERT INTO creators(firstName, lastName, fieldMode) VALUES ('', 'The Open Consortium', 1)")
        db.execute("INSERT INTO itemCreators VALUES (10, (SELECT creatorID FROM creators WHERE fieldMode = 1), 8, 0)")
        put(11, 1, "A Trashed Paper")
        put(11, 2, "This paper was moved to the trash and must not be read.")
        db.execute("INSERT INTO deletedItems(itemID) VALUES (11)")
        put(12, 1, "A note")
        put(13, 1, "Full Text PDF")
        put(14, 1, "A Paper Without Its Abstract")
        db.commit()
    return path


def test_a_zotero_library_gives_its_papers_with_authors_dates_and_links(tmp_path: Path) -> None:
    page = read_source(make_library(tmp_path / "zotero.sqlite"))
    assert page.layout == "zotero"
    titles = [r.title for r in page.records]
    assert titles[:3] == [i["title"] for i in json.loads((FORMATS / "zotero-export.json").read_text())]
    assert titles[3] == "A Report by an Institution" and len(titles) == 4  # no trash, note, attachment
    assert page.warnings == ["skipped 1 item(s) without a title or an abstract"]
    second, report = page.records[1], page.records[3]
    assert second.author_names == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt")
    assert second.date == "2024-05-22" and second.url == "http://arxiv.org/abs/2405.13786"
    assert report.author_names == ("The Open Consortium",) and report.date == "2019-01-01"
    assert report.url == "https://doi.org/10.1000/report.2019"


def test_the_library_is_read_from_a_copy_while_zotero_holds_its_lock(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    library = make_library(tmp_path / "zotero.sqlite")
    before = library.read_bytes()
    with closing(sqlite3.connect(library)) as zotero:
        zotero.execute("PRAGMA locking_mode = EXCLUSIVE")
        zotero.execute("BEGIN EXCLUSIVE")  # as Zotero holds it while it runs
        store = make_store()
        (report,) = ingest(store, [library])
        zotero.rollback()
    assert report.status == "added" and report.papers == 4 and store.catalog.size() == 4
    assert library.read_bytes() == before


@pytest.mark.parametrize(("make", "reason"), [
    (lambda p: make_library(p, schema_version=77), "older schema"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t(x)").connection.commit(), "not a Zotero library"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x17" * 4000), "cannot read the Zotero database"),
])
def test_old_foreign_or_corrupt_databases_are_refused_with_a_reason(tmp_path: Path, make, reason: str) -> None:  # noqa: ANN001
    path = tmp_path / "zotero.sqlite"
    make(path)
    with pytest.raises(SourceError, match=reason):
        read_source(path)
