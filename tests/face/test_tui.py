"""The terminal chat driven with Textual's Pilot: the real bundled model for asking, a scripted
slow model where timing matters (cancelling), and snapshots of the key screens."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest
from textual.widgets import DataTable, Input, Markdown, Static

from assistant.core.settings import Settings
from assistant.face.tui.app import AssistantApp, ChatScreen, help_sections
from assistant.face.tui.screens import (
    BrowserScreen,
    ConfirmScreen,
    ConversationsScreen,
    HelpScreen,
    PaperScreen,
    RenameScreen,
    keys_table,
)
from assistant.face.tui.widgets import AnswerBlock, QuestionInput, StatusBar
from assistant.model.chat import Waiting
from assistant.store.data_dir import Store
from tests.conftest import ScriptedModel

QUESTION = "What ANLS score does Vary-toy reach on DocVQA"


class SlowModel(ScriptedModel):
    """Writes one word every 0.2 s, so a test can act while an answer is being written."""

    def stream(self, messages, sampling):  # noqa: ANN001, ANN201
        for word in super().stream(messages, sampling):
            time.sleep(0.2)
            yield word


def settings_for(store: Store, tmp_path: Path) -> Settings:
    # conversations live in the data dir: give each test its own copy of the settings' dir
    return Settings(data_dir=tmp_path / "tui-data", seed_bundled=False)


async def wait_until(pilot, condition, seconds: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.1)


async def ask(app: AssistantApp, pilot, question: str) -> AnswerBlock:  # noqa: ANN001
    """Ask once the model is ready and free, and wait until the answer and its sources are drawn."""
    await wait_until(pilot, lambda: app.model_ready and not app.worker_busy)
    before = len(app.query(AnswerBlock))  # the answer is the block after these, once it is drawn
    app.query_one("#question", QuestionInput).value = question
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(app.query(AnswerBlock)) > before and app.query(AnswerBlock).last().finished)
    return app.query(AnswerBlock).last()


async def open_browser(app: AssistantApp, pilot) -> None:  # noqa: ANN001
    """Open the paper browser once the collection is open."""
    await wait_until(pilot, lambda: app.session is not None)
    await pilot.press("ctrl+b")
    await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))


async def start_slow_answer(app: AssistantApp, pilot) -> AnswerBlock:  # noqa: ANN001
    """Ask, and return once the draft is streaming (the answer is not finished). Waits until a
    cancelled answer's worker has stopped, or the question would be refused."""
    await wait_until(pilot, lambda: app.model_ready and not app.worker_busy)
    app.query_one("#question", QuestionInput).value = QUESTION
    await pilot.press("enter")
    block = app.query(AnswerBlock).last()
    await wait_until(pilot, lambda: len(block.query_one(".answer", Markdown).source) > 10)
    return block


@pytest.fixture
def app_factory(sample_store: Store, tmp_path: Path) -> Iterator:
    def make(model: object) -> AssistantApp:
        return AssistantApp(settings_for(sample_store, tmp_path), store=sample_store, model=model)  # type: ignore[arg-type]

    yield make


async def test_ask_with_the_real_model_and_open_a_source(app_factory, real_model) -> None:
    app = app_factory(real_model)
    async with app.run_test(size=(100, 30)) as pilot:
        block = await ask(app, pilot, QUESTION)
        assert block.result["status"] == "answered"
        text = block.query_one(".answer", Markdown).source
        assert "65.6%" in text and "(cite:1)" in text
        assert app.query_one(StatusBar).speed is not None
        sources = block.query_one(".sources")
        assert sources.display and sources.option_count >= 1
        sources.focus()
        await pilot.press("enter")  # keyboard: the first source is highlighted as soon as it is drawn
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        paper = app.screen
        assert "Vary-toy" in paper.paper.abstract
        assert any(span.style for span in paper.abstract().spans)  # cited sentences highlighted
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PaperScreen))
        assert app.focused is app.query_one("#question")  # typing goes to the question box again


async def test_escape_cancels_and_keeps_what_was_typed(app_factory) -> None:
    app = app_factory(SlowModel("Vary-toy reaches 65.6% ANLS on DocVQA [1]. " * 5))
    async with app.run_test(size=(100, 30)) as pilot:
        block = await start_slow_answer(app, pilot)
        app.query_one("#question", QuestionInput).value = "a follow-up being typed"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.worker_busy and block.finished, 10)
        assert block.result is None and "Cancelled" in block.query_one(".answer", Markdown).source
        assert app.query_one("#question", QuestionInput).value == "a follow-up being typed"
        assert app.history == []  # a cancelled answer is not part of the conversation


async def test_browser_filters_and_sorts(app_factory) -> None:
    app = app_factory(ScriptedModel(""))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_browser(app, pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 311
        await pilot.press(*"reversal curse")
        await wait_until(pilot, lambda: table.row_count < 311)
        titles = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert titles and all("reversal" in t.casefold() and "curse" in t.casefold() for t in titles)
        await pilot.press("enter")  # from the filter to the table
        await pilot.press("enter")  # open the highlighted paper
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        assert "Reversal Curse" in app.screen.paper.title


async def test_export_and_reopen_after_restart(app_factory, sample_store: Store, tmp_path: Path) -> None:
    script = "Vary-toy can achieve 65.6% ANLS on DocVQA [1]."
    app = app_factory(ScriptedModel(script))
    async with app.run_test(size=(100, 30)) as pilot:
        first = await ask(app, pilot, QUESTION)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any((tmp_path / "tui-data" / "exports").glob("*.md")))
    exports = list((tmp_path / "tui-data" / "exports").glob("*.md"))
    assert len(exports) == 1
    markdown = exports[0].read_text()
    assert markdown.count(QUESTION) == 1 and "65.6%" in markdown and "Sources:" in markdown  # named once
    assert "Small Language Model Meets with Reinforced Vision Vocabulary" in markdown
    (references,) = (tmp_path / "tui-data" / "exports").glob("*.bib")
    assert references.stem == exports[0].stem
    (entry,) = bibtexparser.parse_string(references.read_text()).entries
    assert entry.fields_dict["title"].value == "{Small Language Model Meets with Reinforced Vision Vocabulary}"

    again = app_factory(ScriptedModel(script))  # a new app on the same data dir: a restart
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.session is not None)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(again.screen, ConversationsScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: again.query(AnswerBlock) and again.query_one(AnswerBlock).result is not None)
        reopened = again.query_one(AnswerBlock)
        assert reopened.question == QUESTION
        assert reopened.result["answer"] == first.result["answer"]
        assert len(again.history) == 1  # follow-ups continue the reopened conversation


def snapshot_app(sample_store: Store, tmp_path: Path) -> AssistantApp:
    return AssistantApp(settings_for(sample_store, tmp_path), store=sample_store,
                        model=ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1]. It has 42 layers [1]."))


def steady(app: AssistantApp) -> None:
    """Remove what changes from run to run: generation speed and the blinking cursor."""
    for screen in app.screen_stack:
        for bar in screen.query(StatusBar):
            bar.speed = None
        for field in screen.query(Input):
            field.cursor_blink = False


async def _answered(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await ask(app, pilot, QUESTION)
    steady(app)
    await pilot.pause()


def test_snapshot_chat_with_answer(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=_answered)


def test_snapshot_paper_view(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    async def open_paper(pilot) -> None:  # noqa: ANN001
        await _answered(pilot)
        block = pilot.app.query_one(AnswerBlock)
        block.query_one(".sources").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PaperScreen))
        steady(pilot.app)
        await pilot.pause()

    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=open_paper)


def test_snapshot_browser(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    async def browse(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: pilot.app.session is not None)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, BrowserScreen))
        await pilot.press(*"diffusion")
        steady(pilot.app)
        await pilot.pause()

    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=browse)


# -- nothing crashes while an answer is being written ---------------------------------------------
def slow_app(app_factory) -> AssistantApp:  # noqa: ANN001
    return app_factory(SlowModel("Vary-toy reaches 65.6% ANLS on DocVQA [1]. " * 5))


async def test_new_chat_while_an_answer_is_written(app_factory) -> None:
    app = slow_app(app_factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_slow_answer(app, pilot)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.worker_busy, 20)
        assert not app.query(AnswerBlock) and app.history == [] and app.conversation is None
        block = await ask(app, pilot, QUESTION)  # the model is free again
        assert block.result is not None and len(app.history) == 1


async def test_open_a_conversation_and_quit_while_an_answer_is_written(app_factory) -> None:
    app = slow_app(app_factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, QUESTION)
        await start_slow_answer(app, pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(AnswerBlock)) == 1 and app.query_one(AnswerBlock).finished)
        assert len(app.history) == 1  # the cancelled answer is neither shown nor remembered
        await start_slow_answer(app, pilot)
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)
    # quitting mid-answer keeps the question, marked unfinished, and a restart shows it so
    again = slow_app(app_factory)
    async with again.run_test(size=(100, 30)) as pilot:
        conversation = again.conversations.list()[0].id
        assert [t.complete for t in again.conversations.turns(conversation)] == [True, False]
        await again.load_conversation(conversation)
        blocks = again.query(AnswerBlock)
        assert len(blocks) == 2 and "Not finished" in blocks.last().query_one(".answer", Markdown).source
        assert len(again.history) == 1


async def test_reading_a_paper_while_an_answer_is_written_lets_it_finish(app_factory) -> None:
    app = slow_app(app_factory)
    async with app.run_test(size=(100, 30)) as pilot:
        block = await start_slow_answer(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await pilot.press("enter", "enter")  # from the filter to the table, then open the first paper
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await wait_until(pilot, lambda: block.finished, 30)  # finished behind the paper view
        await pilot.press("escape")  # back to the browser
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.focused is app.query_one("#question"))
        assert block.result is not None and len(app.history) == 1


async def test_first_run_indexing_shows_counts(app_factory) -> None:
    app = app_factory(ScriptedModel(""))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        app.progress_start("Embedding papers", 311)
        app.progress_advance(120)
        status = app.query_one(StatusBar)
        assert "indexing 120/311" in str(status.render()) and app.query_one("#progress").display
        app.progress_stop()
        assert "311 papers" in str(status.render()) and not app.query_one("#progress").display
        app.progress_start("Waiting for another assistant command to finish writing to /x", 0)  # an unknown amount
        assert "waiting for another assistant command" in str(status.render()).lower()
        app.progress_stop()


async def test_deleting_asks_first_and_the_open_conversation_starts_afresh(app_factory) -> None:
    app = app_factory(ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, QUESTION)
        first = app.conversation
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        assert app.conversations.exists(first)
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.conversations.exists(first))
        await pilot.press("escape")
        assert app.conversation is None and not app.query(AnswerBlock)
        await ask(app, pilot, QUESTION)  # saved in a new conversation, no foreign-key error
        assert app.conversation is not None and len(app.conversations.turns(app.conversation)) == 1


# -- keys work where the user is -----------------------------------------------------------------
async def test_keys_reach_the_app_from_the_question_box(app_factory, sample_store: Store) -> None:
    app = app_factory(ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, QUESTION)
        box = app.query_one("#question", QuestionInput)
        assert app.focused is box
        await pilot.press("?")
        assert box.value == "?" and not isinstance(app.screen, HelpScreen)  # "?" is typed
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.focused is box)
        box.value = ""
        await pilot.press("up")
        assert box.value == QUESTION  # Up recalls the last question
        await pilot.press("down")
        assert box.value == ""
        # "ask about this paper", then ctrl+x in the question box goes back to the whole collection
        paper_id = app.query_one(AnswerBlock).result["sources"][0]["id"]
        app.open_paper(paper_id)
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("a")
        await wait_until(pilot, lambda: app.scope == {paper_id} and app.focused is box)
        box.value = "typed"
        await pilot.press("ctrl+x")
        assert app.scope is None and box.value == "typed"


async def test_browser_ctrl_d_flips_the_order_from_the_filter(app_factory) -> None:
    app = app_factory(ScriptedModel(""))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_browser(app, pilot)
        screen = app.screen
        await pilot.press(*"diffusion")
        await pilot.press("home")
        assert screen.descending and screen.sort_key == "date"
        await pilot.press("ctrl+d")
        assert not screen.descending and screen.query_one(Input).value == "diffusion"


async def test_summary_is_saved_in_the_conversation_and_regenerate_replaces_the_answer(app_factory) -> None:
    model = ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1].")
    app = app_factory(model)
    async with app.run_test(size=(100, 30)) as pilot:
        block = await ask(app, pilot, QUESTION)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(app.query(AnswerBlock)) == 1 and app.query_one(AnswerBlock) is not block
                         and app.query_one(AnswerBlock).finished)
        assert model.samplings[-1].seed != model.samplings[0].seed  # written again, differently
        assert len(app.conversations.turns(app.conversation)) == 1 and len(app.history) == 1
        await pilot.press("ctrl+y")
        assert QUESTION in app.clipboard and "Sources:" in app.clipboard
        await pilot.press("ctrl+t")
        assert app.clipboard.startswith("@misc{") and "Reinforced Vision Vocabulary" in app.clipboard
        paper_id = app.query_one(AnswerBlock).result["sources"][0]["id"]
        app.open_paper(paper_id)
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("s")
        await wait_until(pilot, lambda: len(app.query(AnswerBlock)) == 2 and app.query(AnswerBlock).last().finished)
        assert app.focused is app.query_one("#question")
        turns = app.conversations.turns(app.conversation)
        assert [t.kind for t in turns] == ["answer", "paper"] and len(app.history) == 1
        markdown = app.conversations.markdown(app.conversation)
        assert "## Summarise: " in markdown and markdown.count("Sources:") == 2


async def test_activity_line_says_what_is_happening(app_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = AssistantApp.show_activity
    monkeypatch.setattr(AssistantApp, "show_activity", lambda self, job, text: (seen.append(text), original(self, job, text)))
    app = slow_app(app_factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, QUESTION)
        await wait_until(pilot, lambda: not app.worker_busy)
        assert app.query_one(StatusBar).activity == ""
    assert seen[0] == "searching…" and "writing…" in seen
    assert any(re.fullmatch(r"writing… \(\d+ tokens\)", s) for s in seen)
    assert any(re.fullmatch(r"checking \d+ sentences?…", s) for s in seen)


# -- start-up errors --------------------------------------------------------------------------------
async def test_a_bad_model_leaves_browsing_working(sample_store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    settings = Settings(data_dir=tmp_path / "tui-data", seed_bundled=False, model=str(bad))
    app = AssistantApp(settings, store=sample_store)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one("#error", Static)
        await wait_until(pilot, lambda: panel.display)
        text = str(panel.render())
        assert str(bad) in text and "--model" in text and "ctrl+b" in text
        assert app.query_one("#question", QuestionInput).disabled
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))


def test_an_unwritable_data_directory_is_refused_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.face.cli.main import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["--data-dir", str(blocker / "data")])
    err = capsys.readouterr().err
    assert code != 0 and "cannot write to the data directory" in err and "Traceback" not in err
    assert "move" not in err and blocker.read_text() == ""


# -- help matches the bindings, and the README matches the help ---------------------------------------
def test_help_and_readme_are_built_from_the_bindings() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for title, bindings in help_sections():
        table = keys_table(bindings)
        assert table in readme, f"README key table for {title!r} is out of date:\n{table}"
        for binding in bindings:
            assert binding.key.split(",")[0].replace("question_mark", "?") in table


class GatedModel(ScriptedModel):
    """Writes its words 0.1 s apart (each one drawn on its own), then waits for `gate` before
    finishing: a steady "writing" state to photograph."""

    def __init__(self, script: str) -> None:
        super().__init__(script)
        self.gate = threading.Event()

    def stream(self, messages, sampling):  # noqa: ANN001, ANN201
        for word in super().stream(messages, sampling):
            time.sleep(0.1)
            yield word
        self.gate.wait(30)


class TurnTakingModel(ScriptedModel):
    """Waits for another command's turn (until `gate`), saying so, then writes."""

    def __init__(self, script: str) -> None:
        super().__init__(script)
        self.gate = threading.Event()

    def stream(self, messages, sampling):  # noqa: ANN001, ANN201
        yield Waiting()
        self.gate.wait(30)
        yield from super().stream(messages, sampling)


async def test_the_status_bar_says_when_the_answer_waits_for_another_command(app_factory) -> None:  # noqa: ANN001
    model = TurnTakingModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1].")
    app = app_factory(model)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready)
        app.query_one("#question", QuestionInput).value = QUESTION
        await pilot.press("enter")
        status = app.query_one(StatusBar)
        await wait_until(pilot, lambda: status.activity == "waiting for another command…")
        assert not app.query(AnswerBlock).last().finished
        model.gate.set()
        block = app.query(AnswerBlock).last()
        await wait_until(pilot, lambda: block.finished)
        assert block.result is not None and block.result["status"] == "answered"
        assert "65.6%" in block.query_one(".answer", Markdown).source and "waiting" not in status.activity


def test_snapshot_activity_line(snap_compare, sample_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StatusBar, "_spin", lambda self: None)  # a still spinner for the picture
    model = GatedModel("Vary-toy can achieve")
    app = AssistantApp(settings_for(sample_store, tmp_path), store=sample_store, model=model)

    async def writing(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: app.model_ready)
        app.query_one("#question", QuestionInput).value = QUESTION
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.query_one(StatusBar).activity == "writing… (3 tokens)")
        steady(app)
        await pilot.pause()
        # the picture is taken as soon as this returns; quitting then waits for the writer, so
        # the gate opens a little later rather than at the model's 30 s limit
        threading.Timer(3.0, model.gate.set).start()

    try:
        assert snap_compare(app, terminal_size=(100, 30), run_before=writing)
    finally:
        model.gate.set()


def test_snapshot_model_error_panel(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "tui-data", seed_bundled=False, model="/nowhere/model.gguf")
    app = AssistantApp(settings, store=sample_store)

    async def failed(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: app.query_one("#error").display)
        steady(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=failed)


def test_snapshot_browser_at_80x24(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    async def browse(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: pilot.app.session is not None)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, BrowserScreen))
        steady(pilot.app)
        await pilot.pause()

    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(80, 24), run_before=browse)


# -- what users see is worded once ----------------------------------------------------------------
LONG_QUESTION = "What ANLS score does Vary-toy reach on DocVQA, and how does that compare with the larger Vary model?"


async def test_export_keeps_the_whole_question_and_the_removal_reasons(app_factory, tmp_path: Path) -> None:
    app = app_factory(ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1]. It has 42 layers [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, LONG_QUESTION)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any((tmp_path / "tui-data" / "exports").glob("*.md")))
    markdown = next((tmp_path / "tui-data" / "exports").glob("*.md")).read_text()
    assert markdown.startswith(f"# {LONG_QUESTION}\n")
    assert "~~It has 42 layers.~~ — " in markdown  # the removed sentence with its reason


async def test_browser_titles_use_the_width_there_is(app_factory) -> None:
    app = app_factory(ScriptedModel(""))
    async with app.run_test(size=(160, 50)) as pilot:
        await open_browser(app, pilot)
        title = app.screen.query_one(DataTable).columns["title"]
        assert title.width > 100


def test_one_author_is_singular_everywhere() -> None:
    from assistant.core.wording import meta_line
    from assistant.face.tui.render import source_label

    paper = {"number": 1, "title": "T", "date": "2024-01-02", "authors": 1, "upvotes": 1}
    assert meta_line(paper) == "2024-01-02 · 1 author · 1 upvote"
    assert "1 authors" not in source_label(paper)


def test_sections_read_the_same_in_the_chat_and_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.answer.result import Result, Section
    from assistant.answer.verify import Claim
    from assistant.face.cli.output import print_result
    from assistant.face.tui.render import result_markdown

    prose = {"heading": "TL;DR", "bullets": False, "sentences": [
        {"text": "First point.", "citations": [1]}, {"text": "Second point.", "citations": [1]}]}
    bullets = {"heading": "Key findings", "bullets": True, "sentences": [
        {"text": "A finding.", "citations": [1]}, {"text": "Another finding.", "citations": [1]}]}
    markdown = result_markdown({"kind": "paper", "query": "T", "status": "answered", "sections": [prose, bullets]})
    assert "First point. [\\[1\\]](cite:1) Second point." in markdown  # prose stays prose
    assert "- A finding." in markdown and "- Another finding." in markdown
    assert "- First point." not in markdown
    claims = [Claim("First point.", (1,), True, 1.0), Claim("Second point.", (1,), True, 1.0)]
    found = [Claim("A finding.", (1,), True, 1.0), Claim("Another finding.", (1,), True, 1.0)]
    print_result(Result(kind="paper", query="T", status="answered",
                        sections=[Section("TL;DR", claims), Section("Key findings", found, bullets=True)]))
    printed = capsys.readouterr().out
    assert "First point. [1] Second point. [1]" in printed and "- A finding. [1]" in printed


async def test_rename_a_saved_conversation(app_factory) -> None:
    app = app_factory(ScriptedModel("Vary-toy can achieve 65.6% ANLS on DocVQA [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, QUESTION)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        app.screen.query_one(Input).value = "Vary-toy scores"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.conversations.title(app.conversation) == "Vary-toy scores")


async def test_an_overlong_question_is_refused_and_kept_for_editing(app_factory) -> None:
    app = app_factory(ScriptedModel("Never written [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready and not app.worker_busy)
        question = "why " * 1000
        app.query_one("#question", QuestionInput).value = question
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert not app.query(AnswerBlock) and app.query_one("#question", QuestionInput).value == question
        assert any("characters long" in str(n.message) for n in app._notifications)  # noqa: SLF001
