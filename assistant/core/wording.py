"""How results read, written once for the CLI, the chat, the Markdown export and the JSON: a
paper's metadata line, the refusal and "quoted" wording, the heading of each kind of result, a
section as prose or bullets, and `render`, the one walk over a result that every surface draws
in its own `Style`. Everything works on the JSON form of a result (`Result.to_json`), which is
also what saved conversations keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

QUOTED = "Quoted from the sources: no generated sentence passed verification."
REMOVED = "Removed by verification"
# What `ingest` reads: in `ingest --help` and under a refused file.
READABLE_FORMATS = ("listing pages saved as text (.txt, .md) or HTML (.html; Hugging Face and arXiv listings, "
                    "arXiv search results and paper pages read by their structure), "
                    "arXiv API feeds (Atom, .xml), BibTeX (.bib), RIS (.ris), a Zotero library (zotero.sqlite), "
                    "CSL-JSON (.json), and JSONL or CSV with title and abstract columns (authors, date and url "
                    "optional); a page, a feed or an export is known by its content whatever its name")
KIND_LABELS = {"paper": "Summary of", "topic": "What the collection says about", "digest": "Digest of"}


def plural(count: int, word: str) -> str:
    """"1 author", "11 authors"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def name_list(names: list[str], shown: int = 8) -> str:
    """"A", "A and B", "A, B and C"; past `shown` names, "A, B, … and 9 others"."""
    if len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} others"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def meta_line(paper: Mapping[str, Any]) -> str:
    """`2024-03-11 · 2 authors · 3 upvotes` from a paper's (or source's) JSON: only what is known."""
    parts = [paper.get("date") or paper.get("date_raw") or "date unknown"]
    if paper.get("authors") is not None:
        parts.append(plural(int(paper["authors"]), "author"))
    if paper.get("upvotes") is not None:
        parts.append(plural(int(paper["upvotes"]), "upvote"))
    return " · ".join(parts)


def authors_line(paper: Mapping[str, Any]) -> str | None:
    """"by A, B and C" for a paper whose authors the catalogue names, else None."""
    names = paper.get("author_names") or []
    return f"by {name_list(list(names), shown=20)}" if names else None


def identifiers_line(paper: Mapping[str, Any]) -> str | None:
    """"arXiv:2202.12139 · doi:10.1109/… · venue · cs.SE, cs.LG" for what the catalogue knows,
    else None."""
    parts = [f"arXiv:{paper['arxiv_id']}" if paper.get("arxiv_id") else "",
             f"doi:{paper['doi']}" if paper.get("doi") else "", str(paper.get("venue") or ""),
             ", ".join(paper.get("categories") or [])]
    return " · ".join(part for part in parts if part) or None


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
    """A section's sentences, each rendered by `claim`: one per line as bullets, or as prose.
    In prose, a quoted sentence starts a paragraph when it cites another paper than the sentence
    before it: quotations of several papers run together read as one paper's text."""
    sentences = list(section["sentences"])
    rendered = [claim(sentence) for sentence in sentences]
    if section.get("bullets"):
        return "\n".join(f"- {line}" for line in rendered)
    text = ""
    for index, (sentence, line) in enumerate(zip(sentences, rendered)):
        if index:
            before = sentences[index - 1]
            quoted = "evidence" in (sentence.get("origin"), before.get("origin"))
            text += "\n\n" if quoted and sentence.get("citations") != before.get("citations") else " "
        text += line
    return text


def drop_reason(dropped: Mapping[str, Any]) -> str:
    """Why verification removed a sentence."""
    return dropped.get("reason") or "not supported"


def dropped_line(dropped: Mapping[str, Any]) -> str:
    """A removed sentence and why it was removed."""
    return f"{dropped['text']} — {drop_reason(dropped)}"


def closest_lines(result: Mapping[str, Any]) -> list[str]:
    """The closest papers under a refusal, as Markdown bullets (the chat and the export)."""
    return [f"- {paper['title']} — {meta_line(paper)}" for paper in result.get("closest") or []]


def claim_text(claim: Mapping[str, Any]) -> str:
    """A sentence with its citations as plain text: "It works [1][2]"."""
    marks = "".join(f"[{n}]" for n in claim["citations"])
    return f"{claim['text']} {marks}".strip()


@dataclass(frozen=True)
class Style:
    """How one surface draws the parts of a result; `render` decides which parts there are and
    in what order, once for all of them. A part left as None is not drawn on that surface."""

    claim: Callable[[Mapping[str, Any]], str]  # one sentence with its citations
    section: Callable[[str | None, str], str]  # a section from its heading (or None) and body
    refusal: Callable[[Mapping[str, Any]], str]  # "not covered", with the closest papers
    between: str = "\n\n"  # what separates the parts
    title: Callable[[str], str] | None = None  # "Summary of: …" for summaries and digests
    quoted: Callable[[str], str] | None = None  # the note that every sentence is quoted
    sources: Callable[[list[Mapping[str, Any]]], str] | None = None
    dropped: Callable[[list[Mapping[str, Any]]], str] | None = None  # what verification removed


def render(result: Mapping[str, Any], style: Style) -> str:
    """A result (its JSON form) drawn in `style`: refusal, or title, sections, the quoted note,
    sources and removed sentences, in that order on every surface."""
    if result.get("status") == "not_covered":
        return style.refusal(result)
    parts: list[str] = []
    title = heading(result)
    if title and style.title:
        parts.append(style.title(title))
    parts += [style.section(s.get("heading"), section_body(s, style.claim)) for s in result.get("sections") or []]
    if result.get("extractive") and style.quoted:
        parts.append(style.quoted(QUOTED))
    if result.get("sources") and style.sources:
        parts.append(style.sources(list(result["sources"])))
    if result.get("dropped") and style.dropped:
        parts.append(style.dropped(list(result["dropped"])))
    return style.between.join(parts)


# The text kept as a result's "answer" (JSON, saved conversations, the model's memory of a turn).
PLAIN = Style(claim=claim_text, section=lambda head, body: f"{head}\n{body}" if head else body,
              refusal=lambda _: "The collection does not cover this.")


def _export_source(source: Mapping[str, Any]) -> str:
    link = next((link["url"] for link in source.get("links") or []), source.get("url"))
    return f"{source['number']}. {source['title']} ({meta_line(source)})" + (f" — {link}" if link else "")


def _export_refusal(result: Mapping[str, Any]) -> str:
    return "\n".join([not_covered(result), "", *closest_lines(result)])


# A saved conversation exported as Markdown.
EXPORT = Style(
    claim=lambda c: " ".join([c["text"], *(f"[{n}]" for n in c["citations"])]),
    section=lambda head, body: f"### {head}\n\n{body}" if head else body,
    refusal=_export_refusal,
    quoted=lambda note: f"*{note}*",
    sources=lambda sources: "\n".join(["Sources:", *map(_export_source, sources)]),
    dropped=lambda dropped: "\n".join([f"{REMOVED} ({len(dropped)}):",
                                       *(f"- ~~{d['text']}~~ — {drop_reason(d)}" for d in dropped)]),
)

UNFINISHED = "Not finished: the assistant stopped before this answer was complete."


def conversation_markdown(title: str, turns: Iterable[tuple[str, Mapping[str, Any], bool]]) -> str:
    """A conversation as a Markdown document: each (question, result, complete) turn's verified
    answer, its sources, and the sentences verification removed with the reason for each."""
    parts = [f"# {title}"]
    for number, (question, result, complete) in enumerate(turns):
        if number or question != title:  # a conversation is named after its first question
            parts.append(f"## {question}")
        parts.append(render(result, EXPORT) if complete else f"*{UNFINISHED}*")
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"
