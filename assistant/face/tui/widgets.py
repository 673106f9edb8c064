"""Chat widgets: one block per exchange (question, streamed answer, sources) and the status bar."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Collapsible, Markdown, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from assistant.core.wording import REMOVED, plural
from assistant.face.tui.render import dropped_markdown, result_markdown, source_label


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


QUESTION_PLACEHOLDER = "Ask about your papers…   (enter asks, ctrl+j: new line, F1: keys)"


class QuestionInput(TextArea):
    """The question box, an editor for questions of any length: enter asks; ctrl+j (or
    shift+enter where the terminal tells it apart) starts a new line, and pasted
    text is kept whole, line breaks and all. Up on the first line and Down on the last recall
    the questions asked before in this data directory, across runs. PageUp, PageDown, ctrl+home
    and ctrl+end scroll the chat above without leaving the box (Home and End too while it is
    empty)."""

    class Submitted(Message):
        """Enter was pressed: ask `value`."""

        def __init__(self, box: QuestionInput, value: str) -> None:
            super().__init__()
            self.box = box
            self.value = value

    class ScrollChat(Message):
        """Scroll the chat above: `how` is page_up, page_down, home or end."""

        def __init__(self, how: str) -> None:
            super().__init__()
            self.how = how

    # Run by `_on_key` in the order keys reach the box: as bindings they would run when the key
    # comes back up to the app, after the keys typed just behind it (a new line typed mid-question
    # would land at its end, a question typed and entered at once would be asked half-written).
    BINDINGS = [
        Binding("enter", "submit", "Ask", show=False, tooltip="ask the question"),
        Binding("ctrl+j,shift+enter", "newline", "New line", tooltip="a new line in the question (pasted text keeps "
                                                                     "its lines too)"),
        Binding("up", "recall(-1)", "Earlier question", show=False,
                tooltip="on the first line: the question asked before (kept across runs)"),
        Binding("down", "recall(1)", "Later question", show=False, tooltip="on the last line: the next one"),
        Binding("pageup", "scroll_chat('page_up')", "Scroll up", show=False, tooltip="scroll the chat up a page"),
        Binding("pagedown", "scroll_chat('page_down')", "Scroll down", show=False, tooltip="scroll the chat down a page"),
        Binding("ctrl+home", "scroll_chat('home')", "Chat start", show=False,
                tooltip="the start of the chat (home, while the box is empty)"),
        Binding("ctrl+end", "scroll_chat('end')", "Chat end", show=False,
                tooltip="the latest answer (end, while the box is empty)"),
        Binding("home", "home", "", show=False),
        Binding("end", "end", "", show=False),
    ]

    def __init__(self, history: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.cursor_blink = False  # a steady cursor: the same on every redraw of the screen
        self.asked: list[str] = list(history or [])
        self._position = len(self.asked)  # len(asked) means "what is being typed now"
        self._typing = ""

    @property
    def value(self) -> str:
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)

    def remember(self, question: str) -> None:
        if not self.asked or self.asked[-1] != question:
            self.asked.append(question)
        self._position, self._typing = len(self.asked), ""

    async def _on_key(self, event: events.Key) -> None:
        """The box's own keys (above) before the editor's, in the order they arrive."""
        action = next((b.action for b in self.BINDINGS if isinstance(b, Binding)
                       and event.key in (k.strip() for k in b.key.split(","))), None)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_recall(self, step: int) -> None:
        row = self.cursor_location[0]
        if step < 0 and row > 0:
            self.action_cursor_up()
            return
        if step > 0 and row < self.document.line_count - 1:
            self.action_cursor_down()
            return
        if self._position == len(self.asked):
            self._typing = self.text
        position = max(0, min(len(self.asked), self._position + step))
        if position == self._position:
            return
        self._position = position
        self.value = self.asked[position] if position < len(self.asked) else self._typing

    def action_scroll_chat(self, how: str) -> None:
        self.post_message(self.ScrollChat(how))

    def action_home(self) -> None:
        if self.text:
            self.action_cursor_line_start()
        else:
            self.action_scroll_chat("home")

    def action_end(self) -> None:
        if self.text:
            self.action_cursor_line_end()
        else:
            self.action_scroll_chat("end")


DRAFT_LABEL = "Draft: the model is writing; verification replaces it with what the sources support."


class AnswerBlock(Vertical):
    """A question, its answer (streamed as a marked draft, then replaced by the verified
    version), its sources and, collapsed under a count, what verification removed. `finished`
    turns true once the final state (answer and sources, or "cancelled") is drawn."""

    def __init__(self, question: str, *, label: str = "You") -> None:
        super().__init__(classes="answer-block")
        self.question = question
        self.label = label
        self.result: dict[str, Any] | None = None
        self.finished = False

    def compose(self) -> ComposeResult:
        # a summary's question is saved as "Summarise: <title>"; its header says "Summary: <title>"
        shown = self.question.removeprefix("Summarise: ") if self.label != "You" else self.question
        yield Static(Text.assemble((f"{self.label}: ", "bold"), shown), classes="question")
        yield Static(Text(DRAFT_LABEL), classes="draft-label")
        yield Markdown("", classes="answer")
        yield OptionList(classes="sources")
        with Collapsible(title="", collapsed=True, classes="removed"):
            yield Markdown("", classes="removed-list")

    def on_mount(self) -> None:
        self.query_one(".sources", OptionList).display = False
        self.query_one(".removed", Collapsible).display = False
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
        self.query_one(".draft-label").display = False
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        await answer.update(result_markdown(result))
        dropped = list(result.get("dropped") or [])
        if dropped:
            removed = self.query_one(".removed", Collapsible)
            removed.title = f"{REMOVED} ({len(dropped)}) · enter or a click shows or hides them"
            await self.query_one(".removed-list", Markdown).update(dropped_markdown(dropped))
            removed.display = True
        sources = self.query_one(".sources", OptionList)
        sources.clear_options()
        # Text, not a string: titles come from web pages and a string would be read as markup
        sources.add_options([Option(Text(source_label(s)), id=str(s["number"])) for s in result.get("sources", [])])
        sources.display = bool(result.get("sources"))
        if sources.option_count:
            sources.highlighted = 0  # enter on a freshly focused list opens the first source
        self.finished = True

    async def show_stopped(self, why: str) -> None:
        """Mark the answer as not finished ("Cancelled.", or the error), wherever the block is now:
        the unverified draft goes, so that no uncited text stays in the chat. A block already
        removed from the screen (new chat) is left alone."""
        if self.finished or not self.is_attached:
            return
        self.finished = True
        self.query_one(".draft-label").display = False
        answer = self.query_one(".answer", Markdown)
        answer.remove_class("draft")
        drafted = bool(answer.source.strip())
        await answer.update(f"*{why}*" + (" *The unverified draft was removed.*" if drafted else ""))

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
