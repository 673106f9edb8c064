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
from assistant.face.tui.screens import (
    BrowserScreen,
    ConversationsScreen,
    HelpScreen,
    ModelScreen,
    PaperScreen,
    SourcesScreen,
)
from assistant.face.tui.widgets import QUESTION_PLACEHOLDER, AnswerBlock, Draft, QuestionInput, StatusBar
from assistant.session import ChatModel, ModelError, Result, Session, Stage, StageListener, Store, Stream, Turn

DRAFT_INTERVAL = 0.05  # seconds between draft redraws while the model writes
# Actions that change the chat: off while another screen (paper, browser, help) is on top.
CHAT_ACTIONS = {"new_chat", "browse", "conversations", "export", "regenerate", "copy_answer", "copy_bibtex", "clear_scope",
                "cancel", "step_answer", "edit_question", "switch_model", "sources"}
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
        Binding("ctrl+o", "conversations", "Conversations", priority=True,
                tooltip="saved conversations: find, open, rename, delete"),
        Binding("ctrl+up", "step_answer(-1)", "Earlier answer", show=False, priority=True,
                tooltip="select the answer before (its sources); the keys below act on the selected answer"),
        Binding("ctrl+down", "step_answer(1)", "Later answer", show=False, priority=True,
                tooltip="select the answer after"),
        Binding("ctrl+r", "regenerate", "Regenerate", show=False, priority=True,
                tooltip="write the selected (else the last) answer again; an earlier one is asked again at the end"),
        Binding("ctrl+e", "edit_question", "Ask again, edited", show=False, priority=True,
                tooltip="put the selected (else the last) question in the box, to edit and ask again"),
        Binding("ctrl+y", "copy_answer", "Copy", show=False, priority=True,
                tooltip="copy the selected (else the last) answer and its sources"),
        Binding("ctrl+t", "copy_bibtex", "Copy BibTeX", show=False, priority=True,
                tooltip="copy the selected (else the last) answer's cited papers as BibTeX"),
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
            session = Session.open(self.settings, ProgressAdapter(self), store=self._store, model=self._model,
                                   warm=True)  # the index is read while the model loads: the first answer waits less
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
                 "waiting": "waiting for another command…",  # the whole line fits beside the model at 100 columns
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

    # -- acting on any answer ------------------------------------------------------------------
    def answered_blocks(self) -> list[AnswerBlock]:
        return [b for b in self.query(AnswerBlock) if b.result is not None]

    def selected_block(self) -> AnswerBlock | None:
        """The answer the keys act on: the one holding the focus (its sources or its removed
        sentences, chosen with ctrl+up/ctrl+down or a click), else the last."""
        node = self.focused
        while node is not None and not isinstance(node, AnswerBlock):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, AnswerBlock) and node.result is not None:
            return node
        blocks = self.answered_blocks()
        return blocks[-1] if blocks else None

    def action_step_answer(self, step: int) -> None:
        """Select the answer before or after the selected one (from the question box: the
        latest) by focusing its sources, or its removed sentences when it cites nothing."""
        blocks = self.answered_blocks()
        if not blocks:
            return
        current = self.selected_block()
        inside = current is not None and self.focused is not None and current in self.focused.ancestors
        index = max(0, min(len(blocks) - 1, blocks.index(current) + step)) if inside and current else len(blocks) - 1
        target = blocks[index]
        target.scroll_visible(animate=False)
        if target.query_one(".sources", OptionList).display:
            target.query_one(".sources", OptionList).focus()
        elif target.query_one(".removed", Collapsible).display:
            target.query_one("CollapsibleTitle").focus()
        else:
            self.notify("That answer has nothing to select: it cites no paper.", severity="warning")

    def action_regenerate(self) -> None:
        """Write the selected answer again: the last one is replaced (in the chat and the saved
        conversation); an earlier one is asked again as a new answer at the end, with the
        conversation so far."""
        block = self.selected_block()
        if block is None:
            self.notify("No answer to write again yet.", severity="warning")
            return
        if block.label != "You":
            self.notify("A summary is written again from its paper's view (s).", severity="warning")
            return
        if not self.can_ask():
            return
        if block is self.answered_blocks()[-1] and self.history and self.history[-1].question == block.question:
            self.history.pop()
            block.remove()
            if self.conversation is not None:
                try:
                    self.conversations.drop_last_turn(self.conversation)
                except AssistantError as exc:  # a full disk: the old answer stays saved beside the new one
                    self.notify(f"The earlier answer stays saved: {exc}", severity="warning")
        self.retries += 1
        question, history, only, retry = block.question, list(self.history), self.scope, self.retries
        if self.start_job(question, "answer",
                          lambda s, on_stage: s.ask(question, history, only=only, retry=retry, on_stage=on_stage)):
            self.query_one(StatusBar).activity = "writing the answer again…"
            self.notify("Writing the answer again, with another sample.")

    def action_edit_question(self) -> None:
        """The selected question in the box, to change and ask again (enter)."""
        block = self.selected_block()
        if block is None:
            self.notify("No question to edit yet.", severity="warning")
            return
        box = self.query_one("#question", QuestionInput)
        if box.disabled:
            return
        box.value = block.question.removeprefix("Summarise: ") if block.label != "You" else block.question
        box.focus()

    def action_copy_answer(self) -> None:
        """The selected answer, with its numbered sources, as Markdown on the clipboard."""
        block = self.selected_block()
        if block is None or block.result is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(wording.conversation_markdown(block.question, [(block.question, block.result, True)]))
        self.notify("Copied the answer and its sources." if block is not self.answered_blocks()[-1]
                    else "Copied the last answer and its sources.")

    def action_copy_bibtex(self) -> None:
        """The selected answer's cited papers as BibTeX on the clipboard, to paste into a .bib file."""
        block = self.selected_block()
        sources = list((block.result or {}).get("sources") or []) if block is not None else []
        if not sources:
            self.notify("No cited papers to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(cite.bibtex(sources))
        self.notify(f"Copied {len(sources)} cited paper(s) as BibTeX.")

    # -- the model and the collection -----------------------------------------------------------
    def action_switch_model(self) -> None:
        """Choose another GGUF file; it loads in the background and answers from then on."""
        if self.session is None or self.settings.llm_url:
            self.notify("The model is served from " + str(self.settings.llm_url) + ": switch it on the server."
                        if self.settings.llm_url else "Still getting ready; try again in a moment.", severity="warning")
            return
        if self.job is not None or self.worker_busy:
            self.notify("An answer is being written: wait, or press escape to cancel it.", severity="warning")
            return
        try:
            folder = self.session.model_folder()
        except ModelError:
            folder = self.settings.data_dir
        status = self.query_one(StatusBar)

        def chosen(path: str | None) -> None:
            if path:
                self.model_ready = False
                status.activity = "loading the model…"
                self.switch_model_worker(path)

        self.push_screen(ModelScreen(folder, status.model), chosen)

    @work(thread=True, exclusive=True, group="model")
    def switch_model_worker(self, path: str) -> None:
        assert self.session is not None
        status = self.query_one(StatusBar)
        try:
            name = self.session.use_model(path)
        except AssistantError as exc:
            self.tell(self.notify, f"Kept the model in use: {exc}", severity="error", timeout=15)
        else:
            self.tell(setattr, status, "model", name)
            self.tell(self.notify, f"Answering with {name} from now on.")
        finally:
            self.model_ready = True
            self.tell(setattr, status, "activity", "")

    def action_sources(self) -> None:
        if self.session is None:
            self.notify("Still getting ready; the collection will be here in a moment.", severity="warning")
            return
        self.push_screen(SourcesScreen(self.session.sources()))

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
