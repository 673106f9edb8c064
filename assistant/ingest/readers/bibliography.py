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

from assistant.core.dates import MissingYear, parse_bound
from assistant.core.errors import AssistantError
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
    skipped = untitled = undated = 0
    for where, row in rows:
        if not str(row.get("abstract") or "").strip():
            skipped += 1
            continue
        if not str(row.get("title") or "").strip():
            untitled += 1
            continue
        date, unread = _usable_date(row.get("date"))
        undated += unread
        records.append(record_from_row({**row, "date": date, "authors": row.get("authors") or None}, where))
    if skipped:
        warnings.append(f"skipped {skipped} reference(s) without an abstract")
    if untitled:
        warnings.append(f"skipped {untitled} reference(s) without a title")
    if undated:
        warnings.append(f"left out {undated} date(s) that are not dates (e.g. '199u'); those papers have none")
    if not records:
        lacking = "a title and an abstract" if untitled else "an abstract"
        found = f"{len(rows)} reference(s), none with {lacking}" if rows else "no references"
        raise NotABibliography(f"{found} in this {_NAMES[kind]} file" + (f" besides {invalid}" if broken else ""))
    return Bibliography(records, warnings)


_INTERVAL = re.compile(r"(\d{4}(?:-\d{2}){0,2})/(?:\d{4}(?:-\d{2}){0,2}|\.\.)?")  # EDTF: 1986-12-03/1986-12-05


def _usable_date(value: object) -> tuple[str | None, bool]:
    """A reference's date as the date reader takes it, and whether one was left out: a range
    ("1986-12-03/1986-12-05", as EDTF writes it) is read from its start, and a date no rule
    reads ("199u") costs the paper its date, not its place."""
    text = str(value or "").strip()
    interval = _INTERVAL.fullmatch(text)
    text = interval.group(1) if interval else text
    if not text:
        return None, False
    try:
        parse_bound(text)
    except MissingYear:
        return text, False
    except AssistantError:
        return None, True
    return text, False


def _date(year: object, month: object = None) -> str | None:
    parts = [str(part).strip() for part in (year, month) if part not in (None, "")]
    return " ".join(parts) or None


# The fields shown as text (decoded from LaTeX); identifiers, links and dates are read as written.
_TEXT_FIELDS = frozenset({"title", "abstract", "journal", "journaltitle", "booktitle", "eventtitle", "keywords", "note"})
# Where BibTeX and BibLaTeX put the venue, in order of preference.
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "eventtitle")


def _bibtex_rows(text: str) -> tuple[list[tuple[str, dict[str, object]]], int]:
    """BibTeX entries, with LaTeX accents and markup turned into text by bibtexparser's own
    decoding (`{\\"o}` → ö, `{{GABAergic}}` → GABAergic) and names as "Given Family".

    Parsed without bibtexparser's middlewares, which give up a whole entry when one field cannot
    be decoded or one name split; here that field is kept as written (less its braces) and that
    name read as "Family, Given". A second entry under a key already used, or with a field given
    twice, is still a reference and is read. Only entries that cannot be parsed are counted."""
    import bibtexparser
    from bibtexparser.middlewares import RemoveEnclosingMiddleware
    from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry

    library = bibtexparser.parse_string(text)
    entries = list(library.entries)
    broken = 0
    for block in library.failed_blocks:
        kept = block.ignore_error_block if isinstance(block, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock)) else None
        if isinstance(kept, Entry):  # set aside before the parse's own unwrapping of {values}: done here
            entries.append(RemoveEnclosingMiddleware().transform_entry(kept, library))
        else:
            broken += 1
    entries.sort(key=lambda entry: entry.start_line or 0)
    decode = _LatexDecoder(library)
    rows = []
    for entry in entries:
        raw = {key.lower(): str(value.value) for key, value in entry.fields_dict.items()}
        fields = {key: decode(value) if key in _TEXT_FIELDS else value for key, value in raw.items()}
        names = [decode(name) for name in _bibtex_names(raw.get("author") or raw.get("editor") or "")]
        eprint = str(fields.get("eprint") or "").strip()
        kind = str(fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").casefold()
        arxiv_eprint = bool(eprint) and "arxiv" in kind
        rows.append((f"entry {entry.key}", {
            "title": fields.get("title"), "abstract": fields.get("abstract"),
            "authors": names,
            "date": fields.get("date") or _date(fields.get("year"), fields.get("month")),
            "url": fields.get("url"),
            "doi": fields.get("doi"), "note": " ".join(filter(None, [f"arXiv:{eprint}" if arxiv_eprint else "",
                                                       str(fields.get("note") or "")])),
            "venue": next((fields[key] for key in _VENUE_FIELDS if fields.get(key)), None),
            "categories": str(fields.get("keywords") or ""),
        }))
    return rows, broken


class _LatexDecoder:
    """One field's LaTeX as text, by bibtexparser's decoding middleware; the field as written,
    less its grouping braces, where that cannot decode it."""

    def __init__(self, library: object) -> None:
        from bibtexparser.middlewares import LatexDecodingMiddleware

        self._middleware = LatexDecodingMiddleware()
        self._library = library

    def __call__(self, value: str) -> str:
        from bibtexparser.model import Entry, Field

        done = self._middleware.transform_entry(Entry("misc", "field", [Field("field", value)]), self._library)
        if isinstance(done, Entry):
            return str(done.fields_dict["field"].value)
        return re.sub(r"(?<!\\)[{}]", "", value)


def _bibtex_names(value: str) -> list[str]:
    """The names of an author field as BibTeX splits them ("A and B"), each "Given Family";
    a name BibTeX's rules cannot split (too many commas) is read as "Family, Given" pairs."""
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts, \
        split_multiple_persons_names

    names = []
    for name in split_multiple_persons_names(value):
        try:
            names.append(parse_single_name_into_parts(name).merge_first_name_first)
        except InvalidNameError:
            names.extend(given_first(part) for part in re.split(r"\s*[|;]\s*", name) if part.strip())
    return names


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
