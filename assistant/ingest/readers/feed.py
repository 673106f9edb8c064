"""The arXiv API's Atom feed (what `export.arxiv.org/api/query` returns and the `arxiv` package
reads): one paper per `<entry>`, with its authors, dates and abstract page.

Parsed with defusedxml, so a feed that declares entities (a "billion laughs" bomb) or points at
external ones is refused instead of expanded.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from ftfy import fix_encoding

from assistant.core.records import Record, arxiv_id_in, doi_in

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"


class NotAFeed(ValueError):
    """The text is not an Atom feed of papers; the message says what it is."""


def looks_like_feed(text: str) -> bool:
    """Whether a file's opening is an Atom feed, whatever its name ends with."""
    head = text[:2048].lstrip("\ufeff \n\t")
    return head.startswith("<?xml") and "<feed" in head or head.startswith("<feed")


def _plain(text: str | None) -> str:
    """Text with its whitespace runs (the feed's line wrapping) made single spaces, and UTF-8
    that was decoded twice on its way into the file repaired ("RamÃ­rez" → "Ramírez", seen in
    saved API responses)."""
    return fix_encoding(" ".join((text or "").split()))


def _text(entry: Element, tag: str) -> str:
    found = entry.find(f"{_ATOM}{tag}")
    return _plain(found.text) if found is not None else ""


def _record(entry: Element) -> Record | None:
    title, abstract = _text(entry, "title"), _text(entry, "summary")
    if not title or not abstract or "/api/errors" in _text(entry, "id"):
        return None  # the API reports a bad query as an entry titled "Error"
    names = tuple(_plain(name.text) for name in entry.iterfind(f"{_ATOM}author/{_ATOM}name")
                  if name.text and name.text.strip())
    published = _text(entry, "published") or _text(entry, "updated")
    page = next((link.get("href") for link in entry.iterfind(f"{_ATOM}link")
                 if link.get("rel") == "alternate" and link.get("href")), None)
    categories = [term for category in entry.iterfind(f"{_ATOM}category") if (term := category.get("term"))]
    return Record(title=title, abstract=abstract, authors=len(names) or None, author_names=names,
                  date=published[:10] or None, date_raw=published or None, url=page or _text(entry, "id") or None,
                  arxiv_id=arxiv_id_in(_text(entry, "id")), doi=doi_in(_plain(entry.findtext(f"{_ARXIV}doi"))),
                  venue=_plain(entry.findtext(f"{_ARXIV}journal_ref")) or None,
                  categories=tuple(dict.fromkeys(categories)))


def parse_feed(text: str) -> list[Record]:
    """Every paper of an Atom feed, in feed order; NotAFeed when the XML is not one."""
    try:
        root = fromstring(text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise NotAFeed(f"refused: the XML declares entities or a DTD ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise NotAFeed(f"broken XML ({exc})") from exc
    if root.tag != f"{_ATOM}feed":
        raise NotAFeed(f"XML, but not an Atom feed (its root element is <{root.tag.rpartition('}')[2]}>)")
    entries = root.findall(f"{_ATOM}entry")
    records = [record for record in map(_record, entries) if record is not None]
    if not records:
        error = next((_text(entry, "summary") for entry in entries), "")
        raise NotAFeed(f"an Atom feed with no papers{': ' + error if error else ''}")
    return records
