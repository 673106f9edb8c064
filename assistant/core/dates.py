"""Reading the dates users type on the command line (`--since 2024`, `--until "Mar 2025"`)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from functools import lru_cache

from dateutil import parser as dateparser

from assistant.core.errors import AssistantError


class MissingYear(AssistantError):
    """A date without a year: fine to keep as text, useless as a bound."""


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DEFAULT_A = datetime(1904, 1, 1)
_DEFAULT_B = datetime(1908, 2, 2)


@lru_cache(maxsize=4096)  # a listing repeats the same few dates thousands of times
def parse_bound(text: str, *, end: bool = False) -> str:
    """ISO date for a bound: a partial date means its first day, or its last day when `end`.

    `--until 2024` must include December 2024, so parts the user left out are filled in
    according to which end of a range the date is.
    """
    if _ISO_DAY.fullmatch(text):  # a whole day needs no filling in, nor dateutil's cost (JSONL/CSV dates)
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass  # "2024-02-30": dateutil words the error
    try:
        first = dateparser.parse(text, default=_DEFAULT_A)
        second = dateparser.parse(text, default=_DEFAULT_B)
    except (ValueError, OverflowError) as exc:
        raise AssistantError(f"cannot read the date {text!r} (try 2024-03-15, 'Mar 2024' or 2024)") from exc
    if first.year != second.year:
        raise MissingYear(f"the date {text!r} has no year (try 'Mar 2024' or 2024-03)")
    year = first.year
    month = first.month if first.month == second.month else (12 if end else 1)
    if first.day == second.day:
        day = first.day
    else:
        day = calendar.monthrange(year, month)[1] if end else 1
    return date(year, month, day).isoformat()


def check_range(since: str | None, until: str | None) -> None:
    """Refuse a date range that no paper can fall in (ISO dates, as `parse_bound` gives)."""
    if since and until and since > until:
        raise AssistantError(f"--since {since} is after --until {until}: no paper can match")
