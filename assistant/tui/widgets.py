"""Chat widgets: one block per exchange (question, streamed answer, sources) and the status bar."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant.tui.render import result_markdown, source_label


class SourceChosen(Message):
    """The user picked a cited source (from the list or a citation link)."""

    def __init__(self, result: dict[str, Any], number: int) -> None:
        super().__init__()
        self.result = result
        self.number = number


class Draft(Message):
    """Newly streamed text for an answer block (posted from the worker thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class AnswerBlock(Vertical):
    """A question, its answer (streamed, then replaced by the verified version) and sources."""

    def __init__(self, question: str, *, label: str = "You") -> None:
        super().__init__(classes="answer-block")
        self.question = question
        self.label = label
        self.result: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((f"{self.label}: ", "bold"), self.question), classes="question")
        yield Markdown("", classes="answer")
        yield OptionList(classes="sources")

    def on_mount(self) -> None:
        self.query_one(".sources", OptionList).display = False
        self.query_one(".answer", Markdown).add_class("draft")

    async def on_draft(self, message: Draft) -> None:
        """Add streamed text; Markdown.append parses only what is new."""
        if self.result is None:
            await self.query_one(".answer", Markdown).append(message.text)
            self.scroll_visible(animate=False)

    async def show_result(self, result: dict[str, Any]) -> None:
        """Replace the draft with the verified answer and list the cited sources."""
        self.result = result
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        await answer.update(result_markdown(result))
        sources = self.query_one(".sources", OptionList)
        sources.clear_options()
        sources.add_options([Option(source_label(s), id=str(s["number"])) for s in result.get("sources", [])])
        sources.display = bool(result.get("sources"))

    async def show_cancelled(self) -> None:
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        await answer.append("\n\n*Cancelled.*")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.result is not None and event.option.id is not None:
            self.post_message(SourceChosen(self.result, int(event.option.id)))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        if self.result is not None and event.href.startswith("cite:"):
            self.post_message(SourceChosen(self.result, int(event.href.removeprefix("cite:"))))


class StatusBar(Static):
    """Model, collection size, speed of the last answer, and what is loading."""

    model = reactive("loading model…")
    papers = reactive(0)
    speed: reactive[float | None] = reactive(None)
    activity = reactive("")

    def render(self) -> str:
        speed = "—" if self.speed is None else f"{self.speed:.0f} tok/s"
        parts = [self.model, f"{self.papers} papers", f"last answer {speed}"]
        if self.activity:
            parts.append(self.activity)
        return " · ".join(parts)
