"""A Zotero library: `zotero.sqlite` in the Zotero data directory (`~/Zotero` by default).

Zotero keeps its database locked while it runs, and nothing of a user's library may ever be
changed, so the file (with its write-ahead log, if any) is copied to a temporary folder and
the copy is opened read-only. Items in the trash, notes, attachments and annotations are left
out; every other item with a title and an abstract is a paper, with its authors in order, its
date, and its URL (or DOI link).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from assistant.core.records import Record
from assistant.ingest.readers.tabular import BadRow, record_from_row

SQLITE_HEADER = b"SQLite format 3\x00"
# Zotero 5 (2017) moved to this layout (creators without creatorData, fieldsCombined).
MIN_SCHEMA = 95
_NOT_PAPERS = ("note", "attachment", "annotation")
_ITEMS = """
SELECT i.itemID,
       MAX(CASE WHEN f.fieldName = 'title' THEN v.value END) AS title,
       MAX(CASE WHEN f.fieldName = 'abstractNote' THEN v.value END) AS abstract,
       MAX(CASE WHEN f.fieldName = 'date' THEN v.value END) AS date,
       MAX(CASE WHEN f.fieldName = 'url' THEN v.value END) AS url,
       MAX(CASE WHEN f.fieldName = 'DOI' THEN v.value END) AS doi,
       MAX(CASE WHEN f.fieldName = 'extra' THEN v.value END) AS extra,
       MAX(CASE WHEN f.fieldName IN ('publicationTitle', 'proceedingsTitle', 'bookTitle')
                THEN v.value END) AS venue
FROM items i
JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID
LEFT JOIN itemData d ON d.itemID = i.itemID
LEFT JOIN fieldsCombined f ON f.fieldID = d.fieldID
LEFT JOIN itemDataValues v ON v.valueID = d.valueID
WHERE i.itemID NOT IN (SELECT itemID FROM deletedItems) AND t.typeName NOT IN (?, ?, ?)
GROUP BY i.itemID ORDER BY i.itemID
"""
_CREATORS = """
SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType
FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID
JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
ORDER BY ic.itemID, ic.orderIndex
"""


class NotALibrary(ValueError):
    """The file is not a Zotero library that can be read; the message says why."""


def looks_like_sqlite(head: bytes) -> bool:
    return head.startswith(SQLITE_HEADER)


def _zotero_date(value: str | None) -> str | None:
    """Zotero stores "2022-02-24 February 24, 2022" (SQL form, then as typed); "00" is unknown."""
    if not value:
        return None
    sql = value.split(" ", 1)[0]
    parts = [p for p in sql.split("-") if p.strip("0")]
    return " ".join(parts) if parts and len(parts[0]) == 4 else value


def _names(rows: list[sqlite3.Row]) -> list[str]:
    authors = [r for r in rows if r["creatorType"] == "author"] or rows
    return [" ".join(part for part in ((r["lastName"],) if r["fieldMode"] == 1 else (r["firstName"], r["lastName"]))
                     if part) for r in authors]


def _read(db: sqlite3.Connection) -> tuple[list[Record], int]:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"items", "itemData", "itemDataValues", "fieldsCombined", "creators", "itemCreators"} <= tables:
        raise NotALibrary("an SQLite database, but not a Zotero library (it has no items and itemData tables)")
    version = db.execute("SELECT version FROM version WHERE schema = 'userdata'").fetchone() if "version" in tables \
        else None
    if version is None or int(version[0]) < MIN_SCHEMA:
        raise NotALibrary(f"a Zotero library of an older schema ({version[0] if version else 'unknown'}); "
                          "open it once in Zotero 5 or newer, which upgrades it")
    creators: dict[int, list[sqlite3.Row]] = {}
    for row in db.execute(_CREATORS):
        creators.setdefault(int(row["itemID"]), []).append(row)
    records, skipped = [], 0
    for row in db.execute(_ITEMS, _NOT_PAPERS):
        if not (row["title"] or "").strip() or not (row["abstract"] or "").strip():
            skipped += 1
            continue
        try:
            records.append(record_from_row({
                "title": row["title"], "abstract": row["abstract"], "date": _zotero_date(row["date"]),
                "authors": _names(creators.get(int(row["itemID"]), [])) or None,
                "url": row["url"],
                "doi": row["doi"], "note": row["extra"], "venue": row["venue"],
            }, f"item {row['itemID']}"))
        except BadRow:
            skipped += 1
    return records, skipped


def parse_zotero(path: Path) -> tuple[list[Record], list[str]]:
    """The papers of a Zotero library, read from a private copy; NotALibrary says what is wrong."""
    with tempfile.TemporaryDirectory(prefix="assistant-zotero-") as folder:
        copy = Path(folder) / "zotero.sqlite"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():  # changes Zotero has not yet written into the main file
            shutil.copyfile(wal, Path(folder) / "zotero.sqlite-wal")
        try:
            with closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as db:
                db.row_factory = sqlite3.Row
                records, skipped = _read(db)
        except sqlite3.DatabaseError as exc:
            raise NotALibrary(f"cannot read the Zotero database ({exc}); copy it again while Zotero is closed") from exc
    if not records:
        raise NotALibrary(f"a Zotero library with no item that has an abstract ({skipped} without)")
    warnings = [f"skipped {skipped} item(s) without a title or an abstract"] if skipped else []
    return records, warnings
