"""Hybrid retrieval on the bundled collection with the real embedder and Chroma."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.plan import plan
from assistant.core.records import make_passages
from assistant.core.tuning import Tuning
from assistant.model.embedder import LocalEmbedder
from assistant.retrieve.hybrid import SearchResult, search
from assistant.store.catalogue import fts_query
from assistant.store.data_dir import Store, open_store

QUESTIONS = Path(__file__).parents[1] / "data" / "search-questions.jsonl"
OFF_TOPIC = [
    "What is a good recipe for banana bread?",
    "Who won the 2018 football world cup?",
    "How do I file my taxes as a freelancer in Germany?",
    "best hiking trails in the alps",
    # each shares a rare word with the collection, but not its topic
    "What is the best mamba snake antivenom?",
    "How do I cure a curse in a fantasy novel?",
    "What is the reversal of a mortgage?",
    "Which sokoban levels are hardest for humans?",
]


def test_question_set_finds_the_paper_in_the_top_3(sample_store: Store) -> None:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    assert len(questions) >= 20
    found = 0
    for item in questions:
        (expected,) = sample_store.catalog.find(item["expect"])
        result = search(sample_store, item["question"], Tuning(), k=3)
        found += expected in [hit.paper.id for hit in result.hits]
        assert result.covered, item["question"]
    hit_rate = found / len(questions)
    print(f"top-3 hit rate: {found}/{len(questions)} = {hit_rate:.0%}")
    assert hit_rate >= 0.9


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_not_covered(sample_store: Store, question: str) -> None:
    result = search(sample_store, question, Tuning(), k=3)
    assert not result.covered
    assert len(result.hits) == 3  # the closest papers are still offered


@pytest.mark.parametrize(("similarity", "named", "absent", "terms", "covered"), [
    (0.32, 1, 0.0, 1.0, True),  # every distinctive word in one of the best papers
    (0.32, 0, 0.0, 1.0, False),  # no distinctive word: nothing vouches for the topic
    (0.32, 2, 0.5, 1.0, False),  # a word no paper uses
    (0.32, 2, 0.0, 0.5, False),  # the words spread over papers
    (0.28, 1, 0.0, 1.0, False),  # too far in meaning all the same
])
def test_a_terse_question_is_covered_by_its_distinctive_words(similarity: float, named: int, absent: float,
                                                              terms: float, covered: bool) -> None:
    result = SearchResult(query="q", hits=[], best_similarity=similarity, term_coverage=terms, absent_share=absent,
                          tuning=Tuning(), named=named)
    assert result.covered is covered


@pytest.mark.parametrize(("titled", "absent", "terms", "covered"), [
    (True, 0.0, 1.0, True),  # the question names the best paper by the name in its title
    (False, 0.0, 1.0, False),  # the same question without the name in a title
    (True, 0.5, 1.0, False),  # a word no paper uses all the same
    (True, 0.0, 0.5, False),  # words the named paper does not use
])
def test_a_question_naming_a_paper_by_its_title_is_covered(titled: bool, absent: float, terms: float,
                                                          covered: bool) -> None:
    result = SearchResult(query="q", hits=[], best_similarity=0.2, term_coverage=terms, absent_share=absent,
                          tuning=Tuning(), named=1, titled=titled)
    assert result.covered is covered


def test_a_loosely_worded_question_that_names_a_paper_is_titled(sample_store: Store) -> None:
    """"What does Vary-toy do …" names the paper whose title says "Vary-toy"? The sample title is
    "Small Language Model Meets with Reinforced Vision Vocabulary", so a name from inside an
    abstract does not count; "DINO-WM" is in its paper's title."""
    named = search(sample_store, "What does DINO-WM do and how well does it work?", Tuning(), k=5)
    unnamed = search(sample_store, "What does Vary-toy do and how well does it work?", Tuning(), k=5)
    assert named.titled and "DINO-WM" in named.hits[0].paper.title
    assert not unnamed.titled


def test_a_follow_ups_terse_rewrite_is_covered(sample_store: Store) -> None:
    """SmolLM2 rewrites "And on ChartQA?" (after a Vary-toy question) in few words; the
    passage is less close to it than the full question, but its names are all there."""
    result = search(sample_store, "What is the Vary-toy score on ChartQA?", Tuning(), k=5)
    assert result.best_similarity < Tuning().coverage_threshold and result.covered


def test_each_hit_shows_its_best_passage_rebuilt_from_the_catalogue(sample_store: Store) -> None:
    result = search(sample_store, "reversal curse in language models", Tuning(), k=5)
    dense = [hit for hit in result.hits if hit.similarity is not None]
    assert dense
    for hit in dense:
        passages = [p.text for p in make_passages(hit.paper.id, hit.paper.title, hit.paper.abstract)]
        assert hit.passage in passages
        # it is the passage whose stored vector is nearest the query
        vectors = sample_store.embedder.embed_queries(["reversal curse in language models", hit.passage])
        assert abs(float(np.dot(*vectors)) - hit.similarity) < 0.01


def test_the_keyword_ranking_cut_before_the_join_is_the_ranking_with_dates(sample_store: Store) -> None:
    catalog = sample_store.catalog
    for query in ("world models for planning", "reversal curse", "vision language action robot policy"):
        plain = catalog.bm25(query, 10_000)
        dated = catalog.bm25(query, 10_000, since="1000-01-01")  # every dated paper, through the join's path
        assert len(dated) > 5
        assert [pid for pid in plain if pid in set(dated)] == dated
        assert catalog.bm25(query, 5) == plain[:5]


def test_nearest_passages_name_their_papers_and_stop_at_what_there_is(sample_store: Store) -> None:
    vectors = sample_store.vectors
    query = sample_store.embedder.embed_queries(["reversal curse"])[0]
    every = vectors.query(query, 10**6)
    assert len(every) == vectors.count()
    papers = sample_store.catalog.papers(sorted({hit.paper_id for hit in every}))
    assert set(papers) == {hit.paper_id for hit in every}  # each passage's paper, read from its id
    assert all(hit.passage_id.startswith(f"{hit.paper_id}:") for hit in every)
    some = sorted(papers)[:3]
    only = vectors.query(query, 50, set(some))
    assert only and {hit.paper_id for hit in only} <= set(some)
    assert vectors.query(query, 50, set()) == []


def test_a_warmed_index_answers_as_a_cold_one_and_is_waited_for(sample_store: Store, real_embedder: LocalEmbedder) -> None:
    query = real_embedder.embed_queries(["reversal curse"])[0]
    expected = sample_store.vectors.query(query, 20)
    store = open_store(sample_store.settings, embedder=real_embedder)  # new objects on the same folder
    try:
        store.warm_vectors()
        warming = store.vectors._warming  # type: ignore[attr-defined]
        assert warming is not None
        assert store.vectors.query(query, 20) == expected
        assert not warming.is_alive()  # the query waited for it
        store.vectors.warm(len(query))  # the index is open: nothing more to read
        assert store.vectors._warming is None  # type: ignore[attr-defined]
    finally:
        store.close()


def test_date_filter(sample_store: Store) -> None:
    result = search(sample_store, "world models for planning", Tuning(), k=10, since="2024-01-01", until="2024-12-31")
    assert result.hits
    assert all(hit.paper.date and "2024-01-01" <= hit.paper.date <= "2024-12-31" for hit in result.hits)
    unfiltered = search(sample_store, "world models for planning", Tuning(), k=10)
    assert {h.paper.id for h in unfiltered.hits} != {h.paper.id for h in result.hits}


def test_fts_query_is_safe_for_any_input() -> None:
    assert fts_query('reversal "curse" OR NEAR(x)') == '"reversal" OR "curse" OR "near"'
    assert fts_query("the of and") is None
    for nasty in ['"', "NEAR(", "a AND OR NOT b", "col:umn", "x*", "(((", "'; DROP TABLE papers; --"]:
        assert fts_query(nasty) is None or all(part.startswith('"') for part in fts_query(nasty).split(" OR "))


def test_search_survives_query_syntax(sample_store: Store) -> None:
    for nasty in ['"unbalanced', "NEAR(", "title:foo", "*", "'; DROP TABLE papers; --", ""]:
        result = search(sample_store, nasty, Tuning(), k=2)
        assert isinstance(result.hits, list)
    assert sample_store.catalog.counts()["papers"] == 311


def test_search_time_texts_are_embedded_once() -> None:
    """A question ranks evidence sentences, then checks claims against the same sentences:
    each distinct text is encoded once, and a repeat gets the very same vector."""
    from assistant.model.embedder import LocalEmbedder

    embedder = LocalEmbedder()
    encoded: list[str] = []
    runtime = embedder.runtime
    encode = runtime.embed

    def counting(texts: list[str]) -> list[list[float]]:
        encoded.extend(texts)
        return encode(texts)

    runtime.embed = counting  # type: ignore[method-assign]
    first = embedder.embed_queries(["a question", "an evidence sentence", "a question"])
    second = embedder.embed_queries(["an evidence sentence", "a claim"])
    assert encoded == ["a question", "an evidence sentence", "a claim"]
    assert first[0] == first[2] and second[0] == first[1] and len(second[1]) == len(first[0])


def _split(name: str) -> list[dict[str, object]]:
    path = Path(__file__).parents[1] / "data" / "eval" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.xfail(strict=True, reason="not met yet: on the test split a near miss is answered and answerable questions "
                   "are refused (thresholds chosen on dev); strict, so a fix shows up as XPASS")
def test_coverage_rule_holds_on_questions_it_was_not_tuned_on(sample_store: Store) -> None:
    """The refusal thresholds were chosen on the dev split; the test split checks them:
    every near miss (same field, absent topic) is refused and every answerable question is not."""
    questions = _split("test")
    near_misses = [q for q in questions if q["type"] == "unanswerable"]
    answerable = [q for q in questions if q["type"] != "unanswerable"]
    assert len(near_misses) >= 10 and len(answerable) >= 40

    def covered(question: str) -> bool:  # as `ask` searches: the question's date phrase is a filter
        planned = plan(question)
        return search(sample_store, planned.query, Tuning(), k=3, since=planned.since, until=planned.until).covered

    wrongly_answered = [q["question"] for q in near_misses if covered(str(q["question"]))]
    wrongly_refused = [q["question"] for q in answerable if not covered(str(q["question"]))]
    assert wrongly_answered == [] and wrongly_refused == []


def test_every_word_means_the_whole_word() -> None:
    from assistant.core.records import Paper
    from assistant.retrieve.hybrid import uses_every_word

    def paper(abstract: str) -> Paper:
        return Paper(id="x", title="A paper", abstract=abstract)

    assert uses_every_word(["speculative"], paper("It beats Self-Speculative decoding."))
    assert uses_every_word(["kernel"], paper("Two kernels on graphs."))
    assert not uses_every_word(["speculative"], paper("We speculate that decoding helps."))
    assert not uses_every_word([], paper("No words asked for: nothing is named."))


def test_the_rarest_word_vouches_for_a_question_in_everyday_words(sample_store: Store) -> None:
    """With no distinctive word ("robots that cut human hair"), the question's word that the
    fewest papers use must be in one of the best papers."""
    from assistant.retrieve.hybrid import rarest_word

    catalog = sample_store.catalog
    (word, count), = rarest_word(catalog, "Which papers study how language models memorise facts?").items()
    words = ["language", "models", "memorise", "facts", "study"]
    frequency = catalog.document_frequency(words)
    assert count == min(n for n in frequency.values() if n) and frequency[word] == count
    assert rarest_word(catalog, "What is it?") == {}
