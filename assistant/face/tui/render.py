"""Results (live or saved, always in their JSON form) as Markdown for the chat: the one
renderer of `assistant.core.wording` in the chat's style, with citations the user can click."""

from __future__ import annotations

from typing import Any

from assistant.core import wording


def cite(numbers: list[int]) -> str:
    return "".join(f"[\\[{n}\\]](cite:{n})" for n in numbers)


def _refusal(result: dict[str, Any]) -> str:
    return "\n".join([f"**{wording.not_covered(result)}**", "", *wording.closest_lines(result)])


def _dropped(dropped: list[Any]) -> str:
    removed = "\n".join(f"> - ⚠ ~~{d['text']}~~ — {wording.drop_reason(d)}" for d in dropped)
    return f"> **{wording.REMOVED} ({len(dropped)})**\n>\n{removed}"


# The sources are not drawn here: the chat lists them under the answer, each one clickable.
CHAT = wording.Style(
    claim=lambda claim: f"{claim['text']} {cite(claim['citations'])}",
    section=lambda head, body: f"**{head}**\n\n{body}" if head else body,
    refusal=_refusal,
    title=lambda title: f"**{title}**",
    quoted=lambda note: f"*{note}*",
    dropped=_dropped,
)


def result_markdown(result: dict[str, Any]) -> str:
    """The verified answer with clickable citations, then what verification removed."""
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
