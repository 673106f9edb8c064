"""The terminal chat. It talks to `Session` only: no retrieval, store or model logic lives here.

Slow work (opening and first-indexing the store, loading the model, answering) runs in worker
threads; widgets are touched from them only through `call_from_thread`. Every action stays
safe while an answer is being written: an answer belongs to a `Job`, and cancelling a job (by
escape, a new chat, opening another conversation or quitting) is the one way an answer stops.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.css.query import QueryType
from textual.widget import Widget
from textual.widgets import Collapsible, Footer, OptionList, ProgressBar, Static

from assistant.core import cite, wording
from assistant.core.errors import AssistantError, user_error
from assistant.core.limits import check_question
from assistant.core.settings import Settings
from assistant.face.tui.commands import AssistantCommands
from assistant.face.tui.jobs import AppClosed, Job, ProgressAdapter
from assistant.face.tui.navigation import Navigation
from assistant.face.tui.screens import BrowserScreen, ConversationsScreen, HelpScreen, PaperScreen
from assistant.face.tui.widgets import QUESTION_PLACEHOLDER, AnswerBlock, Draft, QuestionInput, StatusBar
from assistant.session import ChatModel, ModelError, Result, Session, Stage, StageListener, Store, Stream, Turn

DRAFT_INTERVAL = 0.05  # seconds between draft redraws while the model writes
# Actions that change the chat: off while another screen (paper, browser, help) is on top.
CHAT_ACTIONS = {"new_chat", "browse", "conversations", "export", "regenerate", "copy_answer", "copy_bibtex", "clear_scope",
                "cancel"}
NOTES = """\
## Elsewhere

- `enter` in the question box asks, `ctrl+j` starts a new line; `tab` goes from the question box to the latest answer's sources, then to the chat log (arrows and page keys scroll it), then back; `shift+tab` the other way.
- `enter` on a source opens the paper with the cited sentences highlighted; clicking a citation such as **[1]** does the same.
- `ctrl+p` opens the command palette.
- An answer is drawn as a marked draft while the model writes; verification then replaces it. A cancelled answer's draft is removed.
- Sentences that failed verification are listed, struck through, each with its reason, under "Removed by verification (n)", collapsed: `enter` on it (`tab` reaches the latest one) or a click opens it.
"""


class Tell(Message):
    """A call for the UI thread, posted by a worker (see `AssistantApp.tell`)."""

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__()
        self.call = call


class ChatScreen(Screen[None]):
    """The chat itself; whenever a screen on top of it closes, typing goes to the question box.

    Tab goes where the eye goes after an answer: from the question box to the latest answer's
    sources (and its removed sentences, when it has any), then to the chat log (to scroll it),
    then back; shift+tab the other way."""

    def _tab_stops(self) -> list[Widget]:
        box = self.query_one("#question", QuestionInput)
        stops: list[Widget] = [box] if not box.disabled else []
        finished = [b for b in self.query(AnswerBlock) if b.result is not None]
        if finished:
            latest = finished[-1]
            sources = latest.query_one(".sources", OptionList)
            removed = latest.query_one(".removed", Collapsible)
            stops += [sources] if sources.display else []
            stops += [removed.query_one("CollapsibleTitle")] if removed.display else []
        return [*stops, self.query_one("#chat", VerticalScroll)]

    def _step(self, step: int) -> Widget | None:
        stops = self._tab_stops()
        here = stops.index(self.focused) if self.focused in stops else (-1 if step > 0 else 0)
        target = stops[(here + step) % len(stops)]
        self.set_focus(target)
        return target

    def focus_next(self, selector: str | type[QueryType] = "*") -> Widget | None:
        return self._step(1)

    def focus_previous(self, selector: str | type[QueryType] = "*") -> Widget | None:
        return self._step(-1)

    def on_screen_resume(self) -> None:
        box = self.query_one("#question", QuestionInput)
        if not box.disabled:
            box.focus()


class AssistantApp(Navigation):
    TITLE = "assistant"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {AssistantCommands}
    # Priority bindings reach the app before the question box or the browser's filter, which
    # would otherwise take ctrl+x (cut) and ctrl+d (delete) for themselves.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel answer", priority=True, tooltip="stop the answer being written (what you typed stays)"),
        Binding("ctrl+n", "new_chat", "New chat", priority=True, tooltip="start a new conversation"),
        Binding("ctrl+b", "browse", "Papers", priority=True, tooltip="browse, filter and open every paper"),
        Binding("ctrl+o", "conversations", "Conversations", priority=True, tooltip="saved conversations: open, rename, delete"),
        Binding("ctrl+r", "regenerate", "Regenerate", show=False, priority=True, tooltip="write the last answer again"),
        Binding("ctrl+y", "copy_answer", "Copy", show=False, priority=True, tooltip="copy the last answer and its sources"),
        Binding("ctrl+t", "copy_bibtex", "Copy BibTeX", show=False, priority=True,
                tooltip="copy the last answer's cited papers as BibTeX"),
        Binding("ctrl+s", "export", "Export", show=False, priority=True,
                tooltip="export this conversation to Markdown, and its cited papers to BibTeX"),
        Binding("ctrl+x", "clear_scope", "Whole collection", show=False, priority=True,
                tooltip="ask the whole collection again (after \"ask about this paper\")"),
        Binding("f1", "help", "Help", priority=True, tooltip="this help"),
        Binding("question_mark", "help", "Help", show=False, tooltip="this help, when the question box is not focused"),
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="quit"),
    ]

    def __init__(self, settings: Settings, *, store: Store | None = None, model: ChatModel | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.session: Session | None = None
        self.model_ready = False
        self._store, self._model = store, model
        self.conversations = Session.conversations(settings)
        self.conversation: int | None = None
        self.history: list[Turn] = []
        self.scope: set[str] | None = None
        self.job: Job | None = None  # the answer being written, if any
        self.retries = 0  # regenerations so far: each one samples with another seed
        self.worker_busy = False  # the model is in use until the last job's worker returns

    # -- layout and start-up ------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return ChatScreen()

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield Static("", id="error")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="scope")
        yield QuestionInput(self.conversations.questions(), id="question", placeholder=QUESTION_PLACEHOLDER)
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        for hidden in ("#progress", "#scope", "#error"):
            self.query_one(hidden).display = False
        self.query_one("#question", QuestionInput).focus()
        self.start_session()

    @work(thread=True, exclusive=True, group="startup")
    def start_session(self) -> None:
        """Open the store (indexing the bundled pages on first use), then load the model. A model
        that cannot load leaves browsing and conversations working, with asking turned off."""
        status = self.query_one(StatusBar)
        try:
            session = Session.open(self.settings, ProgressAdapter(self), store=self._store, model=self._model)
        except AppClosed:
            return
        except Exception as exc:  # noqa: BLE001 - only a user error is shown, the rest re-raised
            failure = user_error(exc, self.settings.data_dir)
            if failure is None:
                raise
            self.tell(self.show_error, f"Cannot open the collection: {failure}")
            self.tell(setattr, status, "model", "not loaded")
            return
        papers = session.paper_count()
        self.session = session
        self.tell(setattr, status, "papers", papers)
        self.tell(setattr, status, "activity", "loading the model…")
        try:
            name = session.load_model()
        except ModelError as exc:
            self.tell(self.model_failed, str(exc))
            return
        finally:
            self.tell(setattr, status, "activity", "")
        self.model_ready = True
        self.tell(setattr, status, "model", name)
        if papers == 0:
            self.tell(self.notify, "The collection is empty: add pages with `assistant ingest PATH`.",
                      severity="warning", timeout=10)

    def show_error(self, message: str) -> None:
        panel = self.query_one("#error", Static)
        panel.update(Text(message))
        panel.display = True

    def model_failed(self, reason: str) -> None:
        """A lasting panel that says what is wrong and what to do; asking is off until restart."""
        self.query_one(StatusBar).model = "no model"
        fix = ("start the model server, or start again with another --llm-url (or none, for the bundled model)"
               if self.settings.llm_url else "start again with --model PATH.gguf pointing to a GGUF file, "
               "or without --model to use the bundled one")
        self.show_error(f"Cannot load the model: {reason}\n"
                        f"Asking is off. Browsing papers (ctrl+b) and saved conversations (ctrl+o) still work. "
                        f"To ask, quit (ctrl+q) and {fix}.")
        box = self.query_one("#question", QuestionInput)
        box.placeholder = "Asking is off: the model could not be loaded (see above)"
        box.disabled = True

    def progress_start(self, description: str, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=total or None, progress=0)  # 0: an unknown amount (waiting for another writer)
        status = self.query_one(StatusBar)
        status.indexing = (0, total) if total else None
        status.activity = description.lower() + "…"

    def progress_advance(self, amount: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.advance(amount)
        status = self.query_one(StatusBar)
        if status.indexing is not None:
            status.indexing = (int(bar.progress), status.indexing[1])

    def progress_stop(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        status = self.query_one(StatusBar)
        status.indexing = None
        status.activity = ""

    # -- which keys apply ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions apply on the chat screen only; escape only while an answer is written,
        ctrl+x only while scoped to one paper (elsewhere the key does what the widget does)."""
        if action in CHAT_ACTIONS and not isinstance(self.screen, ChatScreen):
            return False
        if action == "cancel":
            return self.job is not None
        if action == "clear_scope":
            return self.scope is not None
        return True

    # -- asking -------------------------------------------------------------------------------
    def on_question_input_scroll_chat(self, event: QuestionInput.ScrollChat) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        {"page_up": chat.scroll_page_up, "page_down": chat.scroll_page_down,
         "home": chat.scroll_home, "end": chat.scroll_end}[event.how](animate=False)

    def on_question_input_submitted(self, event: QuestionInput.Submitted) -> None:
        if not event.value.strip():
            return
        try:
            question = check_question(event.value)
        except AssistantError as exc:
            self.notify(f"{str(exc)[0].upper()}{str(exc)[1:]}.", severity="warning", timeout=10)
            return
        if not self.can_ask():
            return
        only = self.scope
        history = list(self.history)
        if self.start_job(question, "answer", lambda s, on_stage: s.ask(question, history, only=only, on_stage=on_stage)):
            event.box.value = ""  # kept when the question could not be asked, to try again
            event.box.remember(question)

    def can_ask(self) -> bool:
        """Whether the model is free; says why not when it is not."""
        if self.session is None or not self.model_ready:
            self.notify("Still getting ready (see the status bar); try again in a moment.", severity="warning")
            return False
        if self.job is not None:
            self.notify("An answer is being written: wait, or press escape to cancel it.", severity="warning")
            return False
        if self.worker_busy:
            self.notify("Stopping the cancelled answer; try again in a moment.", severity="warning")
            return False
        return True

    def start_job(self, question: str, kind: str, make: Callable[[Session, StageListener], Stream[Result]],
                  label: str = "You") -> bool:
        """Save the question and start writing its answer; False (with a notice) when the
        conversation cannot be saved."""
        try:
            if self.conversation is None or not self.conversations.exists(self.conversation):
                self.conversation = self.conversations.create(question)
            # saved now, so that a crash or a kill keeps the question (marked unfinished)
            turn = self.conversations.begin_turn(self.conversation, question, kind)
        except AssistantError as exc:  # a full or read-only disk: say so, ask nothing
            self.notify(f"Cannot save the conversation, so the question was not asked: {exc}", severity="error",
                        timeout=15)
            return False
        block = AnswerBlock(question, label=label)
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(block)
        chat.scroll_end(animate=False)
        self.job = Job(block, question, kind, turn)
        self.worker_busy = True
        self.refresh_bindings()  # the footer offers escape while an answer is written
        self.answer_worker(self.job, make)
        return True

    @work(thread=True, group="answer")
    def answer_worker(self, job: Job, make: Callable[[Session, StageListener], Stream[Result]]) -> None:
        assert self.session is not None
        pending: list[str] = []

        def on_stage(stage: Stage) -> None:
            if stage.name == "writing":  # the answer starts afresh (a follow-up's rewrite is not shown)
                pending.clear()
                job.block.post_message(Draft("", reset=True))
            self.tell(self.show_stage, job, stage)

        try:
            stream = make(self.session, on_stage)
            flushed = time.monotonic()
            for piece in stream:
                if job.cancelled.is_set():
                    stream.close()
                    return
                pending.append(piece)
                job.tokens += 1
                # post_message does not wait for the UI; batching keeps redraws to ~20 a second
                if time.monotonic() - flushed > DRAFT_INTERVAL:
                    job.block.post_message(Draft("".join(pending)))
                    self.tell(self.show_activity, job, f"writing… ({job.tokens} tokens)")
                    pending.clear()
                    flushed = time.monotonic()
            if pending:
                job.block.post_message(Draft("".join(pending)))
            result = stream.result
            if not job.cancelled.is_set():
                self.tell(self.finish_job, job, result)
        except AssistantError as exc:
            self.tell(self.fail_job, job, str(exc))
        finally:
            self.tell(self.job_ended, job)

    def tell(self, callback: Callable[..., Any], *args: object, **kwargs: object) -> None:
        """Run `callback` on the UI thread from a worker, in the order told, unless the app has
        closed meanwhile (quit while indexing or answering): then there is nothing to update.

        It posts a message rather than using `call_from_thread`, which waits for the UI with no
        time limit: a worker telling an app that closed a moment later waited for ever, and the
        exit waited for the worker (a quit that never ended, found by the random-key run)."""
        if self.is_running:
            self.post_message(Tell(partial(callback, *args, **kwargs)))

    async def on_tell(self, message: Tell) -> None:
        """Messages are handled one at a time, so a told coroutine finishes before the next."""
        result = message.call()
        if inspect.isawaitable(result):
            await result

    def show_stage(self, job: Job, stage: Stage) -> None:
        words = {"searching": "searching…", "writing": "writing…",
                 "checking": f"checking {wording.plural(stage.count, 'sentence')}…"}
        self.show_activity(job, words.get(stage.name, f"{stage.name}…"))

    def show_activity(self, job: Job, text: str) -> None:
        if job is self.job:
            self.query_one(StatusBar).activity = text

    async def finish_job(self, job: Job, result: Result) -> None:
        """Show the verified result and save it, unless the job was cancelled meanwhile."""
        if job is not self.job:
            return
        tokens, seconds = result.tokens, result.timings.get("generate", 0.0)
        if tokens and seconds:
            self.query_one(StatusBar).speed = tokens / seconds
        data = result.to_json()
        try:
            self.conversations.finish_turn(job.turn, result.text, data)
        except AssistantError as exc:  # shown all the same; the saved question stays marked unfinished
            self.notify(f"The answer could not be saved: {exc}", severity="error", timeout=15)
        if job.kind == "answer":
            self.history.append(Turn(job.question, result.text, tuple(s.paper.id for s in result.cited_sources())))
        await job.block.show_result(data)
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)

    async def fail_job(self, job: Job, message: str) -> None:
        self.notify(message, severity="error", timeout=15)
        await job.block.show_stopped(f"Not answered: {message}")

    def job_ended(self, job: Job) -> None:
        """The worker has returned: the model is free again."""
        self.worker_busy = False
        if job is self.job:
            self.job = None
            self.query_one(StatusBar).activity = ""
            self.refresh_bindings()

    def cancel_job(self, why: str = "Cancelled.") -> None:
        """The one way an answer stops: the worker stops at its next piece and the block, if
        still on screen, is marked."""
        job = self.job
        if job is None:
            return
        job.cancelled.set()
        self.job = None
        try:
            self.conversations.drop_turn(job.turn)  # a cancelled answer is not part of the conversation
        except AssistantError as exc:  # a full disk: the question stays, marked unfinished
            self.notify(f"The cancelled question stays in the conversation: {exc}", severity="warning")
        if self.conversation is not None and not self.conversations.exists(self.conversation):
            self.conversation = None
        self.query_one(StatusBar).activity = ""
        self.refresh_bindings()
        self.call_later(job.block.show_stopped, why)

    def action_cancel(self) -> None:
        if self.job is not None:
            self.cancel_job()
            self.notify("Answer cancelled.")

    def action_regenerate(self) -> None:
        """Write the last answer again, replacing it in the chat and the saved conversation."""
        if not self.history:
            self.notify("No answer to write again yet.", severity="warning")
            return
        if not self.can_ask():
            return
        last = self.history.pop()
        blocks = [b for b in self.query(AnswerBlock) if b.result is not None and b.question == last.question]
        if blocks:
            blocks[-1].remove()
        if self.conversation is not None:
            try:
                self.conversations.drop_last_turn(self.conversation)
            except AssistantError as exc:  # a full disk: the old answer stays saved beside the new one
                self.notify(f"The earlier answer stays saved: {exc}", severity="warning")
        self.retries += 1
        only, history, retry = self.scope, list(self.history), self.retries
        if self.start_job(last.question, "answer",
                          lambda s, on_stage: s.ask(last.question, history, only=only, retry=retry, on_stage=on_stage)):
            self.query_one(StatusBar).activity = "writing the last answer again…"
            self.notify("Writing the last answer again, with another sample.")

    def action_copy_answer(self) -> None:
        """The last answer, with its numbered sources, as Markdown on the clipboard."""
        blocks = [b for b in self.query(AnswerBlock) if b.result is not None]
        if not blocks:
            self.notify("No answer to copy yet.", severity="warning")
            return
        block = blocks[-1]
        assert block.result is not None
        self.copy_to_clipboard(wording.conversation_markdown(block.question, [(block.question, block.result, True)]))
        self.notify("Copied the last answer and its sources.")

    def action_copy_bibtex(self) -> None:
        """The last answer's cited papers as BibTeX on the clipboard, to paste into a .bib file."""
        blocks = [b for b in self.query(AnswerBlock) if b.result is not None and b.result.get("sources")]
        if not blocks:
            self.notify("No cited papers to copy yet.", severity="warning")
            return
        sources = list(blocks[-1].result["sources"])  # type: ignore[index]
        self.copy_to_clipboard(cite.bibtex(sources))
        self.notify(f"Copied {len(sources)} cited paper(s) as BibTeX.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections(), NOTES))

    def on_unmount(self) -> None:
        if self.job is not None:
            self.job.cancelled.set()
        self.conversations.close()


def help_sections() -> list[tuple[str, list[Binding]]]:
    """The key tables of the help screen and the README, from the live bindings."""
    return [
        ("Chat", list(AssistantApp.BINDINGS)),  # type: ignore[arg-type]
        ("Question box", list(QuestionInput.BINDINGS)),  # type: ignore[arg-type]
        ("Paper", list(PaperScreen.BINDINGS)),  # type: ignore[arg-type]
        ("Browser", list(BrowserScreen.BINDINGS)),  # type: ignore[arg-type]
        ("Saved conversations", list(ConversationsScreen.BINDINGS)),  # type: ignore[arg-type]
    ]


def run(settings: Settings) -> None:
    """Start the chat; a data directory that cannot be written is refused before anything opens."""
    Session.check_data_dir(settings)
    AssistantApp(settings).run()
