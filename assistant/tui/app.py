"""The terminal chat. It talks to `Session` only: no retrieval or model logic lives here.

Slow work (opening and first-indexing the store, loading the model, answering) runs in worker
threads; widgets are touched from them only through `call_from_thread`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.widgets import Footer, Input, ProgressBar, Static

from assistant.answer import Turn
from assistant.config import Settings
from assistant.conversations import ConversationStore, to_markdown
from assistant.errors import AssistantError
from assistant.grounded import Result
from assistant.llm import ChatModel
from assistant.session import Session, Stream
from assistant.store import Store
from assistant.tui.render import cited_sentences
from assistant.tui.screens import BrowserScreen, ConversationsScreen, HelpScreen, PaperScreen
from assistant.tui.widgets import AnswerBlock, Draft, SourceChosen, StatusBar

DRAFT_INTERVAL = 0.05  # seconds between draft redraws while the model writes


class AssistantCommands(Provider):
    """Command palette entries for the main actions."""

    COMMANDS = [
        ("New chat", "new_chat", "Start a new conversation"),
        ("Browse papers", "browse", "Filter and open any paper in the collection"),
        ("Saved conversations", "conversations", "Open, rename or delete a conversation"),
        ("Export conversation", "export", "Save this conversation as Markdown with its sources"),
        ("Stop asking about one paper", "clear_scope", "Ask the whole collection again"),
        ("Help: keys", "help", "Show every key"),
    ]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_ in self.COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_)

    async def discover(self) -> Hits:
        for name, action, help_ in self.COMMANDS:
            yield Hit(1.0, name, partial(self.app.run_action, action), help=help_)


class ProgressAdapter:
    """The index's Progress protocol, shown in the app's progress bar from a worker thread."""

    def __init__(self, app: AssistantApp) -> None:
        self.app = app

    def start(self, description: str, total: int) -> None:
        self.app.call_from_thread(self.app.progress_start, description, total)

    def advance(self, amount: int = 1) -> None:
        self.app.call_from_thread(self.app.progress_advance, amount)

    def stop(self) -> None:
        self.app.call_from_thread(self.app.progress_stop)


class AssistantApp(App[None]):
    TITLE = "assistant"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {AssistantCommands}
    BINDINGS = [
        Binding("escape", "cancel", "Cancel answer"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+b", "browse", "Papers"),
        Binding("ctrl+o", "conversations", "Conversations"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+x", "clear_scope", "Unscope", show=False),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, settings: Settings, *, store: Store | None = None, model: ChatModel | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.session: Session | None = None
        self._store, self._model = store, model
        self.conversations = ConversationStore(settings.data_dir / "conversations.sqlite3")
        self.conversation: int | None = None
        self.history: list[Turn] = []
        self.scope: set[str] | None = None
        self.cancel_event = threading.Event()
        self.answering = False

    # -- layout and start-up ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="scope")
        yield Input(placeholder="Ask about your papers…   (F1: keys, ctrl+p: commands)", id="question")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#scope").display = False
        self.query_one("#question", Input).focus()
        self.start_session()

    @work(thread=True, exclusive=True, group="startup")
    def start_session(self) -> None:
        """Open the store (indexing the bundled pages on first use) and load the model."""
        from assistant.index import prepare
        from assistant.store import open_store

        status = self.query_one(StatusBar)
        try:
            self.call_from_thread(setattr, status, "activity", "opening the collection…")
            store = self._store or open_store(self.settings)
            prepare(store, ProgressAdapter(self))
            papers = store.catalog.counts()["papers"]
            self.call_from_thread(setattr, status, "papers", papers)
            self.call_from_thread(setattr, status, "activity", "loading the model…")
            session = Session(self.settings, store, self._model)
            session.model.count_tokens("warm up")  # loads the weights now, not on the first question
            self.session = session
            self.call_from_thread(setattr, status, "model", session.model.name)
            self.call_from_thread(setattr, status, "activity", "")
            if papers == 0:
                self.call_from_thread(self.notify, "The collection is empty: add pages with `assistant ingest PATH`.",
                                      severity="warning", timeout=10)
        except AssistantError as exc:
            self.call_from_thread(setattr, status, "activity", "not ready")
            self.call_from_thread(self.notify, str(exc), title="Cannot start", severity="error", timeout=30)

    def progress_start(self, description: str, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=total, progress=0)
        self.query_one(StatusBar).activity = description.lower() + "…"

    def progress_advance(self, amount: int) -> None:
        self.query_one("#progress", ProgressBar).advance(amount)

    def progress_stop(self) -> None:
        self.query_one("#progress", ProgressBar).display = False

    # -- asking -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        question = event.value.strip()
        if not question:
            return
        if self.session is None:
            self.notify("Still getting ready (see the status bar); try again in a moment.", severity="warning")
            return
        if self.answering:
            self.notify("An answer is being written: wait, or press escape to cancel it.", severity="warning")
            return
        event.input.value = ""
        only = self.scope
        self.start_answer(question, lambda session: session.ask(question, list(self.history), only=only), question)

    def start_answer(self, label: str, make: Callable[[Session], Stream[Result]], question: str | None) -> None:
        block = AnswerBlock(label)
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(block)
        chat.scroll_end(animate=False)
        self.answering = True
        self.cancel_event.clear()
        self.answer_worker(block, make, question)

    @work(thread=True, group="answer")
    def answer_worker(self, block: AnswerBlock, make: Callable[[Session], Stream[Result]], question: str | None) -> None:
        assert self.session is not None
        chat = self.query_one("#chat", VerticalScroll)
        try:
            stream = make(self.session)
            pending: list[str] = []
            flushed = time.monotonic()
            for piece in stream:
                if self.cancel_event.is_set():
                    stream.close()
                    self.call_from_thread(block.show_cancelled)
                    return
                pending.append(piece)
                # post_message does not wait for the UI; batching keeps redraws to ~20 a second
                if time.monotonic() - flushed > DRAFT_INTERVAL:
                    block.post_message(Draft("".join(pending)))
                    pending, flushed = [], time.monotonic()
            if pending:
                block.post_message(Draft("".join(pending)))
            result = stream.result.to_json()
            tokens, seconds = stream.result.tokens, stream.result.timings.get("generate", 0.0)
            if tokens and seconds:
                self.call_from_thread(setattr, self.query_one(StatusBar), "speed", tokens / seconds)
            if question is not None:
                self.call_from_thread(self.remember, question, stream.result.text, result)
            self.call_from_thread(block.show_result, result)
            self.call_from_thread(chat.scroll_end, animate=False)
        except AssistantError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=15)
            self.call_from_thread(block.show_cancelled)
        finally:
            self.answering = False

    def remember(self, question: str, answer: str, result: dict[str, Any]) -> None:
        """Keep the turn for follow-ups, and save it."""
        self.history.append(Turn(question, answer))
        if self.conversation is None:
            self.conversation = self.conversations.create(question[:60])
        self.conversations.add_turn(self.conversation, question, answer, result)

    def action_cancel(self) -> None:
        if self.answering:
            self.cancel_event.set()
            self.notify("Answer cancelled.")

    # -- papers ---------------------------------------------------------------------------------
    def on_source_chosen(self, event: SourceChosen) -> None:
        source = next((s for s in event.result.get("sources", []) if s["number"] == event.number), None)
        if source is None or self.session is None:
            return
        found = self.session.store.catalog.papers([source["id"]])
        if source["id"] in found:
            self.open_paper(found[source["id"]].id, cited_sentences(event.result, event.number))

    def open_paper(self, paper_id: str, highlight: list[str] | None = None) -> None:
        assert self.session is not None
        paper = self.session.store.catalog.papers([paper_id])[paper_id]

        def chosen(action: str | None) -> None:
            if action == "summarise":
                from assistant.summarise import summarise_paper

                self.start_answer(f"Summarise: {paper.title}", lambda s: s.run(summarise_paper, paper.id), None)
            elif action == "ask":
                self.scope = {paper.id}
                scope = self.query_one("#scope", Static)
                scope.update(f"Asking about: {paper.title}   (ctrl+x: the whole collection again)")
                scope.display = True
                self.query_one("#question", Input).focus()

        self.push_screen(PaperScreen(paper, highlight), chosen)

    def action_clear_scope(self) -> None:
        self.scope = None
        self.query_one("#scope").display = False

    def action_browse(self) -> None:
        if self.session is None:
            self.notify("Still getting ready; the papers will be here in a moment.", severity="warning")
            return
        catalog = self.session.store.catalog
        ids = catalog.all_ids("date")
        found = catalog.papers(ids)

        def chosen(paper_id: str | None) -> None:
            if paper_id:
                self.open_paper(paper_id)

        self.push_screen(BrowserScreen([found[i] for i in ids]), chosen)

    # -- conversations ----------------------------------------------------------------------------
    def action_new_chat(self) -> None:
        self.action_cancel()
        self.conversation, self.history = None, []
        self.action_clear_scope()
        self.query_one("#chat", VerticalScroll).remove_children()
        self.query_one("#question", Input).focus()

    def action_conversations(self) -> None:
        def chosen(conversation: int | None) -> None:
            if conversation is not None:
                self.call_later(self.load_conversation, conversation)

        self.push_screen(ConversationsScreen(self.conversations), chosen)

    async def load_conversation(self, conversation: int) -> None:
        self.action_new_chat()
        self.conversation = conversation
        chat = self.query_one("#chat", VerticalScroll)
        for turn in self.conversations.turns(conversation):
            block = AnswerBlock(turn.question)
            await chat.mount(block)
            await block.show_result(turn.result)
            self.history.append(Turn(turn.question, turn.answer))
        chat.scroll_end(animate=False)
        self.notify(f"Opened “{self.conversations.title(conversation)}”.")

    def action_export(self) -> None:
        if self.conversation is None:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        title = self.conversations.title(self.conversation)
        slug = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")[:50] or "conversation"
        folder = self.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug}-{self.conversation}.md"
        path.write_text(to_markdown(title, self.conversations.turns(self.conversation)), encoding="utf-8")
        self.notify(f"Saved to {path}", title="Exported", timeout=10)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        self.conversations.close()


def run(settings: Settings) -> None:
    AssistantApp(settings).run()

