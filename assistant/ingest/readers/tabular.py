"""Parsers for JSONL and CSV collections: columns `title`, `abstract`, optional `date`,
`authors` (a count or a list of names) and `url`. This is how large collections get in."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping

from assistant.core.dates import MissingYear, parse_bound
from assistant.core.errors import AssistantError
from assistant.core.records import Record, arxiv_id_in, doi_in

# CSV fields above this size are a broken file, not an abstract (the csv module's own limit,
# 128 KB, would refuse a long abstract).
MAX_CSV_FIELD = 4 * 1024 * 1024


class BadRow(ValueError):
    """A row that cannot be read; the message names the line."""


def _authors(value: object, where: str) -> tuple[int | None, tuple[str, ...]]:
    """The author count, and the names where the row gives them: a list, or "A; B" / "A, B and C"."""
    if value is None or value == "":
        return None, ()
    if isinstance(value, list):
        names = tuple(" ".join(str(name).split()) for name in value if str(name).strip())
        return len(value), names
    if isinstance(value, int):
        return value, ()
    text = str(value).strip()
    if text.isdigit():
        return int(text), ()
    names = tuple(n.strip() for n in text.replace(" and ", ";").replace(",", ";").split(";") if n.strip())
    if not names:
        raise BadRow(f"{where}: cannot read authors {text!r}")
    return len(names), names


def _date(value: object, where: str) -> tuple[str | None, str | None]:
    if value is None or str(value).strip() == "":
        return None, None
    raw = str(value).strip()
    try:
        return parse_bound(raw), raw
    except MissingYear:
        return None, raw
    except AssistantError as exc:
        raise BadRow(f"{where}: cannot read date {raw!r}") from exc


def _categories(value: object) -> tuple[str, ...]:
    """Categories or keywords: a list, or "cs.LG; cs.AI" / "cs.LG, cs.AI"."""
    items = value if isinstance(value, list) else str(value or "").replace(";", ",").split(",")
    return tuple(dict.fromkeys(" ".join(str(item).split()) for item in items if str(item).strip()))


def record_from_row(row: Mapping[str, object], where: str) -> Record:
    """Validate one row and turn it into a Record. Optional identifiers are read from their
    own columns (`arxiv_id`, `doi`) or from the URL; an arXiv DOI (10.48550/arXiv.…) names the
    arXiv id too."""
    fields = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    title = str(fields.get("title") or "").strip()
    abstract = " ".join(str(fields.get("abstract") or "").split())
    if not title or not abstract:
        raise BadRow(f"{where}: missing {'title' if not title else 'abstract'}")
    iso, raw = _date(fields.get("date"), where)
    count, names = _authors(fields.get("authors"), where)
    given_url = str(fields.get("url") or "").strip() or None
    doi = doi_in(str(fields.get("doi") or ""), given_url)
    url = given_url or (f"https://doi.org/{doi}" if doi else None)  # a DOI is a link where no URL is given
    arxiv = arxiv_id_in(f"arXiv:{fields['arxiv_id']}" if fields.get("arxiv_id") else None, url,
                        str(fields.get("note") or ""), doi.replace("10.48550/arxiv.", "arxiv:") if doi else None)
    venue = " ".join(str(fields.get("venue") or "").split()) or None
    return Record(title=" ".join(title.split()), abstract=abstract, authors=count, author_names=names,
                  date=iso, date_raw=raw, url=url, arxiv_id=arxiv, doi=doi, venue=venue,
                  categories=_categories(fields.get("categories")))


def parse_jsonl(lines: Iterable[str]) -> list[Record]:
    """One JSON object per line; blank lines are allowed."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadRow(f"line {number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise BadRow(f"line {number}: expected a JSON object")
        records.append(record_from_row(row, f"line {number}"))
    return records


def parse_csv(text: str) -> list[Record]:
    """A CSV file with a header row naming at least `title` and `abstract`."""
    # lines, not a StringIO: that would hold a second copy of the text at four bytes a character
    reader = csv.DictReader(line + "\n" for line in text.split("\n"))
    # the csv module keeps its limit process-wide: raised for this read only, then put back
    previous = csv.field_size_limit(MAX_CSV_FIELD)
    try:
        header = {name.strip().lower() for name in reader.fieldnames or []}
        missing = {"title", "abstract"} - header
        if missing:
            raise BadRow(f"header lacks column(s): {', '.join(sorted(missing))}")
        return [record_from_row(row, f"line {reader.line_num}") for row in reader]
    except csv.Error as exc:
        raise BadRow(f"line {reader.line_num}: {exc}") from exc
    finally:
        csv.field_size_limit(previous)
