"""The chat's third pass, driven with Textual's Pilot and a scripted model: keys that follow
the eye, input like an editor's, conversations that can be found, answers that read well."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Static

from assistant.face.tui.app import ChatScreen
from assistant.face.tui.screens import ConversationsScreen, PaperScreen, RenameScreen
from assistant.face.tui.widgets import AnswerBlock, QuestionInput
from assistant.store.conversations import ConversationStore
from tests.conftest import ScriptedModel
from tests.face.test_tui import app_factory, ask, open_browser, wait_until  # noqa: F401 - shared helpers and fixture

ANSWER = "Vary-toy can achieve 65.6% ANLS on DocVQA [1]."


def saved(app: object, *titles_and_answers: tuple[str, str, str]) -> None:
    """Conversations saved as if in earlier runs: (title, question, answer)."""
    store: ConversationStore = app.conversations  # type: ignore[attr-defined]
    for title, question, answer in titles_and_answers:
        conversation = store.create(title)
        store.finish_turn(store.begin_turn(conversation, question), answer, {})


async def test_a_conversation_is_found_by_a_word_of_its_answer_and_the_highlight_stays(app_factory,
                                                                                        tmp_path: Path) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    saved(app, ("Legged robots", "How do legged robots climb stairs?", "They plan footholds [1]."),
          ("Vary-toy", "What does Vary-toy score?", "It reaches 65.6% ANLS on DocVQA [1]."),
          ("Diffusion", "What is diffusion policy?", "A policy that denoises actions [1]."))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        listing = screen.query_one(OptionList)
        assert listing.option_count == 3
        assert app.focused is screen.query_one("#find", Input)
        await pilot.press(*"footholds")  # a word only the first conversation's answer has
        assert listing.option_count == 1 and "Legged robots" in str(listing.get_option_at_index(0).prompt)
        for _ in "footholds":
            await pilot.press("backspace")
        assert listing.option_count == 3
        await pilot.press("down")  # the second row, then rename it: the highlight stays on it
        second = listing.get_option_at_index(1).id
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        assert "Rename" in str(app.screen.query_one("#rename-label", Static).render())
        box = app.screen.query_one(Input)
        assert box.cursor_position == 0  # the start of the name is in view
        box.value = "Vary-toy, renamed"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        assert listing.get_option_at_index(listing.highlighted).id == second
        await pilot.press("ctrl+d")  # the row deleted is the one highlighted, and the next takes its place
        await pilot.press("y")
        await wait_until(pilot, lambda: listing.option_count == 2)
        assert listing.highlighted == 1 and "Vary-toy" not in str(listing.get_option_at_index(1).prompt)
        title = screen.query_one("#conversations-title", Static)
        assert title.region.y >= screen.query_one("#conversations-box").region.y  # the title sits in its box


async def test_a_question_of_several_lines_typed_or_pasted_is_asked_whole(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready)
        box = app.query_one("#question", QuestionInput)
        app.post_message(events.Paste("What ANLS score does Vary-toy reach\non DocVQA?"))  # as the terminal sends it
        await pilot.pause()
        assert box.text == "What ANLS score does Vary-toy reach\non DocVQA?"  # the pasted line break kept
        await pilot.press("ctrl+j", *"Cite it.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AnswerBlock)) and app.query(AnswerBlock).last().finished)
        assert app.query(AnswerBlock).last().question == "What ANLS score does Vary-toy reach\non DocVQA?\nCite it."
        assert box.text == ""


async def test_questions_are_recalled_across_runs_and_the_chat_scrolls_from_the_box(app_factory) -> None:
    first = app_factory(ScriptedModel(ANSWER))
    async with first.run_test(size=(100, 30)) as pilot:
        for n in range(4):
            await ask(first, pilot, f"Question {n}: what does Vary-toy reach on DocVQA?")
    again = app_factory(ScriptedModel(ANSWER))
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: again.session is not None)
        box = again.query_one("#question", QuestionInput)
        await pilot.press("up")
        assert box.text == "Question 3: what does Vary-toy reach on DocVQA?"  # asked in the earlier run
        await pilot.press("up", "down", "down")
        assert box.text == ""
        conversation = again.conversations.list()[0].id
        await again.load_conversation(conversation)
        chat = again.query_one("#chat", VerticalScroll)
        await wait_until(pilot, lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y)
        box.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert chat.scroll_y < chat.max_scroll_y and again.focused is box
        await pilot.press("home")  # the box is empty: home goes to the start of the chat
        await pilot.pause()
        assert chat.scroll_y == 0
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert chat.scroll_y == chat.max_scroll_y and again.focused is box


async def test_tab_goes_to_the_latest_answers_sources_then_the_chat_log(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, "What does Vary-toy reach on DocVQA?")
        latest = await ask(app, pilot, "And what ANLS does Vary-toy reach?")
        box = app.query_one("#question", QuestionInput)
        assert app.focused is box
        await pilot.press("tab")
        assert app.focused is latest.query_one(".sources", OptionList)  # the newest answer's, not the oldest
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        app.set_focus(latest.query_one(".sources", OptionList))
        await pilot.press("tab")
        assert app.focused is app.query_one("#chat", VerticalScroll)
        await pilot.press("tab")
        assert app.focused is box
        await pilot.press("shift+tab")
        assert app.focused is app.query_one("#chat", VerticalScroll)


async def test_closing_a_paper_opened_from_the_browser_goes_back_to_the_browser_and_its_filter(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_browser(app, pilot)
        browser = app.screen
        await pilot.press(*"reversal curse")
        await pilot.press("enter")  # to the table
        await pilot.press("enter")  # open the first paper
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser)
        assert browser.query_one("#filter", Input).value == "reversal curse"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("a")  # ask about it: back to the chat, asking about that paper
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.scope is not None and len(app.screen_stack) == 1


QUOTED_RESULT = {
    "status": "answered", "kind": "answer", "query": "q", "extractive": True,
    "sections": [{"heading": None, "bullets": False, "sentences": [
        {"text": "Vary-toy reaches 65.6% ANLS on DocVQA.", "citations": [1], "origin": "evidence"},
        {"text": "It is small.", "citations": [1], "origin": "evidence"},
        {"text": "Reversal curse models fail on B is A.", "citations": [2], "origin": "evidence"},
    ]}],
    "sources": [], "dropped": [{"text": "(C) 2019-04-30T08:56:57Z+SJA.com/RewrittenBy" + "x" * 400, "reason": "cites no source"},
                               {"text": "A second junk sentence.", "reason": "not supported"}],
}


async def test_answers_read_well_quotes_by_paper_removed_collapsed_drafts_marked(app_factory) -> None:
    from assistant.face.tui.widgets import DRAFT_LABEL
    from textual.widgets import Collapsible, Markdown
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        block = AnswerBlock("q")
        await app.query_one("#chat").mount(block)
        label = block.query_one(".draft-label", Static)
        assert label.display and DRAFT_LABEL in str(label.render())  # a draft says it is one
        await block.show_result(QUOTED_RESULT)
        text = block.query_one(".answer", Markdown).source
        assert "It is small. [\\[1\\]](cite:1)\n\nReversal" in text  # a paragraph per cited paper
        assert "DocVQA. [\\[1\\]](cite:1) It is small." in text  # one paper's quotes stay together
        assert "Removed" not in text and not label.display
        removed = block.query_one(".removed", Collapsible)
        assert removed.display and removed.collapsed and "(2)" in removed.title
        listed = block.query_one(".removed-list", Markdown).source
        assert "x" * 300 not in listed and "…" in listed  # debris shortened


async def test_a_cancelled_answer_leaves_no_unverified_text(app_factory) -> None:
    from tests.face.test_tui import SlowModel, start_slow_answer
    from textual.widgets import Markdown
    app = app_factory(SlowModel("uses scratchpad motion capture to reach 65.6% ANLS [1]. " * 5))
    async with app.run_test(size=(100, 30)) as pilot:
        block = await start_slow_answer(app, pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: block.finished, 10)
        text = block.query_one(".answer", Markdown).source
        assert "Cancelled" in text and "scratchpad" not in text and "unverified draft was removed" in text


async def test_a_summary_is_named_once_and_a_copied_answer_names_its_question_once(app_factory) -> None:
    from assistant.core import wording
    from assistant.face.tui.render import result_markdown
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        block = AnswerBlock("Summarise: Small Language Model Meets with Reinforced Vision Vocabulary", label="Summary")
        await app.query_one("#chat").mount(block)
        header = str(block.query_one(".question", Static).render())
        assert header == "Summary: Small Language Model Meets with Reinforced Vision Vocabulary"
        summary = {**QUOTED_RESULT, "kind": "paper", "query": "Small Language Model Meets with Reinforced Vision Vocabulary"}
        assert "Summary of" not in result_markdown(summary)
    copied = wording.conversation_markdown("What is X?", [("What is X?", QUOTED_RESULT, True)])
    assert copied.count("What is X?") == 1
    exported = wording.conversation_markdown("What is X?", [("What is X?", QUOTED_RESULT, True),
                                                            ("And Y?", QUOTED_RESULT, True)])
    assert exported.count("What is X?") == 1 and "## And Y?" in exported


def notices(app) -> list[str]:  # noqa: ANN001
    return [n.message for n in app._notifications]


async def test_exports_are_named_after_the_conversation_and_the_toast_keeps_names_whole(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "What ANLS score does Vary-toy reach on DocVQA?")
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+s")  # a second export never overwrites the first
        folder = app.settings.data_dir / "exports"
        names = sorted(p.name for p in folder.iterdir() if p.suffix == ".md")
        assert names == ["what-anls-score-does-vary-toy-reach-on-docvqa-2.md",
                         "what-anls-score-does-vary-toy-reach-on-docvqa.md"]
        message = notices(app)[-1]
        assert "what-anls-score-does-vary-toy-reach-on-docvqa-2.md" in message.split("\n")  # a line of its own
        await pilot.pause()
        status = app.query_one("StatusBar").region
        for toast in app.screen.query("Toast"):
            assert not toast.region.overlaps(status)  # the status line stays readable


async def test_the_browser_shortens_titles_with_an_ellipsis_and_sorts_by_a_clicked_header(app_factory) -> None:
    from textual.widgets import DataTable
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_browser(app, pilot)
        table = app.screen.query_one(DataTable)
        share = sum(p.upvotes is not None for p in app.screen.papers) / len(app.screen.papers)
        assert ("upvotes" in [str(c.value) for c in table.columns]) == (share >= 0.25)
        title_of = {p.id: p.title for p in app.screen.papers}
        shown = {row.key.value: table.get_row(row.key)[0].plain for row in table.ordered_rows}
        long = [pid for pid in shown if len(title_of[pid]) > app.screen.title_width]
        assert long and all(shown[pid].endswith("…") for pid in long)
        column = list(table.columns)[0]  # the title column
        table.post_message(DataTable.HeaderSelected(table, column, 0, Text("Title")))
        await pilot.pause()
        first = [table.get_row_at(i)[0].plain.casefold() for i in range(5)]
        assert first == sorted(first) and "A–Z first" in str(app.screen.query_one("#count", Static).render())


async def test_asking_about_one_paper_shows_it_whole_and_the_paper_view_links_to_it(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        paper = max(app.session.papers(), key=lambda p: len(p.title))
        app.push_screen(PaperScreen(replace(paper, url="https://arxiv.org/abs/2401.12503")))
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen) and bool(app.screen.query(".paper-link")))
        assert "link: https://arxiv.org/abs/2401.12503" in [str(s.render()) for s in app.screen.query(".paper-link")]
        await pilot.press("escape")
        app.open_paper(paper.id)
        await wait_until(pilot, lambda: isinstance(app.screen, PaperScreen))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.pause()
        scope = app.query_one("#scope", Static)
        assert scope.region.height * scope.region.width >= len(f"Asking about: {paper.title}")  # not cut off
        assert paper.title in app.query_one("#question", QuestionInput).placeholder
        await pilot.press("ctrl+x")
        assert "your papers" in app.query_one("#question", QuestionInput).placeholder


async def test_regenerating_says_that_it_is_working(app_factory) -> None:
    from tests.face.test_tui import SlowModel
    app = app_factory(SlowModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(app, pilot, "What does Vary-toy reach on DocVQA?")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("again" in n for n in notices(app))


async def test_any_answer_can_be_copied_asked_again_or_edited(app_factory) -> None:
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        first = await ask(app, pilot, "What ANLS score does Vary-toy reach on DocVQA?")
        await ask(app, pilot, "What does Vary-toy reach on ChartQA?")
        await pilot.press("ctrl+up", "ctrl+up")  # the latest answer, then the one before
        assert first.query_one(".sources", OptionList) is app.focused
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("ctrl+y")
        assert copied and copied[-1].startswith("# What ANLS score") and "reach on ChartQA" not in copied[-1]
        await pilot.press("ctrl+e")
        box = app.query_one("#question", QuestionInput)
        assert box.text == "What ANLS score does Vary-toy reach on DocVQA?" and app.focused is box
        box.value = ""
        await pilot.press("ctrl+up", "ctrl+up", "ctrl+r")  # an earlier answer: asked again at the end
        await wait_until(pilot, lambda: len(app.query(AnswerBlock)) == 3 and app.query(AnswerBlock).last().finished)
        assert app.query(AnswerBlock).last().question == "What ANLS score does Vary-toy reach on DocVQA?"
        assert len(app.conversations.turns(app.conversation)) == 3


async def test_the_model_is_switched_from_the_app_and_a_bad_file_keeps_the_one_in_use(app_factory,
                                                                                        tmp_path: Path) -> None:
    from assistant.face.tui.screens import ModelScreen, SourcesScreen
    from assistant.face.tui.widgets import StatusBar
    from assistant.model.chat import bundled_gguf_path
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "another-model.gguf").symlink_to(bundled_gguf_path())
    (folder / "broken.gguf").write_bytes(b"GGUF" + b"\0" * 64)
    app = app_factory(ScriptedModel(ANSWER))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready)
        status = app.query_one(StatusBar)
        for path, kept in ((folder / "broken.gguf", True), (folder / "another-model.gguf", False)):
            await app.run_action("switch_model")
            await wait_until(pilot, lambda: isinstance(app.screen, ModelScreen) and bool(app.screen.query("#models")))
            app.screen.query_one("#model-folder", Input).value = str(folder)
            app.screen.query_one("#model-folder", Input).focus()
            await pilot.press("enter")  # list the folder
            listing = app.screen.query_one(OptionList)
            assert [listing.get_option_at_index(i).id for i in range(listing.option_count)] == \
                [str(folder / "another-model.gguf"), str(folder / "broken.gguf")]
            listing.highlighted = [str(folder / "another-model.gguf"), str(folder / "broken.gguf")].index(str(path))
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.model_ready and not status.activity, 60)
            assert (status.model == "scripted") == kept
        assert "another-model" in status.model or "SmolLM2" in status.model
        assert any("Kept the model in use" in n for n in notices(app))
        await app.run_action("sources")
        await wait_until(pilot, lambda: isinstance(app.screen, SourcesScreen) and bool(app.screen.query("#sources-table")))
        assert app.screen.query_one("#sources-table").row_count == len(app.session.sources()) > 0
