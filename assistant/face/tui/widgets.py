"""Chat widgets: one block per exchange (question, streamed answer, sources) and the status bar."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant.core.wording import plural
from assistant.face.tui.render import result_markdown, source_label


class SourceChosen(Message):
    """The user picked a cited source (from the list or a citation link)."""

    def __init__(self, result: dict[str, Any], number: int) -> None:
        super().__init__()
        self.result = result
        self.number = number


class Draft(Message):
    """Newly streamed text for an answer block (posted from the worker thread); `reset` clears
    what was drawn before (the model starts writing the answer proper)."""

    def __init__(self, text: str, *, reset: bool = False) -> None:
        super().__init__()
        self.text = text
        self.reset = reset


class QuestionInput(Input):
    """The question box: Up and Down recall the questions asked earlier in this session."""

    BINDINGS = [
        Binding("up", "recall(-1)", "Earlier question", show=False),
        Binding("down", "recall(1)", "Later question", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[str] = []
        self._position = 0  # len(asked) means "what is being typed now"
        self._typing = ""

    def remember(self, question: str) -> None:
        if not self.asked or self.asked[-1] != question:
            self.asked.append(question)
        self._position, self._typing = len(self.asked), ""

    def action_recall(self, step: int) -> None:
        if self._position == len(self.asked):
            self._typing = self.value
        self._position = max(0, min(len(self.asked), self._position + step))
        self.value = self.asked[self._position] if self._position < len(self.asked) else self._typing
        self.cursor_position = len(self.value)


class AnswerBlock(Vertical):
    """A question, its answer (streamed, then replaced by the verified version) and sources.
    `finished` turns true once the final state (answer and sources, or "cancelled") is drawn."""

    def __init__(self, question: str, *, label: str = "You") -> None:
        super().__init__(classes="answer-block")
        self.question = question
        self.label = label
        self.result: dict[str, Any] | None = None
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((f"{self.label}: ", "bold"), self.question), classes="question")
        yield Markdown("", classes="answer")
        yield OptionList(classes="sources")

    def on_mount(self) -> None:
        self.query_one(".sources", OptionList).display = False
        self.query_one(".answer", Markdown).add_class("draft")

    async def on_draft(self, message: Draft) -> None:
        """Add streamed text; Markdown.append parses only what is new."""
        if self.result is None and not self.finished:
            answer = self.query_one(".answer", Markdown)
            await (answer.update(message.text) if message.reset else answer.append(message.text))
            self.scroll_visible(animate=False)

    async def show_result(self, result: dict[str, Any]) -> None:
        """Replace the draft with the verified answer and list the cited sources."""
        self.result = result
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        await answer.update(result_markdown(result))
        sources = self.query_one(".sources", OptionList)
        sources.clear_options()
        # Text, not a string: titles come from web pages and a string would be read as markup
        sources.add_options([Option(Text(source_label(s)), id=str(s["number"])) for s in result.get("sources", [])])
        sources.display = bool(result.get("sources"))
        if sources.option_count:
            sources.highlighted = 0  # enter on a freshly focused list opens the first source
        self.finished = True

    async def show_stopped(self, why: str) -> None:
        """Mark the answer as not finished ("Cancelled.", or the error), wherever the block is now;
        a block already removed from the screen (new chat) is left alone."""
        if self.finished or not self.is_attached:
            return
        self.finished = True
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        await answer.append(f"\n\n*{why}*")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.result is not None and event.option.id is not None:
            self.post_message(SourceChosen(self.result, int(event.option.id)))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        if self.result is not None and event.href.startswith("cite:"):
            self.post_message(SourceChosen(self.result, int(event.href.removeprefix("cite:"))))


class StatusBar(Static):
    """Model, collection size (or indexing progress), speed of the last answer, and what is
    happening now, with a spinner while something is."""

    SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    model = reactive("model not loaded yet")
    papers: reactive[int | None] = reactive(None)
    indexing: reactive[tuple[int, int] | None] = reactive(None)
    speed: reactive[float | None] = reactive(None)
    activity = reactive("")
    frame = reactive(0)

    def on_mount(self) -> None:
        self.set_interval(0.1, self._spin)

    def _spin(self) -> None:
        if self.activity:
            self.frame += 1

    def render(self) -> Content:
        """Plain text, not markup: the model's name comes from a file or a server."""
        speed = "—" if self.speed is None else f"{self.speed:.0f} tok/s"
        if self.indexing is not None:
            collection = f"indexing {self.indexing[0]}/{self.indexing[1]}"
        else:
            collection = "opening the collection" if self.papers is None else plural(self.papers, "paper")
        parts = [self.model, collection, f"last answer {speed}"]
        if self.activity:
            parts.append(f"{self.SPINNER[self.frame % len(self.SPINNER)]} {self.activity}")
        return Content(" · ".join(parts))
