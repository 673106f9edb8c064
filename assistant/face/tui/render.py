"""Results (live or saved, always in their JSON form) as Markdown for the chat: the one
renderer of `assistant.core.wording` in the chat's style, with citations the user can click."""

from __future__ import annotations

from typing import Any

from assistant.core import wording


def cite(numbers: list[int]) -> str:
    return "".join(f"[\\[{n}\\]](cite:{n})" for n in numbers)


def _refusal(result: dict[str, Any]) -> str:
    return "\n".join([f"**{wording.not_covered(result)}**", "", *wording.closest_lines(result)])


# What a removed sentence may show of itself: the model sometimes writes a long run of debris.
DROPPED_CHARS = 240


def dropped_markdown(dropped: list[Any]) -> str:
    """What verification removed, one struck-through sentence a line with its reason."""
    def shown(text: str) -> str:
        return text if len(text) <= DROPPED_CHARS else text[:DROPPED_CHARS].rstrip() + "…"

    return "\n".join(f"- ⚠ ~~{shown(d['text'])}~~ — {wording.drop_reason(d)}" for d in dropped)


# Not drawn here: the title (the block's header names the paper), the sources (listed under the
# answer, each one clickable) and what verification removed (a collapsed list under the answer).
CHAT = wording.Style(
    claim=lambda claim: f"{claim['text']} {cite(claim['citations'])}",
    section=lambda head, body: f"**{head}**\n\n{body}" if head else body,
    refusal=_refusal,
    quoted=lambda note: f"*{note}*",
)


def result_markdown(result: dict[str, Any]) -> str:
    """The verified answer with clickable citations."""
    return wording.render(result, CHAT)


def source_label(source: dict[str, Any]) -> str:
    return f"[{source['number']}] {source['title']} — {wording.meta_line(source)}"


def cited_sentences(result: dict[str, Any], number: int) -> list[str]:
    """The sentences of the source numbered `number` that the answer used as evidence."""
    source = next((s for s in result.get("sources", []) if s["number"] == number), None)
    if source is None:
        return []
    quoted = [s["text"] for sec in result.get("sections", []) for s in sec["sentences"]
              if number in s["citations"] and s.get("origin") == "evidence"]
    return list(dict.fromkeys([*source.get("evidence", []), *quoted]))
