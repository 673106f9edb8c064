"""Turn one input file into paper records, choosing the parser from the file itself.

Pure: reads the file and nothing else, so a bad file fails before anything is written.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.core.errors import SourceError
from assistant.core.safe_text import inert
from assistant.ingest.readers.bibliography import NotABibliography, kind_of, parse_bibliography
from assistant.ingest.readers.feed import NotAFeed, looks_like_feed, parse_feed
from assistant.ingest.readers.html import looks_like_html, parse_html
from assistant.ingest.readers.listing import NotAListing, ParsedPage, parse_listing
from assistant.ingest.readers.tabular import BadRow, parse_csv, parse_jsonl
from assistant.ingest.readers.text import read_text
from assistant.ingest.readers.zotero import NotALibrary, looks_like_sqlite, parse_zotero

# JSONL/CSV collections can be large; the cap only guards against reading e.g. a disk image.
MAX_TABLE_BYTES = 2 * 1024 * 1024 * 1024
TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
FEED_SUFFIXES = {".xml", ".atom"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
LIBRARY_SUFFIXES = {".sqlite"}  # Zotero's zotero.sqlite
BIBLIOGRAPHY_SUFFIXES = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json"}
SUPPORTED_SUFFIXES = {".txt", ".text", ".md", *TABLE_SUFFIXES, *FEED_SUFFIXES, *HTML_SUFFIXES, *BIBLIOGRAPHY_SUFFIXES,
                      *LIBRARY_SUFFIXES}

__all__ = ["ParsedPage", "SUPPORTED_SUFFIXES", "read_source"]


def read_source(path: Path) -> ParsedPage:
    """Parse a listing page (text or saved HTML), an arXiv Atom feed, BibTeX, RIS, CSL-JSON,
    a Zotero library (zotero.sqlite), JSONL or CSV file into records; SourceError says what
    is wrong. Libraries, HTML pages, feeds and bibliographies are known by their content too,
    whatever the file is called."""
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if path.is_dir():
        raise SourceError(path, "is a directory")
    try:
        if _is_database(path):
            records, warnings = parse_zotero(path)
            return _made_inert(ParsedPage(layout="zotero", page_date=None, records=records, warnings=warnings))
        if kind == "jsonl":
            records = parse_jsonl(read_text(path, MAX_TABLE_BYTES).split("\n"))
        elif kind == "csv":
            records = parse_csv(read_text(path, MAX_TABLE_BYTES))
        else:
            # a whole library exported with its abstracts may be larger than any saved page
            named = BIBLIOGRAPHY_SUFFIXES.get(path.suffix.lower())
            text = read_text(path, MAX_TABLE_BYTES) if named else read_text(path)
            bibliography = kind_of(text) or named
            if bibliography:
                found = parse_bibliography(bibliography, text)
                return _made_inert(ParsedPage(layout=bibliography, page_date=None, records=found.records,
                                              warnings=found.warnings))
            if path.suffix.lower() in HTML_SUFFIXES or looks_like_html(text):
                return _made_inert(parse_html(text))
            if path.suffix.lower() not in FEED_SUFFIXES and not looks_like_feed(text):
                return _made_inert(parse_listing(text))
            kind, records = "atom", parse_feed(text)
    except (NotAListing, NotAFeed, NotABibliography, NotALibrary, BadRow) as exc:
        raise SourceError(path, str(exc)) from exc
    if not records:
        raise SourceError(path, f"no papers in this {kind.upper()} file")
    return _made_inert(ParsedPage(layout=kind, page_date=None, records=records))


def _is_database(path: Path) -> bool:
    """An SQLite file (a Zotero library), by its first bytes whatever its name."""
    try:
        with path.open("rb") as handle:
            return looks_like_sqlite(handle.read(16))
    except OSError:
        return False  # reading it as text reports why it cannot be read


def _made_inert(page: ParsedPage) -> ParsedPage:
    """The page with terminal control characters removed from every text field, and a warning
    with their count: they can only be an attack on the terminal (or debris), never content."""
    removed = 0
    records = []
    for record in page.records:
        fields = {name: getattr(record, name) for name in ("title", "abstract", "date_raw", "url", "arxiv_id", "doi",
                                                             "venue")}
        clean = {name: None if value is None else inert(value) for name, value in fields.items()}
        removed += sum(len(value or "") - len(clean[name] or "") for name, value in fields.items())
        lists = {name: getattr(record, name) for name in ("author_names", "categories")}
        cleaned = {name: tuple(inert(item) for item in items) for name, items in lists.items()}
        removed += sum(sum(map(len, lists[name])) - sum(map(len, cleaned[name])) for name in lists)
        records.append(replace(record, **clean, **cleaned))
    if not removed:
        return page
    warning = f"removed {removed} terminal control character(s) (escape codes) from the text"
    return replace(page, records=records, warnings=[*page.warnings, warning])
