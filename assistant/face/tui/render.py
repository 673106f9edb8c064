"""Results (live or saved, always in their JSON form) as Markdown for the chat, worded by
`assistant.core.wording` like the CLI and the export, with citations the user can click."""

from __future__ import annotations

from typing import Any

from assistant.core import wording as present


def cite(numbers: list[int]) -> str:
    return "".join(f"[\\[{n}\\]](cite:{n})" for n in numbers)


def result_markdown(result: dict[str, Any]) -> str:
    """The verified answer with clickable citations, then what verification removed."""
    if result.get("status") == "not_covered":
        lines = [f"**{present.not_covered(result)}**", ""]
        lines += [f"- {paper['title']} — {present.meta_line(paper)}" for paper in result.get("closest", [])]
        return "\n".join(lines)
    parts = []
    title = present.heading(result)
    if title:
        parts.append(f"**{title}**")
    for section in result.get("sections", []):
        body = present.section_body(section, lambda claim: f"{claim['text']} {cite(claim['citations'])}")
        parts.append(f"**{section['heading']}**\n\n{body}" if section.get("heading") else body)
    if result.get("extractive"):
        parts.append(f"*{present.QUOTED}*")
    dropped = result.get("dropped") or []
    if dropped:
        removed = "\n".join(f"> - ⚠ ~~{d['text']}~~ — {d.get('reason') or 'not supported'}" for d in dropped)
        parts.append(f"> **{present.REMOVED} ({len(dropped)})**\n>\n{removed}")
    return "\n\n".join(parts)


def source_label(source: dict[str, Any]) -> str:
    return f"[{source['number']}] {source['title']} — {present.meta_line(source)}"


def cited_sentences(result: dict[str, Any], number: int) -> list[str]:
    """The sentences of the source numbered `number` that the answer used as evidence."""
    source = next((s for s in result.get("sources", []) if s["number"] == number), None)
    if source is None:
        return []
    quoted = [s["text"] for sec in result.get("sections", []) for s in sec["sentences"]
              if number in s["citations"] and s.get("origin") == "evidence"]
    return list(dict.fromkeys([*source.get("evidence", []), *quoted]))
