"""How results read, written once for the CLI, the chat and the Markdown export: a paper's
metadata line, the refusal and "quoted" wording, the heading of each kind of result, and a
section as prose or bullets. Everything works on the JSON form of a result (`Result.to_json`),
which is also what saved conversations keep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

QUOTED = "Quoted from the sources: no generated sentence passed verification."
REMOVED = "Removed by verification"
KIND_LABELS = {"paper": "Summary of", "topic": "What the collection says about", "digest": "Digest of"}


def plural(count: int, word: str) -> str:
    """"1 author", "11 authors"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def meta_line(paper: Mapping[str, Any]) -> str:
    """`2024-03-11 · 2 authors · 3 upvotes` from a paper's (or source's) JSON: only what is known."""
    parts = [paper.get("date") or paper.get("date_raw") or "date unknown"]
    if paper.get("authors") is not None:
        parts.append(plural(int(paper["authors"]), "author"))
    if paper.get("upvotes") is not None:
        parts.append(plural(int(paper["upvotes"]), "upvote"))
    return " · ".join(parts)


def date_phrase(filters: Mapping[str, str]) -> str:
    """" from 2024-01-01 to 2024-12-31", " since …", " up to …" or "" for a question's date range."""
    since, until = filters.get("since"), filters.get("until")
    if since and until:
        return f" from {since} to {until}"
    return f" since {since}" if since else (f" up to {until}" if until else "")


def not_covered(result: Mapping[str, Any]) -> str:
    """The refusal, naming the date range the question asked for."""
    return (f"The collection has no papers{date_phrase(result.get('filters') or {})} on this question, "
            "so there is no answer. The closest papers are:")


def heading(result: Mapping[str, Any]) -> str | None:
    """"Summary of: <title>" and the like for summaries and digests; answers have none."""
    label = KIND_LABELS.get(str(result.get("kind")))
    return f"{label}: {result.get('query')}" if label else None


def section_body(section: Mapping[str, Any], claim: Callable[[Mapping[str, Any]], str]) -> str:
    """A section's sentences, each rendered by `claim`: one per line as bullets, or as prose."""
    rendered = [claim(sentence) for sentence in section["sentences"]]
    if section.get("bullets"):
        return "\n".join(f"- {line}" for line in rendered)
    return " ".join(rendered)


def dropped_line(dropped: Mapping[str, Any]) -> str:
    """A removed sentence and why it was removed."""
    return f"{dropped['text']} — {dropped.get('reason') or 'not supported'}"
