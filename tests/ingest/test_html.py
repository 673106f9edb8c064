"""Listing pages saved from the browser as HTML: an arXiv listing read from its structure, any
other page from the text a reader sees. tests/data/formats/README.md says how each was made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import bundled_pages, ingest
from assistant.ingest.readers import read_source
from assistant.ingest.readers.listing import parse_listing

FORMATS = Path(__file__).parent.parent / "data" / "formats"


def test_an_arxiv_listing_gives_ids_titles_authors_abstracts_and_the_listing_date() -> None:
    page = read_source(FORMATS / "arxiv-list-new.html")
    assert page.layout == "arxiv-html" and len(page.records) == 5 and page.page_date == "2022-05-26"
    assert page.warnings == ["skipped 1 paper(s) the page lists without an abstract"]
    second = page.records[1]
    assert second.title == "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"
    assert second.author_names == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt")
    assert second.url == "https://arxiv.org/abs/2405.13786" and second.date == "2022-05-26"
    assert second.abstract.startswith("Test case prioritisation (TCP) is a critical task") and "\n" not in second.abstract
    assert not any("Title:" in r.title or "MathJax" in r.abstract for r in page.records)


def test_a_hugging_face_daily_papers_page_gives_its_papers_from_the_page_data() -> None:
    page = read_source(FORMATS / "hf-daily-papers.html")
    assert page.layout == "hf-html" and len(page.records) == 3
    second = page.records[1]
    assert second.title == "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"
    assert second.author_names[0] == "Aurora Ramírez" and second.authors == 4
    assert (second.arxiv_id, second.upvotes, second.date) == ("2405.13786", 17, "2024-05-22")
    assert second.url == "https://huggingface.co/papers/2405.13786"
    assert second.abstract.startswith("Test case prioritisation (TCP)")


def _feed() -> dict[str, object]:
    return {r.arxiv_id: r for r in read_source(FORMATS / "arxiv-api-query-testing-100.xml").records}


def test_arxiv_search_results_give_each_result_with_its_full_abstract() -> None:
    page = read_source(FORMATS / "arxiv-search.html")
    feed = _feed()
    assert page.layout == "arxiv-search-html" and len(page.records) == 3 and not page.warnings
    for record in page.records:
        same = feed[record.arxiv_id]
        # the full abstract, not the preview, with the search's highlights joined and "△ Less" left out
        assert (record.title, record.abstract, record.author_names, record.doi, record.categories) == \
            (same.title, same.abstract, same.author_names, same.doi, same.categories)
    fuzzing = page.records[2]
    assert fuzzing.date == "2020-05-28"  # the first version's date, as the feed gives it, not v2's
    assert fuzzing.venue is not None and fuzzing.venue.startswith("In Proc. ACM SIGSOFT")


def test_an_arxiv_abstract_page_is_read_from_its_citation_meta_tags() -> None:
    page = read_source(FORMATS / "arxiv-abs.html")
    (paper,) = page.records
    same = _feed()["2204.08348"]
    assert page.layout == "citation-html"
    assert (paper.title, paper.abstract, paper.author_names, paper.date, paper.doi) == \
        (same.title, same.abstract, same.author_names, same.date, same.doi)  # "Kim, Myeongsoo" given first
    assert paper.url == "https://arxiv.org/abs/2204.08348"


def test_a_hugging_face_paper_page_is_read_from_its_layout_without_the_ai_summary() -> None:
    page = read_source(FORMATS / "hf-paper-page.html")
    (paper,) = page.records
    same = _feed()["2405.13786"]
    assert page.layout == "paper-html"
    assert (paper.title, paper.abstract, paper.author_names, paper.arxiv_id, paper.date) == \
        (same.title, same.abstract, same.author_names, "2405.13786", "2024-05-22")
    assert "machine-written" not in paper.abstract


def test_a_page_saved_complete_is_read_without_its_files_folder(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    shutil.copy(FORMATS / "arxiv-search.html", tmp_path / "Search.html")
    assets = tmp_path / "Search_files"
    assets.mkdir()
    (assets / "frame.html").write_text("<!doctype html><html><body><p>an ad frame</p></body></html>")
    (assets / "config.json").write_text('{"theme": "dark"}')
    store = make_store()
    reports = ingest(store, [tmp_path])
    assert [Path(r.path).name for r in reports] == ["Search.html"] and reports[0].status == "added"
    assert store.catalog.size() == 3


def test_any_other_page_is_read_as_the_text_a_reader_sees() -> None:
    page = read_source(FORMATS / "daily-listing.html")
    text = next(p for p in bundled_pages() if p.name == "daily-papers-dec9.txt").read_text(encoding="utf-8")
    same_lines = parse_listing("\n".join(text.split("\n")[:60]))
    assert page.layout == "html-daily" and len(page.records) == len(same_lines.records) == 6
    assert [(r.title, r.abstract, r.authors, r.date) for r in page.records] == \
        [(r.title, r.abstract, r.authors, r.date) for r in same_lines.records]
    assert all("Not A Paper" not in r.title and "JavaScript" not in r.abstract for r in page.records)  # scripts unseen


def test_a_page_is_known_by_its_content_and_the_same_papers_as_the_feed_are_one(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    renamed = tmp_path / "saved.txt"
    shutil.copy(FORMATS / "arxiv-list-new.html", renamed)
    assert read_source(renamed).layout == "arxiv-html"
    store = make_store()
    ingest(store, [FORMATS / "arxiv-api-query-testing-100.xml", renamed, FORMATS / "hf-daily-papers.html",
                   FORMATS / "arxiv-search.html", FORMATS / "arxiv-abs.html", FORMATS / "hf-paper-page.html"])
    assert store.catalog.size() == 100
    (pid,) = store.catalog.find("Active Fuzzing for Testing and Securing Cyber-Physical Systems")
    assert store.catalog.papers([pid])[pid].upvotes == 8  # the Hugging Face page's votes join the feed's paper


@pytest.mark.parametrize(("content", "reason"), [
    ("<!doctype html><html><head><title>x</title></head><body><p>Hello there.</p></body></html>", "not a listing"),
    ("<!doctype html><html><body><dl id='articles'><dt><a title='Abstract'>arXiv:1</a></dt><dd><div class='meta'>"
     "<div class='list-title mathjax'><span class='descriptor'>Title:</span> A title</div></div></dd></dl></body></html>",
     "without abstracts"),
])
def test_pages_without_papers_are_refused_with_a_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "page.html"
    path.write_text(content)
    with pytest.raises(SourceError, match=reason):
        read_source(path)


def test_a_1_gb_page_is_refused_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as out:
        out.truncate(1_000_000_000)  # sparse: never read
    with pytest.raises(SourceError, match="too large"):
        read_source(path)
