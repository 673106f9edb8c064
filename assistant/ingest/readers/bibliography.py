"""What reference managers export (Zotero, Mendeley, JabRef, Google Scholar): BibTeX, RIS and
CSL-JSON. Each is parsed by its own library (bibtexparser 2, rispy, json) into the same row
shape as a JSONL line, and validated by the same `record_from_row`.

A reference without an abstract cannot be searched or cited for what it says, so it is
skipped with a count in the page's warnings; a file with none that has one is refused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assistant.core.records import Record
from assistant.ingest.readers.tabular import BadRow, record_from_row

# bibtexparser logs each entry it cannot parse; the reader reports them itself (as a warning, or
# in the refusal), so its log lines would only repeat that as noise on the terminal.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_NAMES = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}


class NotABibliography(ValueError):
    """The text is not the bibliography format it was taken for; the message says why."""


@dataclass
class Bibliography:
    """The papers a bibliography file holds, and what was skipped in it."""

    records: list[Record]
    warnings: list[str] = field(default_factory=list)


def kind_of(text: str) -> str | None:
    """"bibtex", "ris" or "csl-json" when a file's content is one, whatever its name; else None."""
    head = text.lstrip("\ufeff \n\t")[:4096]
    if re.match(r"@\s*[A-Za-z]+\s*[{(]", head) or re.search(r"^@\s*(article|misc|inproceedings|book)\s*\{", head, re.M | re.I):
        return "bibtex"
    if re.match(r"TY  - ", head):
        return "ris"
    if head.startswith("[") and re.search(r'"(type|title|issued)"\s*:', head):
        return "csl-json"
    return None


def _rows(kind: str, text: str) -> tuple[list[tuple[str, dict[str, object]]], int]:
    """The references, and how many entries could not be parsed at all (BibTeX only)."""
    if kind == "bibtex":
        return _bibtex_rows(text)
    if kind == "ris":
        return _ris_rows(text), 0
    return _csl_rows(text), 0


def parse_bibliography(kind: str, text: str) -> Bibliography:
    """Every reference with a title and an abstract, in file order."""
    rows, broken = _rows(kind, text)
    invalid = f"{broken} entry(ies) that are not valid BibTeX (unbalanced braces or a missing comma)"
    warnings = [f"skipped {invalid}"] if broken else []
    records: list[Record] = []
    skipped = 0
    for where, row in rows:
        if not str(row.get("abstract") or "").strip():
            skipped += 1
            continue
        records.append(record_from_row({**row, "authors": row.get("authors") or None}, where))
    if skipped:
        warnings.append(f"skipped {skipped} reference(s) without an abstract")
    if not records:
        found = f"{len(rows)} reference(s), none with an abstract" if rows else "no references"
        raise NotABibliography(f"{found} in this {_NAMES[kind]} file" + (f" besides {invalid}" if broken else ""))
    return Bibliography(records, warnings)


def _date(year: object, month: object = None) -> str | None:
    parts = [str(part).strip() for part in (year, month) if part not in (None, "")]
    return " ".join(parts) or None


def _bibtex_rows(text: str) -> tuple[list[tuple[str, dict[str, object]]], int]:
    """BibTeX entries, with LaTeX accents and markup turned into text by bibtexparser's own
    decoding (`{\\"o}` → ö, `{{GABAergic}}` → GABAergic) and names as "Given Family"."""
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware, MergeNameParts, SeparateCoAuthors, SplitNameParts

    library = bibtexparser.parse_string(text, append_middleware=[
        LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts(), MergeNameParts("first")])
    rows = []
    for entry in library.entries:
        fields = {key.lower(): value.value for key, value in entry.fields_dict.items()}
        names = fields.get("author") or fields.get("editor") or []
        eprint = str(fields.get("eprint") or "").strip()
        kind = str(fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").casefold()
        arxiv_eprint = bool(eprint) and "arxiv" in kind
        rows.append((f"entry {entry.key}", {
            "title": fields.get("title"), "abstract": fields.get("abstract"),
            "authors": [str(name) for name in names] if isinstance(names, list) else str(names),
            "date": fields.get("date") or _date(fields.get("year"), fields.get("month")),
            "url": fields.get("url"),
            "doi": fields.get("doi"), "note": " ".join(filter(None, [f"arXiv:{eprint}" if arxiv_eprint else "",
                                                       str(fields.get("note") or "")])),
            "venue": fields.get("journal") or fields.get("booktitle") or fields.get("journaltitle"),
            "categories": str(fields.get("keywords") or ""),
        }))
    return rows, len(library.failed_blocks)


def given_first(name: str) -> str:
    """"Vaswani, Ashish" → "Ashish Vaswani"; a name without a comma is left as it is."""
    family, comma, given = name.partition(",")
    return " ".join(f"{given.strip()} {family.strip()}".split()) if comma and given.strip() else name.strip()


def _ris_rows(text: str) -> list[tuple[str, dict[str, object]]]:
    import rispy

    try:
        entries = rispy.loads(text)
    except Exception as exc:  # noqa: BLE001 - rispy raises plain IOError/ValueError subclasses on bad tags
        raise NotABibliography(f"not valid RIS ({exc})") from exc
    rows = []
    for number, entry in enumerate(entries, start=1):
        names = [*entry.get("authors", []), *entry.get("first_authors", [])]
        rows.append((f"reference {number}", {
            "title": entry.get("title") or entry.get("primary_title") or entry.get("translated_title"),
            "abstract": entry.get("abstract") or entry.get("notes_abstract"),
            "authors": [given_first(name) for name in names],
            "date": entry.get("date") or entry.get("year") or entry.get("publication_year"),
            "url": next(iter(entry.get("urls") or []), None),
            "doi": entry.get("doi"), "note": " ".join(str(n) for n in entry.get("notes") or []),
            "venue": entry.get("secondary_title") or entry.get("journal_name") or entry.get("alternate_title3"),
            "categories": list(entry.get("keywords") or []),
        }))
    return rows


def _csl_name(name: Mapping[str, object]) -> str:
    if name.get("literal"):
        return str(name["literal"])
    return " ".join(str(name.get(part) or "") for part in ("given", "non-dropping-particle", "family")).strip()


def _csl_date(issued: object) -> str | None:
    if not isinstance(issued, Mapping):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        given = [str(part).strip() for part in parts[0][:3]]  # [[2022, 2, 24]], as numbers or strings
        if all(part.isdigit() for part in given):
            return "-".join(part if i == 0 else part.zfill(2) for i, part in enumerate(given))
        return " ".join(given)
    return str(issued.get("raw") or issued.get("literal") or "") or None


def _csl_rows(text: str) -> list[tuple[str, dict[str, object]]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotABibliography(f"invalid JSON ({exc.msg}, line {exc.lineno})") from exc
    if isinstance(items, dict) and isinstance(items.get("items"), list):
        items = items["items"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise NotABibliography("JSON, but not CSL-JSON (a list of references)")
    rows = []
    for number, item in enumerate(items, start=1):
        names: Iterable[object] = item.get("author") or item.get("editor") or []
        # a plain JSON list of JSONL-style objects ("authors": ["Ada Lovelace"], "date") reads too
        plain = item.get("authors") if isinstance(item.get("authors"), list) else []
        rows.append((f"reference {number}", {
            "title": item.get("title"), "abstract": item.get("abstract"),
            "authors": [_csl_name(n) for n in names if isinstance(n, Mapping) and _csl_name(n)]
            or [str(n) for n in plain if str(n).strip()],
            "date": _csl_date(item.get("issued")) or item.get("date"),
            "url": item.get("URL"),
            "doi": item.get("DOI") or item.get("doi"), "note": f"{item.get('number') or ''} {item.get('note') or ''}",
            "venue": item.get("container-title"),
            "categories": str(item.get("keyword") or ""),
        }))
    return rows


__all__ = ["BadRow", "Bibliography", "NotABibliography", "kind_of", "parse_bibliography"]
