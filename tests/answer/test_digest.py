"""Page digests: themes by k-means on title vectors, named by TF-IDF, one quoted sentence per
paper (real embedder, real catalogue; no model is involved)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer import themes
from assistant.answer.digest import digest
from assistant.answer.evidence import cosine_matrix
from assistant.answer.summarise import central_sentences
from assistant.core.errors import AssistantError
from assistant.core.records import Paper, split_sentences
from assistant.model.embedder import LocalEmbedder
from assistant.session import Stream
from assistant.store.data_dir import Store


def test_digest_lists_every_paper_of_the_page_once_with_a_quoted_sentence(sample_store: Store) -> None:
    result = Stream(digest(sample_store, "sep4")).result
    page_ids = sample_store.catalog.page_paper_ids("bundled:daily-papers-sep4.txt")
    assert len(result.sections) >= 2
    assert all(section.heading and section.heading.endswith(f"({len(section.claims)} papers)") for section in result.sections)
    listed = [n for section in result.sections for c in section.claims for n in c.citations]
    assert sorted(listed) == list(range(1, len(page_ids) + 1))  # each paper exactly once
    for claim in (c for section in result.sections for c in section.claims):
        (source,) = [s for s in result.sources if s.number == claim.citations[0]]
        assert claim.text.startswith(source.paper.title + ": ")
        assert claim.text[len(source.paper.title) + 2 :] in split_sentences(source.paper.abstract)
    sizes = [len(section.claims) for section in result.sections]
    assert sizes == sorted(sizes, reverse=True)
    with pytest.raises(AssistantError, match="several pages match"):
        Stream(digest(sample_store, "daily-papers")).result
    with pytest.raises(AssistantError, match="no pages match"):
        Stream(digest(sample_store, "no-such-page")).result


def test_kmeans_finds_separate_groups_and_repeats_itself() -> None:
    rng = np.random.default_rng(3)
    centres = np.eye(3) * 5
    points = np.vstack([c + rng.normal(scale=0.3, size=(10, 3)) for c in centres])
    labels = themes.kmeans(points, 3)
    assert [len(set(labels[i : i + 10])) for i in (0, 10, 20)] == [1, 1, 1]
    assert len(set(labels)) == 3
    assert (themes.kmeans(points, 3) == labels).all()


def test_group_sorts_themes_by_size_and_keeps_tiny_pages_whole() -> None:
    rng = np.random.default_rng(4)
    points = np.vstack([np.array([5.0, 0]) + rng.normal(scale=0.2, size=(3, 2)),
                        np.array([0, 5.0]) + rng.normal(scale=0.2, size=(9, 2))])
    groups = themes.group(points)
    assert sorted(i for g in groups for i in g) == list(range(12))
    assert [len(g) for g in groups] == [9, 3]  # 12 papers: two themes, the larger first
    assert themes.group(points[:3]) == [[0, 1, 2]]


def test_names_pick_the_words_that_set_a_group_apart() -> None:
    titles = ["Diffusion models for image generation", "Faster diffusion sampling for images",
              "Reinforcement learning for robot control", "Robot grasping with reinforcement learning",
              "Learning", "The of and", "Diffusion modeling of images"]
    names = themes.names(titles, [[0, 1, 6], [2, 3], [5]])
    assert names[0].lower().startswith("diffusion")
    for name in names:  # nothing said twice ("models" and "modeling", "models" and "diffusion models")
        stems = [word[:5] for word in name.lower().replace(",", " ").split()]
        assert len(stems) == len(set(stems)), name
    assert "reinforcement" in names[1].lower() and "robot" in names[1].lower()
    assert names[2] == "Other papers"
    assert all(len(name.split(", ")) <= themes.NAME_TERMS for name in names)


def test_central_sentence_prefers_a_contribution_then_the_title_words(real_embedder: LocalEmbedder) -> None:
    stated = Paper("a", "Sparse attention for long documents",
                   "Long documents are common. Sparse attention is cheap for long documents. "
                   "We propose a router that picks blocks.")
    lexical = Paper("b", "Protein folding prediction",
                    "Amino-acid chains fold into shapes that tools can forecast. "
                    "Protein prediction benchmarks are listed in an appendix. Results are good.")
    tied = Paper("c", "Graph networks for weather",
                 "Weather models are costly. Graph methods scale to large meshes. Training took a week.")
    chosen = central_sentences(real_embedder, [stated, lexical, tied])
    assert chosen[0] == "We propose a router that picks blocks."
    # most title words, even over a sentence closer in meaning
    assert chosen[1] == "Protein prediction benchmarks are listed in an appendix."
    candidates = ["Weather models are costly.", "Graph methods scale to large meshes."]  # one title word each
    closeness = cosine_matrix(real_embedder, [tied.title], candidates)[0]
    assert chosen[2] == candidates[int(np.argmax(closeness))]
