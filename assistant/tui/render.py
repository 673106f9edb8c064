"""Turning results (live or saved, always in their JSON form) into Markdown for the chat."""

from __future__ import annotations

from typing import Any


def cite(numbers: list[int]) -> str:
    return "".join(f"[\\[{n}\\]](cite:{n})" for n in numbers)


def result_markdown(result: dict[str, Any]) -> str:
    """The verified answer with clickable citations, then what verification removed."""
    if result.get("status") == "not_covered":
        lines = ["**The collection does not cover this, so there is no answer.** The closest papers are:", ""]
        lines += [f"- {paper['title']}" for paper in result.get("closest", [])]
        return "\n".join(lines)
    parts = []
    for section in result.get("sections", []):
        rendered = [f"{s['text']} {cite(s['citations'])}" for s in section["sentences"]]
        body = "\n".join(f"- {r}" for r in rendered) if section.get("heading") and len(rendered) > 1 else " ".join(rendered)
        parts.append(f"**{section['heading']}**\n\n{body}" if section.get("heading") else body)
    if result.get("extractive"):
        parts.append("*Quoted from the sources: no generated sentence passed verification.*")
    dropped = result.get("dropped") or []
    if dropped:
        removed = "\n".join(f"> - ⚠ ~~{d['text']}~~ — {d.get('reason') or 'unsupported'}" for d in dropped)
        parts.append(f"> **Removed by verification ({len(dropped)})**\n>\n{removed}")
    return "\n\n".join(parts)


def source_label(source: dict[str, Any]) -> str:
    meta = source.get("date") or source.get("date_raw") or "date unknown"
    authors = f" · {source['authors']} authors" if source.get("authors") else ""
    return f"[{source['number']}] {source['title']} — {meta}{authors}"


def cited_sentences(result: dict[str, Any], number: int) -> list[str]:
    """The sentences of the source numbered `number` that the answer used as evidence."""
    source = next((s for s in result.get("sources", []) if s["number"] == number), None)
    if source is None:
        return []
    quoted = [s["text"] for sec in result.get("sections", []) for s in sec["sentences"]
              if number in s["citations"] and s.get("origin") == "evidence"]
    return list(dict.fromkeys([*source.get("evidence", []), *quoted]))
