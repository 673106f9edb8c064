"""Ingest with the real embedder and real Chroma: dedupe, incremental updates, crash safety,
embedder mismatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import pytest

from assistant.core.errors import StoreError
from assistant.core.records import normalise_title, paper_id
from assistant.core.settings import Settings
from assistant.ingest.dedupe import TitleMatcher, allowed_edits
from assistant.ingest.pipeline import bundled_pages, ingest
from assistant.store.data_dir import Store, open_store
from assistant.store.sync import reindex, sync_vectors
from tests.conftest import CountingEmbedder, daily_page, fake_papers


def vector_paper_ids(store: Store) -> set[str]:
    got = store.vectors.collection.get(include=["metadatas"])  # type: ignore[attr-defined]
    return {str(m["paper_id"]) for m in got["metadatas"] or []}


def catalog_ids(store: Store) -> set[str]:
    return set(store.catalog.all_ids())


def test_bundled_collection_is_deduplicated(sample_store: Store) -> None:
    counts = sample_store.catalog.counts()
    # 370 listings on the five pages; 312 distinct titles; one paper is listed under two
    # spellings (colours/colors) and is merged, leaving 311 papers.
    assert counts["sightings"] == 370
    assert counts["papers"] == 311
    assert counts["pages"] == 5
    assert counts["pending_embeddings"] == 0
    assert vector_paper_ids(sample_store) == catalog_ids(sample_store)


def test_spelling_variants_are_one_paper(sample_store: Store) -> None:
    british = sample_store.catalog.find("primordiality of colours in trans-Neptunian objects")
    american = sample_store.catalog.find("Causal Evidence for the Primordiality of Colors in Trans-Neptunian Objects")
    assert british == american and len(british) == 1
    paper = sample_store.catalog.papers(british)[british[0]]
    assert len(paper.aliases) == 1 and paper.aliases[0] != paper.title
    assert normalise_title(paper.aliases[0]) != normalise_title(paper.title)


def test_metadata_is_merged_across_pages(sample_store: Store) -> None:
    # Listed as "Apr 6" on one page and "Apr 6, 2025" on another: the dated listing wins.
    (pid,) = sample_store.catalog.find("Retro-Search: Exploring Untaken Paths for Deeper and Efficient Reasoning")
    paper = sample_store.catalog.papers([pid])[pid]
    assert paper.date == "2025-04-06"
    assert len(paper.pages) == 2


def test_title_matcher_rules() -> None:
    matcher = TitleMatcher({})
    base = normalise_title("Modelling the behaviour of colour perception in deep networks")
    first = matcher.resolve(base)
    assert first == paper_id(base)
    assert matcher.resolve(normalise_title("Modeling the behavior of color perception in deep networks")) != first  # 3 edits in 60 chars
    assert matcher.resolve(normalise_title("Modelling the behaviour of color perception in deep networks")) == first
    assert matcher.resolve(normalise_title("MODELLING the Behaviour of Colour Perception in Deep Networks!")) == first
    short = matcher.resolve("graph nets")
    assert matcher.resolve("graph net") != short and allowed_edits("graph nets") == 0
    llama2 = matcher.resolve(normalise_title("Llama 2: open foundation and fine-tuned chat models"))
    assert matcher.resolve(normalise_title("Llama 3: open foundation and fine-tuned chat models")) != llama2


def test_reingest_unchanged_embeds_nothing(make_store, counting: CountingEmbedder, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(6)))
    store = make_store(embedder=counting)
    first = ingest(store, [page])
    assert [r.status for r in first] == ["added"] and first[0].new == 6
    assert counting.texts > 6
    counting.texts = 0
    again = ingest(store, [page])
    assert [r.status for r in again] == ["unchanged"]
    assert counting.texts == 0
    copy = tmp_path / "copy.txt"  # the same bytes under another name are not ingested twice
    copy.write_bytes(page.read_bytes())
    assert [r.status for r in ingest(store, [copy])] == ["unchanged"]
    assert store.catalog.counts()["sightings"] == 6


def test_changed_abstract_reembeds_only_that_paper(make_store, counting: CountingEmbedder, tmp_path: Path) -> None:
    papers = fake_papers(5)
    page = tmp_path / "page.txt"
    page.write_text(daily_page(papers))
    store = make_store(embedder=counting)
    ingest(store, [page])
    passages_before = store.vectors.count()
    papers[2] = {**papers[2], "abstract": "A completely rewritten abstract. It is shorter now."}
    page.write_text(daily_page(papers))
    counting.texts = 0
    (report,) = ingest(store, [page])
    assert (report.status, report.new, report.changed) == ("updated", 0, 1)
    changed_id = paper_id(normalise_title(str(papers[2]["title"])))
    assert counting.texts == len(store.vectors.collection.get(where={"paper_id": changed_id})["ids"])  # type: ignore[attr-defined]
    assert store.vectors.count() < passages_before  # stale windows of the old abstract are gone
    assert "rewritten" in store.catalog.papers([changed_id])[changed_id].abstract


def test_paper_dropped_from_a_page_is_removed_everywhere(make_store, tmp_path: Path) -> None:
    papers = fake_papers(4)
    page = tmp_path / "page.txt"
    page.write_text(daily_page(papers))
    store = make_store()
    ingest(store, [page])
    page.write_text(daily_page(papers[:3]))
    ingest(store, [page])
    assert len(catalog_ids(store)) == 3
    assert vector_paper_ids(store) == catalog_ids(store)


def test_bad_file_does_not_stop_the_others(make_store, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(daily_page(fake_papers(3)))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"title": "fine", "abstract": "fine."}\n{oops\n')
    store = make_store()
    reports = ingest(store, [empty, good, broken, tmp_path / "missing.txt"])
    assert [r.status for r in reports] == ["failed", "added", "failed", "failed"]
    assert "empty file" in (reports[0].error or "") and "line 2" in (reports[2].error or "")
    assert "no such file" in (reports[3].error or "")
    assert store.catalog.counts()["papers"] == 3  # nothing at all from the broken JSONL


def test_interrupted_ingest_is_completed_by_the_next_run(make_store, real_embedder, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.ingest.pipeline

    # Embedded and committed 8 papers at a time: the interruption comes in the second
    # embedding call, after the first call's commit.
    monkeypatch.setattr(assistant.store.sync, "EMBED_CHUNK", 8)
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(20)))
    flaky = CountingEmbedder(real_embedder, fail_after=1)
    store = make_store(embedder=flaky)
    with pytest.raises(KeyboardInterrupt):
        ingest(store, [page])
    pending = store.catalog.counts()["pending_embeddings"]
    assert pending == 12
    assert vector_paper_ids(store) == catalog_ids(store) - {p for p, *_ in store.catalog.pending_embeddings()}
    store.close()
    resumed = open_store(store.settings, embedder=real_embedder)
    assert [r.status for r in ingest(resumed, [page])] == ["unchanged"]
    assert resumed.catalog.counts()["pending_embeddings"] == 0
    assert vector_paper_ids(resumed) == catalog_ids(resumed)
    assert len(catalog_ids(resumed)) == 20
    resumed.close()


def test_other_embedder_is_refused_until_reindex(make_store, real_embedder, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(3)))
    store = make_store()
    ingest(store, [page])
    store.close()
    other = CountingEmbedder(real_embedder)
    other.name = "some-other-embedder"
    with pytest.raises(StoreError, match="assistant reindex"):
        open_store(store.settings, embedder=other)
    rebuilt = open_store(store.settings, embedder=other, allow_new_embedder=True)
    assert reindex(rebuilt) == 3
    assert rebuilt.catalog.get_meta("embedder") == "some-other-embedder"
    assert sync_vectors(rebuilt) == 0
    rebuilt.close()
    open_store(Settings(data_dir=store.settings.data_dir), embedder=other).close()  # now accepted


def test_damaged_catalogue_is_a_clean_error(tmp_path: Path) -> None:
    data = tmp_path / "broken"
    data.mkdir()
    (data / "catalog.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot be read as a catalogue") as raised:
        open_store(Settings(data_dir=data, seed_bundled=False))
    message = str(raised.value)  # recovery that keeps everything: nothing is ever to be deleted
    assert "was not changed" in message and "keep them" in message and "assistant ingest" in message
    assert (data / "catalog.sqlite3").read_bytes() == b"this is not a database" * 100


def test_a_spelling_variant_merges_only_when_the_abstracts_agree() -> None:
    abstract = "We study how deep networks perceive colour, and compare them with human observers."
    matcher = TitleMatcher({})
    first = matcher.resolve(normalise_title("Modelling the behaviour of colour perception in deep networks"), abstract)
    # same paper, other spelling: the abstract agrees (here cut short by the page), so one paper
    same = matcher.resolve(normalise_title("Modelling the behaviour of color perception in deep networks"),
                           abstract[:50] + "…")
    assert same == first
    # one letter apart, every number equal, but another abstract: another paper
    a = matcher.resolve(normalise_title("Synthetic study a137: We showcase our methods by analyzing"),
                        "We measure protein stability in yeast under heat stress.")
    b = matcher.resolve(normalise_title("Synthetic study b137: We showcase our methods by analyzing"),
                        "A transformer for forecasting regional electricity demand.")
    assert a != b
    # a variant without an abstract (a page that lists titles only) still merges
    assert matcher.resolve(normalise_title("Synthetic study a137: We showcase our methods by analyzinq")) == a


def test_two_papers_one_letter_apart_both_survive_ingest(make_store, tmp_path: Path) -> None:
    rows = [{"title": "Video-LLaMA: an instruction-tuned audio-visual language model for video understanding",
             "abstract": "We present Video-LLaMA, which lets language models understand both the visual and "
                         "auditory content of videos."},
            {"title": "Video-LLaVA: an instruction-tuned audio-visual language model for video understanding",
             "abstract": "Video-LLaVA learns a united visual representation by alignment before projection, "
                         "for images and videos alike."}]
    path = tmp_path / "pair.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    store = make_store()
    ingest(store, [path])
    assert store.catalog.counts()["papers"] == 2


class _NeverComputing:
    """The bundled embedder, refusing to compute a vector: every one must come shipped."""

    def __init__(self) -> None:
        from assistant.model.embedder import LocalEmbedder

        class Refusing(LocalEmbedder):
            @property
            def runtime(self) -> NoReturn:
                raise AssertionError("a passage has no shipped vector: run python scripts/ship-bundled-vectors.py")

        self.embedder = Refusing()
        self.texts: list[str] = []
        self.name = self.embedder.name

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.embedder.embed(texts)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_queries(texts)


def test_first_use_embeds_nothing_and_ships_the_models_own_vectors(make_store, real_embedder) -> None:
    """Indexing the bundled collection finds every passage's vector shipped with the package
    (the torch model is never loaded), and those vectors are the model's own."""
    import numpy as np

    never = _NeverComputing()
    store = make_store(embedder=never)
    ingest(store, bundled_pages(), bundled=True)
    assert store.vectors.count() == len(never.texts) > 1000
    assert not never.embedder.loaded
    sample = never.texts[::97]
    shipped = never.embedder.embed(sample)
    assert np.allclose(shipped, real_embedder.runtime.embed(sample), atol=1e-5)
