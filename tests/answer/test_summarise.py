"""Summaries with the real bundled model: one paper, a topic."""

from __future__ import annotations

from assistant.answer.ask import Context
from assistant.answer.summarise import summarise_paper, summarise_topic
from assistant.core.records import split_sentences
from assistant.session import Stream
from assistant.store.data_dir import Store


def test_summarise_paper(sample_store: Store, real_model) -> None:
    result = Stream(summarise_paper(Context(sample_store, real_model), "Reinforced Vision Vocabulary")).result
    assert [s.heading for s in result.sections] == ["TL;DR", "Key findings"]
    tldr, findings = result.sections
    assert tldr.claims and all(c.supported and c.citations == (1,) for c in tldr.claims)
    (source,) = result.sources
    sentences = split_sentences(source.paper.abstract)
    assert findings.claims and all(c.text in sentences and c.citations == (1,) for c in findings.claims)
    assert any("65.6%" in c.text for c in findings.claims)  # the findings keep their numbers


def test_summarise_topic_cites_several_papers(sample_store: Store, real_model) -> None:
    result = Stream(summarise_topic(Context(sample_store, real_model), "world models for planning")).result
    assert result.status == "answered"
    cited = result.cited_sources()
    assert len(cited) >= 2
    assert all(c.supported and c.citations for c in result.claims)
    assert [s.number for s in cited] == list(range(1, len(cited) + 1))


def test_summarise_topic_refuses_off_topic(sample_store: Store, real_model) -> None:
    result = Stream(summarise_topic(Context(sample_store, real_model), "sourdough baking techniques")).result
    assert result.status == "not_covered" and result.closest


def test_a_topic_summary_lists_every_paper_on_the_topic(sample_store: Store, real_model) -> None:
    """Four sample papers speak of speculative decoding; the survey's title match (similarity
    0.90) must not cut the two whose abstracts use the words (0.55)."""
    result = Stream(summarise_topic(Context(sample_store, real_model), "speculative decoding")).result
    titles = {s.paper.title.split(":")[0] for s in result.cited_sources()}
    assert {"Dynamic Depth Decoding", "Speculative Decoding and Beyond", "Accelerating Diffusion LLMs via Adaptive "
            "Parallel Decoding", "Parallel Decoding via Hidden Transfer for Lossless Large Language Model "
            "Acceleration"} <= titles
    assert all(c.supported and c.citations for c in result.claims)
