"""Grounded answers: the real bundled model for the main paths, a scripted model where the
test needs a known (wrong) output."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.ask import Context, Turn, ask
from assistant.answer.evidence import Source
from assistant.answer.generate import fit_sources
from assistant.answer.prompts import load_prompt
from assistant.core.records import split_sentences
from assistant.core.settings import Settings
from assistant.model.chat import ModelError, load_model, resolve_model_path
from assistant.session import Session, Stream
from assistant.store.data_dir import Store
from tests.conftest import ScriptedModel


def run(ctx: Context, question: str, history: list[Turn] | None = None):  # noqa: ANN201
    stream = Stream(ask(ctx, question, history or []))
    pieces = list(stream)
    return stream.result, pieces


def vary_toy(store: Store):  # noqa: ANN201 - the paper the scripted tests talk about
    (pid,) = store.catalog.find("Small Language Model Meets with Reinforced Vision Vocabulary")
    return store.catalog.papers([pid])[pid]


def test_real_model_gives_a_cited_verified_answer(sample_store: Store, real_model) -> None:
    question = "How much faster is ProxyThinker's inference than earlier decoding-time methods?"
    result, pieces = run(Context(sample_store, real_model), question)
    assert pieces, "the answer streams"
    assert result.status == "answered" and result.shape == "fact"
    given = {source.number for source in result.sources}
    assert result.claims and all(claim.citations and set(claim.citations) <= given for claim in result.claims)
    assert all(claim.supported for claim in result.claims)
    # The model wrote the answer and every sentence it wrote was judged: kept in its own words,
    # dropped with a reason, or shown as the source sentence that states it.
    written = [c for c in result.claims if c.origin == "model"]
    assert result.tokens > 0 and (written or result.dropped)
    for claim in result.claims:
        if claim.origin == "evidence":
            (number,) = claim.citations
            source = next(s for s in result.sources if s.number == number)
            assert claim.text in " ".join(source.all_sentences())
    assert all(c.reason for c in result.dropped)
    proxy = sample_store.catalog.find("ProxyThinker")[0]
    assert proxy in {s.paper.id for s in result.cited_sources()}
    assert "38 times" in result.text
    assert result.timings["total"] > 0 and result.tokens > 0


def test_off_topic_question_is_refused_with_closest_papers(sample_store: Store, real_model) -> None:
    result, pieces = run(Context(sample_store, real_model), "What is a good recipe for banana bread?")
    assert result.status == "not_covered"
    assert result.claims == [] and pieces == []  # no generation at all
    assert len(result.closest) > 0
    assert "does not cover" in result.text


def test_verification_drops_unsupported_sentences(sample_store: Store) -> None:
    paper = vary_toy(sample_store)
    true_sentence = next(s for s in split_sentences(paper.abstract) if "65.6%" in s)
    script = (f"{true_sentence} [1] The model was trained on 4000 GPUs for a year. [1] "
              "It is widely used by cooks to bake bread in Italian restaurants. [1]")
    result, _ = run(Context(sample_store, ScriptedModel(script)), "What ANLS score does Vary-toy reach on DocVQA?")
    assert [c.text for c in result.claims if c.origin == "model"] == [true_sentence]
    reasons = [c.reason or "" for c in result.dropped]
    assert len(result.dropped) == 2
    assert "number 4000" in reasons[0]
    assert "not supported" in reasons[1]
    assert not result.extractive


def test_extractive_fallback_when_nothing_survives(sample_store: Store) -> None:
    script = "Bananas are a yellow fruit that grows in warm countries. [1] Cats sleep most of the day in the sun. [1]"
    result, _ = run(Context(sample_store, ScriptedModel(script)), "What ANLS score does Vary-toy reach on DocVQA?")
    assert result.status == "answered" and result.extractive
    assert len(result.dropped) == 2
    assert result.claims and all(c.origin == "evidence" for c in result.claims)
    for claim in result.claims:
        (number,) = claim.citations
        source = next(s for s in result.sources if s.number == number)
        assert claim.text in split_sentences(source.paper.abstract)


def test_wrong_source_number_is_corrected(sample_store: Store) -> None:
    question = "Which papers study the reversal curse in language models?"
    probe, _ = run(Context(sample_store, ScriptedModel("")), question)
    assert len(probe.sources) >= 2
    second = next(s for s in probe.sources if s.number == 2)
    copied = max(second.sentences, key=len)
    result, _ = run(Context(sample_store, ScriptedModel(f"{copied} [1]")), question)
    claim = next(c for c in result.claims if c.origin == "model")
    assert claim.corrected_from and claim.citations != claim.corrected_from
    cited = next(s for s in result.sources if s.number == claim.citations[0])
    assert cited.paper.id == second.paper.id


def test_four_turn_conversation_that_changes_topic_twice(sample_store: Store) -> None:
    """Standalone questions are searched as written; a rewrite that drags in an older,
    unrelated question is not trusted."""
    history: list[Turn] = []
    model = ScriptedModel("What accuracy does Vary-toy reach on ChartQA?")
    turns = ["What ANLS score does Vary-toy reach on DocVQA?", "And on ChartQA?",
             "How does DINO-WM plan with pre-trained visual features?", "How many authors does it have?"]
    results = []
    for question in turns:
        result, _ = run(Context(sample_store, model), question, history)
        results.append(result)
        history.append(Turn(question, result.text))
    first, follow, new_topic, last = results
    assert first.standalone is None and new_topic.standalone is None  # searched as written
    assert follow.standalone == "What accuracy does Vary-toy reach on ChartQA?"
    dino = sample_store.catalog.find("DINO-WM")[0]
    assert dino in {s.paper.id for s in new_topic.sources}
    # The scripted rewrite names Vary-toy, which the last exchange (DINO-WM) never mentioned.
    assert last.standalone is not None and "Vary" not in last.standalone and "DINO-WM" in last.standalone
    assert last.shape == "metadata" and last.sources[0].paper.id == dino


def test_a_short_question_on_a_new_topic_is_searched_as_written(sample_store: Store, real_model) -> None:
    """Two words may be a follow-up ("Which datasets?") or a whole new question; one naming
    what the collection has and the last exchange did not is not rewritten."""
    history: list[Turn] = []
    first = "What ANLS score does Vary-toy reach on DocVQA?"
    result, _ = run(Context(sample_store, real_model), first)
    history.append(Turn(first, result.text))
    # the scripted rewrite would drag the last exchange's paper in, as SmolLM2 did
    scripted = ScriptedModel("What is the reversal curse of Vary-toy?")
    new_topic, _ = run(Context(sample_store, scripted), "What is the reversal curse?", history)
    assert new_topic.standalone is None
    assert not any("Follow-up question:" in m["content"] for call in scripted.calls for m in call)  # no rewrite asked
    curse = set(sample_store.catalog.find("The Reversal Curse"))
    assert curse & {s.paper.id for s in new_topic.sources}
    # and with the real model writing the answer
    answered, _ = run(Context(sample_store, real_model), "What is the reversal curse?", history)
    assert answered.status == "answered" and curse & {s.paper.id for s in answered.sources}


def test_a_follow_up_is_answered_from_the_paper_of_the_last_exchange(sample_store: Store) -> None:
    """The README's example: "And on ChartQA?" after a Vary-toy question, rewritten tersely."""
    last = Turn("What ANLS score does Vary-toy reach on DocVQA?", "Vary-toy reaches 65.6% ANLS on DocVQA. [1]")
    rewrite = "What is the Vary-toy score on ChartQA?"
    result, _ = run(Context(sample_store, ScriptedModel(rewrite)), "And on ChartQA?", [last])
    assert result.standalone == rewrite and result.status == "answered"
    assert [s.paper.id for s in result.sources] == [vary_toy(sample_store).id]
    assert all(claim.supported for claim in result.claims) and "ChartQA" in result.text


@pytest.mark.parametrize("rewrite", ["The benchmark is not available.", "Which benchmark?",
                                     "Which benchmark does GPT-4 use?"])
def test_a_rewrite_that_answers_repeats_or_invents_is_not_trusted(sample_store: Store, rewrite: str) -> None:
    """A rewrite must be a question that takes something from the last exchange (and nothing
    rare from elsewhere); otherwise the follow-up is searched beside the last question."""
    last = Turn("What ANLS score does Vary-toy reach on DocVQA?", "Vary-toy reaches 65.6% ANLS on DocVQA. [1]")
    result, _ = run(Context(sample_store, ScriptedModel(rewrite)), "Which benchmark?", [last])
    assert result.standalone == f"{last.question} Which benchmark?"


def test_a_rewrite_that_names_the_last_topic_is_used(sample_store: Store) -> None:
    last = Turn("What ANLS score does Vary-toy reach on DocVQA?", "Vary-toy reaches 65.6% ANLS on DocVQA. [1]")
    result, _ = run(Context(sample_store, ScriptedModel("Which benchmark does Vary-toy use?")), "Which benchmark?", [last])
    assert result.standalone == "Which benchmark does Vary-toy use?"


def test_metadata_is_answered_from_the_catalogue_without_the_model(sample_store: Store) -> None:
    model = ScriptedModel("This must never be shown. [1]")
    result, pieces = run(Context(sample_store, model), "How many authors are on the MUSCLE model update strategy paper?")
    muscle = sample_store.catalog.papers(sample_store.catalog.find("MUSCLE: A Model Update Strategy"))
    (paper,) = muscle.values()
    assert model.calls == [] and pieces == []
    assert result.shape == "metadata" and result.claims[0].origin == "catalogue"
    assert f"{paper.authors} authors" in result.text and "published" not in result.text


def test_metadata_sentences_only_when_asked(sample_store: Store) -> None:
    result, _ = run(Context(sample_store, ScriptedModel("")), "What ANLS score does Vary-toy reach on DocVQA?")
    assert "authors" not in result.text and "published on" not in result.text
    assert all("authors" not in s for source in result.sources for s in source.sentences)


def test_list_question_gives_a_line_per_relevant_paper(sample_store: Store) -> None:
    result, _ = run(Context(sample_store, ScriptedModel("")), "Which papers study world models for planning?")
    assert result.shape == "list"
    lines = result.sections[-1].claims
    assert len(lines) >= 3 and len({c.citations for c in lines}) == len(lines)
    assert all(c.text.startswith(s.paper.title) for c, s in zip(lines, result.sources))


def test_date_in_the_question_filters_the_sources(sample_store: Store) -> None:
    question = "Which papers about world models were published in 2024?"
    result, _ = run(Context(sample_store, ScriptedModel("")), question)
    assert result.filters == {"since": "2024-01-01", "until": "2024-12-31"}
    assert result.sources and all((s.paper.date or "").startswith("2024") for s in result.sources)
    empty, _ = run(Context(sample_store, ScriptedModel("")), "Which papers about world models were published in 1990?")
    assert empty.status == "not_covered"


def test_follow_up_is_rewritten_before_retrieval(sample_store: Store) -> None:
    model = ScriptedModel("What accuracy does Vary-toy reach on ChartQA?")
    history = [Turn("What ANLS score does Vary-toy reach on DocVQA?", "65.6% ANLS on DocVQA [1].")]
    result, _ = run(Context(sample_store, model), "And on ChartQA?", history)
    assert result.standalone == "What accuracy does Vary-toy reach on ChartQA?"
    assert "Vary-toy" in model.calls[0][1]["content"] or "DocVQA" in model.calls[0][1]["content"]
    assert vary_toy(sample_store).id in {s.paper.id for s in result.sources}


def test_context_budget_is_never_exceeded(sample_store: Store) -> None:
    paper = vary_toy(sample_store)
    sources = [Source(n, paper, split_sentences(paper.abstract)) for n in range(1, 6)]
    model = ScriptedModel("", n_ctx=600)
    messages, kept = fit_sources(model, load_prompt("answer"), sources, {"question": "What is Vary-toy?"}, 160)
    used = sum(model.count_tokens(m["content"]) + 8 for m in messages)
    assert used <= 600 - 160
    assert 1 <= len(kept) < 5 and kept[0].sentences
    tiny = ScriptedModel("", n_ctx=200)
    with pytest.raises(Exception, match="context window"):
        fit_sources(tiny, load_prompt("answer"), sources, {"question": "x" * 2000}, 160)


def test_small_real_context_still_answers(sample_store: Store) -> None:
    model = load_model(None, n_ctx=512, n_threads=None, n_gpu_layers=0)
    result, _ = run(Context(sample_store, model), "How much faster is ProxyThinker than earlier decoding-time methods?")
    assert result.status == "answered" and result.claims


def test_missing_and_corrupt_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file not found: .*nope\.gguf.*models\.md"):
        resolve_model_path(str(tmp_path / "nope.gguf"))
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        resolve_model_path(str(corrupt))
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(b"GGUF" + b"\x00" * 64)
    model = load_model(str(truncated), n_ctx=512, n_threads=1, n_gpu_layers=0)
    with pytest.raises(ModelError, match="cannot load model"):
        model.count_tokens("hello")


def test_prompts_dir_overrides_the_bundled_templates(sample_store: Store, tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text("[system]\nBe brief. MARKER-42\n[user]\n$sources\nQ: $question\n")
    model = ScriptedModel("")
    session = Session(Settings(data_dir=sample_store.settings.data_dir, prompts_dir=tmp_path), sample_store, model)
    session.ask("What ANLS score does Vary-toy reach on DocVQA?").result
    assert "MARKER-42" in model.calls[-1][0]["content"]
    with pytest.raises(Exception, match="rewrite.md not found"):
        load_prompt("rewrite", tmp_path)


def test_ten_turns_that_change_topic_four_times(sample_store: Store) -> None:
    """Each question that names its own subject gets the sources a new chat gives it, however
    the last exchange went; each follow-up is rewritten, asks what its own words ask, and keeps
    the last exchange's paper. The scripted model rewrites every follow-up into a question on
    grokking, the way a small model drags an older topic in."""
    model = ScriptedModel("What does the collection say about grokking?")
    turns = [
        ("What ANLS score does Vary-toy reach on DocVQA?", None),
        ("And on ChartQA?", "Small Language Model Meets with Reinforced Vision Vocabulary"),
        ("How does DINO-WM plan with pre-trained visual features?", None),
        ("How many authors does it have?", "DINO-WM: World Models on Pre-trained Visual Features enable Zero-shot Planning"),
        ("What is the reversal curse and why does it happen?", None),
        ("Who wrote it?", 'The Reversal Curse: LLMs trained on "A is B" fail to learn "B is A"'),
        ("What does the collection say about grokking?", None),
        ("What is a world model?", None),
        ("What average speedup does dynamic depth decoding achieve for speculative decoding?", None),
        ("and how was it evaluated?", "Dynamic Depth Decoding: Faster Speculative Decoding for LLMs"),
    ]
    history: list[Turn] = []
    for question, kept in turns:
        result, _ = run(Context(sample_store, model), question, history)
        history.append(Turn(question, result.text, tuple(s.paper.id for s in result.cited_sources())))
        if kept is None:
            fresh, _ = run(Context(sample_store, model), question)
            assert result.standalone is None, question
            assert [s.paper.id for s in result.sources] == [s.paper.id for s in fresh.sources], question
            continue
        assert result.standalone is not None, question
        assert sample_store.catalog.find(kept)[0] in {s.paper.id for s in result.sources}, question
        assert (result.shape == "metadata") is ("author" in question or "wrote" in question.casefold()), question
