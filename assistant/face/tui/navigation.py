"""The chat's ways around the collection and its history: opening papers (from a citation or
the browser), asking about one paper, and starting, opening and exporting conversations.

The base class of `AssistantApp`, kept apart so that the app module holds the asking itself:
it names the chat state it shares and the two asking methods it calls, which the app defines."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.containers import VerticalScroll
from textual.widgets import Static

from assistant.core import cite
from assistant.core.settings import Settings
from assistant.face.tui.render import cited_sentences
from assistant.face.tui.screens import BrowserScreen, ConversationsScreen, PaperScreen
from assistant.face.tui.widgets import QUESTION_PLACEHOLDER, AnswerBlock, QuestionInput, SourceChosen
from assistant.session import UNFINISHED, ConversationStore, Result, Session, StageListener, Stream, Turn


class Navigation(App[None]):
    """Papers and conversations, for the chat app built on it."""

    # the chat's state these share with the app (set in `AssistantApp.__init__`)
    settings: Settings
    session: Session | None
    conversations: ConversationStore
    conversation: int | None
    history: list[Turn]
    scope: set[str] | None

    # -- asking, which the app defines ------------------------------------------------------
    def can_ask(self) -> bool:
        raise NotImplementedError("AssistantApp.can_ask")

    def start_job(self, question: str, kind: str, make: Callable[[Session, StageListener], Stream[Result]],
                  label: str = "You") -> bool:
        raise NotImplementedError("AssistantApp.start_job")

    def cancel_job(self, why: str = "Cancelled.") -> None:
        raise NotImplementedError("AssistantApp.cancel_job")

    # -- papers ---------------------------------------------------------------------------------
    def on_source_chosen(self, event: SourceChosen) -> None:
        source = next((s for s in event.result.get("sources", []) if s["number"] == event.number), None)
        if source is not None:
            self.open_paper(source["id"], cited_sentences(event.result, event.number))

    def open_paper(self, paper_id: str, highlight: list[str] | None = None, over: Screen[None] | None = None) -> None:
        """Show a paper; closing it goes back to where it was opened (`over`: the browser, its
        filter kept), summarising or asking about it goes back to the chat."""
        paper = self.session.paper(paper_id) if self.session else None
        if paper is None:
            self.notify("That paper is no longer in the collection.", severity="warning")
            return

        def chosen(action: str | None) -> None:
            if action is not None and over is not None and over.is_current:
                over.dismiss(None)
            if action == "summarise" and self.can_ask():
                title = f"Summarise: {paper.title}"
                self.start_job(title, "paper", lambda s, on_stage: s.summarise_paper(paper.id, on_stage), label="Summary")
            elif action == "ask":
                self.scope = {paper.id}
                scope = self.query_one("#scope", Static)
                scope.update(Text(f"Asking about: {paper.title}  ·  ctrl+x: the whole collection"))
                scope.display = True
                box = self.query_one("#question", QuestionInput)
                if not box.disabled:
                    box.placeholder = f"Ask about “{paper.title}”…   (ctrl+x: the whole collection)"
                self.refresh_bindings()

        self.push_screen(PaperScreen(paper, highlight), chosen)

    def action_clear_scope(self) -> None:
        self.scope = None
        self.query_one("#scope").display = False
        box = self.query_one("#question", QuestionInput)
        if not box.disabled:
            box.placeholder = QUESTION_PLACEHOLDER
        self.refresh_bindings()

    def action_browse(self) -> None:
        if self.session is None:
            self.notify("Still getting ready; the papers will be here in a moment.", severity="warning")
            return

        browser = BrowserScreen(self.session.papers(), lambda paper_id: self.open_paper(paper_id, over=browser))
        self.push_screen(browser)

    # -- conversations ----------------------------------------------------------------------------
    def action_new_chat(self) -> None:
        self.cancel_job()
        self.conversation, self.history = None, []
        self.action_clear_scope()
        self.query_one("#chat", VerticalScroll).remove_children()
        box = self.query_one("#question", QuestionInput)
        if not box.disabled:
            box.focus()

    def action_conversations(self) -> None:
        def chosen(conversation: int | None) -> None:
            if conversation is not None:
                self.call_later(self.load_conversation, conversation)

        self.push_screen(ConversationsScreen(self.conversations, self.conversation_deleted), chosen)

    def conversation_deleted(self, conversation: int) -> None:
        """Deleting the open conversation starts a fresh one."""
        if conversation == self.conversation:
            self.action_new_chat()

    async def load_conversation(self, conversation: int) -> None:
        self.action_new_chat()
        self.conversation = conversation
        chat = self.query_one("#chat", VerticalScroll)
        for turn in self.conversations.turns(conversation):
            block = AnswerBlock(turn.question, label="You" if turn.kind == "answer" else "Summary")
            await chat.mount(block)
            if not turn.complete:
                await block.show_stopped(UNFINISHED)
                continue
            await block.show_result(turn.result)
            if turn.kind == "answer":
                cited = tuple(str(s["id"]) for s in turn.result.get("sources") or [] if "id" in s)
                self.history.append(Turn(turn.question, turn.answer, cited))
        chat.scroll_end(animate=False)
        self.notify(f"Opened “{self.conversations.title(conversation)}”.")

    def action_export(self) -> None:
        if self.conversation is None:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        title = self.conversations.title(self.conversation)
        slug = re.sub(r"[^a-z0-9]+", "-", title.casefold())[:50].strip("-") or "conversation"
        folder = self.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        # a new file each time, never over an earlier export: slug.md, then slug-2.md, …
        names = (folder / (slug if n == 1 else f"{slug}-{n}") for n in range(1, 10_000))
        path = next(stem.with_suffix(".md") for stem in names
                    if not stem.with_suffix(".md").exists() and not stem.with_suffix(".bib").exists())
        path.write_text(self.conversations.markdown(self.conversation), encoding="utf-8")
        cited: dict[str, dict] = {}  # every paper the conversation's answers cite, once, first cited first
        for turn in self.conversations.turns(self.conversation):
            for source in turn.result.get("sources") or []:
                cited.setdefault(str(source.get("id") or source.get("title")), source)
        # file names on lines of their own: a toast wraps a long path wherever it runs out of room
        where = f"in {_home_relative(folder)}"
        if not cited:
            self.notify(f"{path.name}\n{where}", title="Exported", timeout=10)
            return
        references = path.with_suffix(".bib")
        references.write_text(cite.bibtex(list(cited.values())), encoding="utf-8")
        self.notify(f"{path.name}\n{references.name} ({len(cited)} cited papers)\n{where}", title="Exported",
                    timeout=10)


def _home_relative(folder: Path) -> str:
    """A folder as a user would type it: under the home folder, with ~."""
    try:
        return f"~/{folder.resolve().relative_to(Path.home().resolve())}"
    except ValueError:
        return str(folder)
