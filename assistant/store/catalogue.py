"""SQLite catalogue: papers, the pages they were seen on, content hashes, and an FTS5 index.

It is the source of truth for which papers exist; the vector store follows it. A paper's
fields are derived from its sightings (one row per page it appears on), so re-ingesting a page
is "replace that page's sightings, then re-derive the papers it touched".
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import AssistantError, StoreError
from assistant.core.latex import readable
from assistant.core.records import (
    Paper,
    Record,
    content_hash,
    content_words,
    find_links,
    normalise_title,
    paper_id,
    spellings,
)
from assistant.core.safe_text import inert
from assistant.store.migrations import Step, script, upgrade

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers (
    num INTEGER PRIMARY KEY,  -- an explicit rowid: the FTS index refers to it, and VACUUM keeps it
    id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, abstract TEXT NOT NULL,
    authors INTEGER, date TEXT, date_raw TEXT, upvotes INTEGER, url TEXT, links TEXT NOT NULL,
    content_hash TEXT NOT NULL, embedded_hash TEXT
);
CREATE INDEX IF NOT EXISTS papers_date ON papers(date);
CREATE TABLE IF NOT EXISTS aliases (key TEXT PRIMARY KEY, paper_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL, sha256 TEXT NOT NULL,
    layout TEXT NOT NULL, page_date TEXT, papers INTEGER NOT NULL, ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sightings (
    seq INTEGER PRIMARY KEY, paper_id TEXT NOT NULL, page_id INTEGER NOT NULL, position INTEGER NOT NULL,
    key TEXT NOT NULL, title TEXT NOT NULL, abstract TEXT NOT NULL, authors INTEGER, date TEXT,
    date_raw TEXT, upvotes INTEGER, url TEXT
);
CREATE INDEX IF NOT EXISTS sightings_paper ON sightings(paper_id);
CREATE INDEX IF NOT EXISTS sightings_page ON sightings(page_id);
CREATE TABLE IF NOT EXISTS vector_deletes (paper_id TEXT PRIMARY KEY);
CREATE VIRTUAL TABLE IF NOT EXISTS papers_fts USING fts5(
    title, abstract, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
# Upgrade steps, oldest first (see migrations.py); a new release appends, never edits.
UPGRADES = [
    Step("create the catalogue tables", script(SCHEMA)),
    # Author names (a JSON list), where a file gives them. Files indexed before are read again on
    # their next ingest (their recorded hash is cleared), so their names come in then.
    Step("keep author names", script("""
ALTER TABLE papers ADD COLUMN author_names TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sightings ADD COLUMN author_names TEXT NOT NULL DEFAULT '[]';
UPDATE pages SET sha256 = '' WHERE layout IN ('jsonl', 'csv');
""")),
    # arXiv id, DOI, venue and categories, where a file gives them; the same paper from a
    # listing page, a feed and a .bib is one paper by its ids. JSONL/CSV files are read again on
    # their next ingest (their optional columns come in then); no other kept format had them.
    Step("keep identifiers, venues and categories", script("""
ALTER TABLE papers ADD COLUMN arxiv_id TEXT;
ALTER TABLE papers ADD COLUMN doi TEXT;
ALTER TABLE papers ADD COLUMN venue TEXT;
ALTER TABLE papers ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sightings ADD COLUMN arxiv_id TEXT;
ALTER TABLE sightings ADD COLUMN doi TEXT;
ALTER TABLE sightings ADD COLUMN venue TEXT;
ALTER TABLE sightings ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
CREATE INDEX IF NOT EXISTS papers_arxiv_id ON papers(arxiv_id);
CREATE INDEX IF NOT EXISTS papers_doi ON papers(doi);
UPDATE pages SET sha256 = '' WHERE layout IN ('jsonl', 'csv');
""")),
]
# The one rule for "this paper's vectors are missing or stale": ingest, stats and check all use it.
NEEDS_EMBEDDING = "embedded_hash IS NULL OR embedded_hash != content_hash"
_PAPER_COLUMNS = ("id, title, abstract, authors, author_names, date, date_raw, upvotes, url, links, arxiv_id, doi, venue, "
                  "categories")


@dataclass(frozen=True)
class PageChange:
    """What replacing one page did to the catalogue."""

    new: int
    changed: int
    unchanged: int
    removed: int


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression OR-ing the query's content words (None if it has none).

    Each term is quoted so that user input can never be read as FTS5 syntax.
    """
    unique = list(dict.fromkeys(content_words(text)))
    return " OR ".join(f'"{term}"' for term in unique) or None

_DATE_PART = re.compile(r"\d+|[A-Za-z]{3,}")


def _date_precision(row: sqlite3.Row) -> int:
    """How much of a date its source gave: year, month, day (3 for "2024-05-22" or "22 May 2024",
    2 for "2024 may", 1 for "2024")."""
    return min(3, len(_DATE_PART.findall(row["date_raw"]))) if row["date_raw"] else 3


class Catalog:
    """The SQLite catalogue of one data directory."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            upgrade(self.db, path, UPGRADES)
        except StoreError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(
                f"{path} cannot be read as a catalogue ({exc}). It was not changed. To recover, restore it from a "
                f"backup; or move it and {path.parent / 'chroma'}/ aside (keep them) and ingest your saved pages again "
                "with `assistant ingest PATH...`: assistant only reads your pages, so they are all still there"
            ) from exc

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing block: a crash or error inside leaves the catalogue as it was."""
        with self.db:
            yield self.db

    # -- metadata -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def rebuild_fts(self) -> None:
        """Recreate the keyword index from the papers table."""
        with self.db:
            self.db.execute("DELETE FROM papers_fts")
            self.db.execute(
                "INSERT INTO papers_fts(rowid, title, abstract) SELECT num, title, abstract FROM papers"
            )

    # -- pages and papers -----------------------------------------------------------------
    def page_hash(self, path: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM pages WHERE path = ?", (path,)).fetchone()
        return None if row is None else str(row["sha256"])

    def has_content(self, sha256: str) -> bool:
        """Whether a file with exactly these bytes was already ingested (under any name)."""
        return self.db.execute("SELECT 1 FROM pages WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def aliases(self) -> dict[str, str]:
        """Every normalised title seen so far, mapped to the paper it belongs to."""
        return {row["key"]: row["paper_id"] for row in self.db.execute("SELECT key, paper_id FROM aliases")}

    def replace_page(
        self, path: str, name: str, sha256: str, layout: str, page_date: str | None,
        sightings: list[tuple[str, Record]], now: str,
    ) -> PageChange:
        """Replace everything one page says (a file, in one transaction) and re-derive its papers."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM pages WHERE path = ?", (path,)).fetchone()
            touched: set[str] = set()
            if row is not None:
                page_id = int(row["id"])
                touched |= {r["paper_id"] for r in db.execute("SELECT paper_id FROM sightings WHERE page_id = ?", (page_id,))}
                db.execute("DELETE FROM sightings WHERE page_id = ?", (page_id,))
                db.execute(
                    "UPDATE pages SET name=?, sha256=?, layout=?, page_date=?, papers=?, ingested_at=? WHERE id=?",
                    (name, sha256, layout, page_date, len(sightings), now, page_id),
                )
            else:
                cursor = db.execute(
                    "INSERT INTO pages(path, name, sha256, layout, page_date, papers, ingested_at) VALUES (?,?,?,?,?,?,?)",
                    (path, name, sha256, layout, page_date, len(sightings), now),
                )
                page_id = int(cursor.lastrowid or 0)
            for position, (pid, rec) in enumerate(sightings):
                db.execute("INSERT OR IGNORE INTO aliases(key, paper_id) VALUES (?, ?)", (rec.key, pid))
                db.execute(
                    "INSERT INTO sightings(paper_id, page_id, position, key, title, abstract, authors, author_names,"
                    " date, date_raw, upvotes, url, arxiv_id, doi, venue, categories)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (pid, page_id, position, rec.key, rec.title, rec.abstract, rec.authors,
                     json.dumps(list(rec.author_names), ensure_ascii=False), rec.date, rec.date_raw, rec.upvotes,
                     rec.url, rec.arxiv_id, rec.doi, rec.venue, json.dumps(list(rec.categories), ensure_ascii=False)),
                )
            counts = {"new": 0, "changed": 0, "unchanged": 0, "removed": 0}
            for pid in sorted(touched | {pid for pid, _ in sightings}):
                counts[self._refresh_paper(db, pid)] += 1
        return PageChange(**counts)

    def by_identifier(self, arxiv_id: str | None, doi: str | None) -> str | None:
        """The paper with this arXiv id or DOI, if one is known: the same paper whatever its
        title is spelled as in one file or another."""
        for column, value in (("arxiv_id", arxiv_id), ("doi", doi)):
            if value:
                row = self.db.execute(f"SELECT id FROM papers WHERE {column} = ?", (value,)).fetchone()
                if row is not None:
                    return str(row["id"])
        return None

    def in_category(self, category: str) -> set[str]:
        """The papers with this category or keyword (case does not matter; "cs.RO" or "cs")."""
        wanted = category.casefold()
        return {str(row["id"]) for row in self.db.execute("SELECT id, categories FROM papers WHERE categories != '[]'")
                if any(c.casefold() == wanted or c.casefold().startswith(wanted + ".")
                       for c in json.loads(row["categories"]))}

    def page_paths(self, path: str, name: str) -> list[str]:
        """The stored paths of the ingested files that `path` names: its full path, or a file
        name (the bundled pages are stored by name)."""
        rows = self.db.execute("SELECT path FROM pages WHERE path = ? OR name = ? ORDER BY path", (path, name))
        return [str(row["path"]) for row in rows]

    def remove_page(self, path: str) -> PageChange:
        """Forget one ingested file, in one transaction: its papers that no other file lists
        leave the catalogue and the keyword index, and their vectors are queued for deletion."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM pages WHERE path = ?", (path,)).fetchone()
            if row is None:
                return PageChange(0, 0, 0, 0)
            touched = [r["paper_id"] for r in db.execute("SELECT DISTINCT paper_id FROM sightings WHERE page_id = ?",
                                                          (row["id"],))]
            db.execute("DELETE FROM sightings WHERE page_id = ?", (row["id"],))
            db.execute("DELETE FROM pages WHERE id = ?", (row["id"],))
            counts = {"new": 0, "changed": 0, "unchanged": 0, "removed": 0}
            for pid in sorted(touched):
                counts[self._refresh_paper(db, pid)] += 1
        return PageChange(**counts)

    def remove_papers(self, ids: Iterable[str]) -> int:
        """Forget single papers wherever they are listed, in one transaction (each page's count
        follows); returns how many were removed."""
        removed = 0
        with self.transaction() as db:
            for pid in dict.fromkeys(ids):
                db.execute("DELETE FROM sightings WHERE paper_id = ?", (pid,))
                removed += self._refresh_paper(db, pid) == "removed"
            db.execute("UPDATE pages SET papers = (SELECT COUNT(*) FROM sightings s WHERE s.page_id = pages.id)")
        return removed

    def _refresh_paper(self, db: sqlite3.Connection, pid: str) -> str:
        """Re-derive one paper from its sightings; returns new/changed/unchanged/removed."""
        current = db.execute("SELECT num, content_hash FROM papers WHERE id = ?", (pid,)).fetchone()
        rows = db.execute("SELECT * FROM sightings WHERE paper_id = ? ORDER BY seq DESC", (pid,)).fetchall()
        if not rows:
            if current is not None:
                db.execute("DELETE FROM papers_fts WHERE rowid = ?", (current["num"],))
            db.execute("DELETE FROM papers WHERE id = ?", (pid,))
            db.execute("DELETE FROM aliases WHERE paper_id = ?", (pid,))
            db.execute("INSERT OR IGNORE INTO vector_deletes(paper_id) VALUES (?)", (pid,))
            return "removed" if current is not None else "unchanged"
        # The paper's own title is the one its id was made from; other spellings are variants.
        key = next((r["key"] for r in rows if paper_id(r["key"]) == pid), rows[-1]["key"])
        # Newest sightings of the paper's own title first; spelling variants only fill gaps.
        ordered = [r for r in rows if r["key"] == key] + [r for r in rows if r["key"] != key]
        main = ordered[0]
        # the most precise date a source gives ("2024-05-22" over a .bib's "2024 may"), newest first
        dated = max((r for r in ordered if r["date"]), key=_date_precision, default=None) \
            or next((r for r in ordered if r["date_raw"]), None)
        fields = {
            "title": main["title"],
            "abstract": main["abstract"],
            "authors": next((r["authors"] for r in ordered if r["authors"] is not None), None),
            "author_names": next((r["author_names"] for r in ordered if r["author_names"] != "[]"), "[]"),
            "date": dated["date"] if dated else None,
            "date_raw": dated["date_raw"] if dated else None,
            "upvotes": max((r["upvotes"] for r in ordered if r["upvotes"] is not None), default=None),
            "url": next((r["url"] for r in ordered if r["url"]), None),
            "arxiv_id": next((r["arxiv_id"] for r in ordered if r["arxiv_id"]), None),
            # a journal's DOI says more than arXiv's own (10.48550/arxiv.…), which the arXiv id gives
            "doi": next((r["doi"] for r in ordered if r["doi"] and not r["doi"].startswith("10.48550/")),
                        next((r["doi"] for r in ordered if r["doi"]), None)),
            "venue": next((r["venue"] for r in ordered if r["venue"]), None),
            "categories": json.dumps(list(dict.fromkeys(c for r in ordered for c in json.loads(r["categories"]))),
                                     ensure_ascii=False),
            "links": json.dumps(find_links(main["abstract"])),
            "content_hash": content_hash(main["title"], main["abstract"]),
        }
        names = ", ".join(fields)
        if current is None:
            rowid = db.execute(
                f"INSERT INTO papers(id, {names}) VALUES (?, {', '.join('?' * len(fields))})", (pid, *fields.values())
            ).lastrowid
        else:
            rowid = current["num"]
            db.execute(f"UPDATE papers SET {', '.join(f'{n} = ?' for n in fields)} WHERE id = ?", (*fields.values(), pid))
        if current is not None and current["content_hash"] == fields["content_hash"]:
            return "unchanged"
        # The keyword index shares the papers' rowids, so updating one entry is a lookup, not a scan.
        db.execute("DELETE FROM papers_fts WHERE rowid = ?", (rowid,))
        db.execute(
            "INSERT INTO papers_fts(rowid, title, abstract) VALUES (?, ?, ?)", (rowid, main["title"], main["abstract"])
        )
        return "new" if current is None else "changed"

    # -- embedding bookkeeping --------------------------------------------------------------
    def pending_embeddings(self) -> list[tuple[str, str, str, str]]:
        """(id, title, abstract, content_hash) of papers whose vectors are missing or stale."""
        rows = self.db.execute(f"SELECT id, title, abstract, content_hash FROM papers WHERE {NEEDS_EMBEDDING} ORDER BY id")
        return [(r["id"], r["title"], r["abstract"], r["content_hash"]) for r in rows]

    def embedding_states(self) -> list[tuple[str, str, str, bool]]:
        """(id, title, abstract, needs embedding) of every paper, for `check`."""
        rows = self.db.execute(f"SELECT id, title, abstract, ({NEEDS_EMBEDDING}) AS pending FROM papers")
        return [(r["id"], r["title"], r["abstract"], bool(r["pending"])) for r in rows]

    def mark_embedded(self, done: Iterable[tuple[str, str]]) -> None:
        with self.db:
            self.db.executemany("UPDATE papers SET embedded_hash = ? WHERE id = ?", [(h, pid) for pid, h in done])

    def forget_embeddings(self, ids: Iterable[str] | None = None) -> None:
        """Mark papers as needing new vectors: these (check's repair), or every one (reindex)."""
        with self.db:
            if ids is not None:
                self.db.executemany("UPDATE papers SET embedded_hash = NULL WHERE id = ?", [(pid,) for pid in ids])
                return
            self.db.execute("UPDATE papers SET embedded_hash = NULL")
            self.db.execute("DELETE FROM vector_deletes")

    def integrity(self) -> str:
        """SQLite's own verdict on the file: "ok", or what is damaged."""
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    def keyword_rows(self) -> int:
        """Rows of the keyword index (one per paper when it is whole)."""
        return int(self.db.execute("SELECT COUNT(*) FROM papers_fts").fetchone()[0])

    def pending_vector_deletes(self) -> list[str]:
        return [r["paper_id"] for r in self.db.execute("SELECT paper_id FROM vector_deletes")]

    def clear_vector_deletes(self, ids: list[str]) -> None:
        with self.db:
            self.db.executemany("DELETE FROM vector_deletes WHERE paper_id = ?", [(i,) for i in ids])

    # -- reading --------------------------------------------------------------------------
    def bm25(self, text: str, limit: int, since: str | None = None, until: str | None = None) -> list[str]:
        """Paper ids ranked by BM25 over title (weighted 3x) and abstract, best first.

        Without dates the index ranks and cuts on its own before the join: a third of the time
        at 100,000 papers (10 against 22-34 ms), where every row that matches a common word
        would otherwise be joined before the cut."""
        match = fts_query(text)
        if match is None:
            return []
        if since or until:
            sql = (
                "SELECT p.id AS paper_id FROM papers_fts f JOIN papers p ON p.num = f.rowid"
                " WHERE papers_fts MATCH ?" + _date_clause(since, until) + " ORDER BY bm25(papers_fts, 3.0, 1.0) LIMIT ?"
            )
        else:
            sql = (
                "SELECT p.id AS paper_id FROM (SELECT rowid AS num, bm25(papers_fts, 3.0, 1.0) AS score FROM papers_fts"
                " WHERE papers_fts MATCH ? ORDER BY score LIMIT ?) f JOIN papers p ON p.num = f.num ORDER BY f.score"
            )
        params = [match, *[d for d in (since, until) if d], limit]
        return [r["paper_id"] for r in self.db.execute(sql, params)]

    def size(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])

    def document_frequency(self, words: list[str]) -> dict[str, int]:
        """How many papers use each word (stemmed as the keyword index stems it, and in either
        British or American spelling: "recognise" counts papers that say "recognize")."""
        counts = {}
        for word in dict.fromkeys(words):
            match = " OR ".join(f'"{variant}"' for variant in spellings(word))
            row = self.db.execute("SELECT count(*) AS n FROM papers_fts WHERE papers_fts MATCH ?", (match,)).fetchone()
            counts[word] = int(row["n"])
        return counts

    def ids_in_range(self, since: str | None, until: str | None) -> set[str]:
        sql = "SELECT id FROM papers p WHERE 1=1" + _date_clause(since, until)
        return {r["id"] for r in self.db.execute(sql, [d for d in (since, until) if d])}

    def abstract(self, paper_id: str) -> str | None:
        row = self.db.execute("SELECT abstract FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return None if row is None else str(row["abstract"])

    def papers(self, ids: list[str]) -> dict[str, Paper]:
        """Full paper records (with pages and spelling variants) for the given ids."""
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT {_PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", chunk):
                found[row["id"]] = self._paper(row)
        return found

    def _paper(self, row: sqlite3.Row) -> Paper:
        pages = [r["name"] for r in self.db.execute(
            "SELECT DISTINCT pg.name FROM sightings s JOIN pages pg ON pg.id = s.page_id WHERE s.paper_id = ? ORDER BY pg.name",
            (row["id"],),
        )]
        aliases = [r["title"] for r in self.db.execute(
            "SELECT DISTINCT title FROM sightings WHERE paper_id = ? AND title != ? ORDER BY title", (row["id"], row["title"]),
        )]
        # inert again on the way out: a store ingested before control characters were stripped
        # must not reach a terminal either; LaTeX markup is shown as the text it stands for (the
        # keyword index and the vectors keep the wording as written)
        return Paper(
            id=row["id"], title=readable(inert(row["title"])), abstract=readable(inert(row["abstract"])),
            authors=row["authors"],
            author_names=[inert(name) for name in json.loads(row["author_names"])],
            date=row["date"], date_raw=row["date_raw"] and inert(row["date_raw"]), upvotes=row["upvotes"],
            url=row["url"] and inert(row["url"]),
            links=[{k: inert(v) for k, v in link.items()} for link in json.loads(row["links"])],
            pages=[inert(p) for p in pages], aliases=[inert(a) for a in aliases],
            arxiv_id=row["arxiv_id"] and inert(row["arxiv_id"]), doi=row["doi"] and inert(row["doi"]),
            venue=row["venue"] and readable(inert(row["venue"])),
            categories=[inert(c) for c in json.loads(row["categories"])],
        )

    def page_paper_ids(self, path: str) -> list[str]:
        """The papers of one page, in the order the page lists them."""
        rows = self.db.execute(
            "SELECT s.paper_id, MIN(s.position) AS first FROM sightings s JOIN pages pg ON pg.id = s.page_id"
            " WHERE pg.path = ? GROUP BY s.paper_id ORDER BY first", (path,),
        )
        return [r["paper_id"] for r in rows]

    def all_ids(self, order: str = "date") -> list[str]:
        """Every paper id; `date` = newest first (undated last), `title` = alphabetical."""
        by = "date IS NULL, date DESC, title" if order == "date" else "title COLLATE NOCASE"
        return [r["id"] for r in self.db.execute(f"SELECT id FROM papers ORDER BY {by}")]

    def find(self, query: str) -> list[str]:
        """Ids matching an id, an exact title (any spelling seen), or a part of a title."""
        if self.db.execute("SELECT 1 FROM papers WHERE id = ?", (query,)).fetchone():
            return [query]
        key = normalise_title(query)
        exact = self.db.execute("SELECT paper_id FROM aliases WHERE key = ?", (key,)).fetchone()
        if exact is not None:
            return [exact["paper_id"]]
        like = f"%{key}%"
        return [r["id"] for r in self.db.execute(
            "SELECT DISTINCT p.id FROM papers p JOIN aliases a ON a.paper_id = p.id WHERE a.key LIKE ? ORDER BY p.title", (like,),
        )]

    def by_author(self, name: str) -> list[str]:
        """Ids of the papers (newest first) with an author of this name: the whole name, a
        surname alone ("Abbeel"), or a name with initials ("P. Abbeel", "C. Karen Liu": every
        given name and initial must fit, so Chengju Liu is not C. Karen Liu), matched without
        regard to case, accents or punctuation."""
        wanted = normalise_title(name).split()
        if not wanted:
            return []
        found = []
        for row in self.db.execute("SELECT id, author_names FROM papers WHERE author_names != '[]' "
                                   "ORDER BY date IS NULL, date DESC, title"):
            for author in json.loads(row["author_names"]):
                parts = normalise_title(author).split()
                if parts == wanted or (len(wanted) == 1 and parts and parts[-1] == wanted[0]) or _initials_fit(wanted, parts):
                    found.append(row["id"])
                    break
        return found

    def resolve(self, query: str) -> Paper:
        """Exactly one paper for an id or (part of a) title, or an error that lists the choices."""
        ids = self.find(query)
        if not ids:
            raise AssistantError(f"no paper matches {query!r} (try `assistant search` or `assistant papers`)")
        found = self.papers(ids)
        if len(ids) > 1:
            listing = "\n".join(f"  {pid}  {found[pid].title}" for pid in ids[:20])
            raise AssistantError(f"{len(ids)} papers match {query!r}; give one id:\n{listing}")
        return found[ids[0]]

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "papers": int(one("SELECT COUNT(*) FROM papers").fetchone()[0]),
            "pages": int(one("SELECT COUNT(*) FROM pages").fetchone()[0]),
            "sightings": int(one("SELECT COUNT(*) FROM sightings").fetchone()[0]),
            "pending_embeddings": int(one(f"SELECT COUNT(*) FROM papers WHERE {NEEDS_EMBEDDING}").fetchone()[0]),
            "with_date": int(one("SELECT COUNT(*) FROM papers WHERE date IS NOT NULL").fetchone()[0]),
            "with_authors": int(one("SELECT COUNT(*) FROM papers WHERE authors IS NOT NULL").fetchone()[0]),
        }

    def date_range(self) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT MIN(date), MAX(date) FROM papers").fetchone()
        return row[0], row[1]

    def pages(self) -> list[dict[str, object]]:
        rows = self.db.execute("SELECT name, path, layout, page_date, papers, ingested_at FROM pages ORDER BY name")
        return [dict(r) for r in rows]


def _date_clause(since: str | None, until: str | None) -> str:
    return (" AND p.date >= ?" if since else "") + (" AND p.date <= ?" if until else "")


def _initials_fit(wanted: list[str], parts: list[str]) -> bool:
    """Whether a name with initials ("p abbeel", "c karen liu") fits an author's name parts:
    the same surname, and each given name or initial of `wanted`, in order, is a given name of
    the author or that name's initial."""
    if len(wanted) < 2 or not parts or parts[-1] != wanted[-1] or all(len(w) > 1 for w in wanted[:-1]):
        return False
    given = iter(parts[:-1])
    return all(any(part == w or (len(w) == 1 and part.startswith(w)) for part in given) for w in wanted[:-1])

