"""Parser for saved pages of paper listings (the text a browser saves from a listing site).

Three layouts of the same site are known:
  * `daily`       blank-line separated title / abstract blocks, each followed by metadata
                  (`• N authors`, `·`, a date such as `Mar 11, 2024` or `May 20`, maybe upvotes);
  * `daily-plain` the same blocks without any metadata;
  * `search`      one title line then one abstract line, no blank lines, the first title glued
                  to the `Subscribe` button text.
All three reduce to one stream of non-empty lines: boilerplate, metadata, and alternating
title / abstract lines, so one state machine reads them all and the layout is only reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from dateutil import parser as dateparser

from assistant.core.records import Record

_BOILERPLATE = {
    "new",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_LINE = re.compile(
    rf"^(?P<date>{_MONTH}\s+\d{{1,2}}(?:(?:,\s*|\s+)(?P<year>(?:19|20)\d\d))?)(?:\s+(?P<up>\d{{1,6}}))?$",
    re.IGNORECASE,
)
_AUTHORS_LINE = re.compile(r"^[•·*\-]?\s*(?P<n>\d{1,5})\s+authors?$", re.IGNORECASE)
_SEPARATOR_LINE = re.compile(r"^[·•|\-]$")
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9\"'(\[])")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
MAX_TITLE_CHARS = 400
# Without any marker of the listing site, only accept pairs whose "abstracts" read like abstracts.
MIN_PLAIN_ABSTRACT = 200


@dataclass
class ParsedPage:
    """What a page contained: its layout, its own date header, and the papers in page order."""

    layout: str
    page_date: str | None
    records: list[Record]
    warnings: list[str] = field(default_factory=list)


class NotAListing(ValueError):
    """The text does not look like a listing page; the message says why."""


def _looks_like_abstract(line: str) -> bool:
    return len(line) > MAX_TITLE_CHARS or (len(line) >= 120 and len(_SENTENCE_END.findall(line)) >= 2)


def _median_length(records: list[Record]) -> int:
    lengths = sorted(len(r.abstract) for r in records)
    return lengths[len(lengths) // 2]


def _is_metadata(line: str) -> bool:
    return bool(_AUTHORS_LINE.match(line) or _DATE_LINE.match(line) or _SEPARATOR_LINE.match(line))


def _date_fields(match: re.Match[str]) -> tuple[str | None, str, int | None]:
    """(ISO date when the year is on the page, raw date text, upvotes)."""
    raw = match.group("date")
    upvotes = int(match.group("up")) if match.group("up") else None
    if not match.group("year"):
        return None, raw, upvotes
    return _iso_date(raw), raw, upvotes


@lru_cache(maxsize=4096)  # a page repeats the same few dates many times over
def _iso_date(raw: str) -> str | None:
    try:
        return dateparser.parse(raw).date().isoformat()
    except (ValueError, OverflowError):
        return None


class _Reader:
    """State machine over the page's non-empty lines."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.page_date: str | None = None
        self.title: tuple[int, str] | None = None
        self.warnings: list[str] = []
        self.skipped = 0
        self.markers = 0

    def feed(self, number: int, line: str, following: str | None) -> None:
        """Read one line; `following` is the next line when it is also title/abstract text."""
        if line.casefold() in _BOILERPLATE:
            self.markers += 1
            return
        if self._metadata(line):
            return
        if not self.records and self.title is None:
            glued = _GLUED_SUBSCRIBE.sub("", line)
            self.markers += glued != line
            line = glued
        if self.title is None:
            if _looks_like_abstract(line):
                self._skip(number, "text without a title")
            else:
                self.title = (number, line)
            return
        # A title followed by a title-like line that itself precedes an abstract had no abstract.
        if not _looks_like_abstract(line) and following is not None and _looks_like_abstract(following):
            self._skip(self.title[0], "title without an abstract")
            self.title = (number, line)
            return
        self.records.append(Record(title=self.title[1], abstract=line))
        self.title = None

    def finish(self) -> None:
        if self.title is not None:
            self._skip(self.title[0], "title without an abstract")
            self.title = None

    def _skip(self, number: int, why: str) -> None:
        self.skipped += 1
        self.warnings.append(f"line {number}: {why}, skipped")

    def _metadata(self, line: str) -> bool:
        """Attach a metadata line to the paper just read; True if the line was metadata."""
        authors = _AUTHORS_LINE.match(line)
        date = _DATE_LINE.match(line)
        if not (authors or date or _SEPARATOR_LINE.match(line)):
            return False
        if authors or date:
            self.markers += 1
        if self.title is not None or not self.records:
            if date and not self.records and self.title is None:
                self.page_date = date.group("date")
            return True
        last = self.records[-1]
        if authors:
            self.records[-1] = replace(last, authors=int(authors.group("n")))
        elif date:
            iso, raw, upvotes = _date_fields(date)
            self.records[-1] = replace(last, date=iso, date_raw=raw, upvotes=upvotes)
        return True


def parse_listing(text: str) -> ParsedPage:
    """Parse a saved listing page (line endings already normalised to `\\n`).

    Raises NotAListing when the text is not a listing page, so arbitrary text files are
    rejected instead of being ingested as nonsense papers.
    """
    raw_lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    numbered = [(index + 1, line) for index, line in enumerate(raw_lines) if line]
    followed_by_blank = sum(1 for number, _ in numbered if number < len(raw_lines) and not raw_lines[number])
    has_authors = any(_AUTHORS_LINE.match(line) for _, line in numbered)
    reader = _Reader()
    for position, (number, line) in enumerate(numbered):
        following = numbered[position + 1][1] if position + 1 < len(numbered) else None
        if following is not None and (_is_metadata(following) or following.casefold() in _BOILERPLATE):
            following = None
        reader.feed(number, line, following)
    reader.finish()
    content = len(numbered)
    if not reader.records:
        raise NotAListing("not a listing page: no title/abstract pairs found")
    if reader.skipped > max(1, len(reader.records) // 4):
        raise NotAListing(
            f"not a listing page: {reader.skipped} lines do not form title/abstract pairs "
            f"(only {len(reader.records)} pairs found)"
        )
    if reader.markers == 0 and (len(reader.records) < 2 or _median_length(reader.records) < MIN_PLAIN_ABSTRACT):
        raise NotAListing("not a listing page: no listing markers and no abstract-length paragraphs")
    if has_authors:
        layout = "daily"
    elif followed_by_blank * 2 > content:
        layout = "daily-plain"
    else:
        layout = "search"
    return ParsedPage(layout=layout, page_date=reader.page_date, records=reader.records, warnings=reader.warnings)
