"""The terminal chat driven with Textual's Pilot: the real bundled model for asking, a scripted
slow model where timing matters (cancelling), and snapshots of the key screens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Markdown, OptionList

from assistant.config import Settings
from assistant.store import Store
from assistant.tui.app import AssistantApp
from assistant.tui.screens import BrowserScreen, PaperScreen
from assistant.tui.widgets import AnswerBlock, StatusBar
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
    await wait_until(pilot, lambda: app.session is not None)
    app.query_one("#question", Input).value = question
    await pilot.press("enter")

    def drawn() -> bool:  # the result is set before its sources are drawn: wait for both
        blocks = app.query(AnswerBlock)
        if not blocks or blocks.last().result is None:
            return False
        block = blocks.last()
        return block.result["status"] != "answered" or bool(block.query_one(".sources", OptionList).display)

    await wait_until(pilot, drawn)
    return app.query(AnswerBlock).last()


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
        await pilot.press("down", "enter")  # keyboard: highlight the first source and open it
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        paper = app.screen
        assert "Vary-toy" in paper.paper.abstract
        assert any(span.style for span in paper.abstract().spans)  # cited sentences highlighted
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PaperScreen))


async def test_escape_cancels_and_keeps_what_was_typed(app_factory) -> None:
    app = app_factory(SlowModel("Vary-toy reaches 65.6% ANLS on DocVQA [1]. " * 5))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        app.query_one("#question", Input).value = QUESTION
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query_one(AnswerBlock).query_one(".answer", Markdown).source) > 10)
        app.query_one("#question", Input).value = "a follow-up being typed"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.answering, 10)
        block = app.query_one(AnswerBlock)
        assert block.result is None and "Cancelled" in block.query_one(".answer", Markdown).source
        assert app.query_one("#question", Input).value == "a follow-up being typed"
        assert app.history == []  # a cancelled answer is not part of the conversation


async def test_browser_filters_and_sorts(app_factory) -> None:
    app = app_factory(ScriptedModel(""))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))
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
        await pilot.pause(0.2)
    exports = list((tmp_path / "tui-data" / "exports").glob("*.md"))
    assert len(exports) == 1
    markdown = exports[0].read_text()
    assert f"## {QUESTION}" in markdown and "65.6%" in markdown and "Sources:" in markdown
    assert "Small Language Model Meets with Reinforced Vision Vocabulary" in markdown

    again = app_factory(ScriptedModel(script))  # a new app on the same data dir: a restart
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.session is not None)
        await pilot.press("ctrl+o")
        await pilot.pause(0.3)
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
    await pilot.pause(0.2)


def test_snapshot_chat_with_answer(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=_answered)


def test_snapshot_paper_view(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    async def open_paper(pilot) -> None:  # noqa: ANN001
        await _answered(pilot)
        block = pilot.app.query_one(AnswerBlock)
        block.query_one(".sources").focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PaperScreen))
        steady(pilot.app)
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=open_paper)


def test_snapshot_browser(snap_compare, sample_store: Store, tmp_path: Path) -> None:
    async def browse(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: pilot.app.session is not None)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, BrowserScreen))
        await pilot.press(*"diffusion")
        steady(pilot.app)
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(sample_store, tmp_path), terminal_size=(100, 30), run_before=browse)
