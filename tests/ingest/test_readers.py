"""Parsing: the three listing layouts, JSONL/CSV, and every kind of bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import bundled_pages
from assistant.ingest.readers import read_source, text
from assistant.ingest.readers.listing import parse_listing
from tests.conftest import daily_page, fake_papers

# Counted by hand from the pages: blocks = header + 2 per paper + 1 per metadata block,
# and for the search layout 2 header lines + 2 lines per paper.
EXPECTED = {
    "daily-papers-apr17.txt": ("daily", 50, 47),
    "daily-papers-dec9.txt": ("daily", 52, 51),
    "daily-papers-sep4.txt": ("daily-plain", 44, 0),
    "papers-search-1.txt": ("search", 175, 0),
    "papers-search-2.txt": ("search", 49, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_pages_parse_with_the_right_layout_and_counts(name: str) -> None:
    layout, papers, with_authors = EXPECTED[name]
    path = next(p for p in bundled_pages() if p.name == name)
    page = read_source(path)
    assert page.layout == layout
    assert len(page.records) == papers
    assert sum(r.authors is not None for r in page.records) == with_authors
    assert page.warnings == []
    assert all(not r.title.startswith("Subscribe") for r in page.records)
    assert all(len(r.abstract) > len(r.title) for r in page.records)


def test_daily_metadata_dates_and_upvotes() -> None:
    page = parse_listing(daily_page([
        {"title": "Alpha paper on things", "abstract": "First sentence here. Second sentence there.", "authors": 3,
         "date": "Mar 11, 2024"},
        {"title": "Beta paper on stuff", "abstract": "One more abstract. With two sentences.", "authors": 1,
         "date": "Feb 25 7"},
        {"title": "Gamma paper without metadata", "abstract": "It has no metadata at all. None."},
        {"title": "Delta paper", "abstract": "Dated with a year and upvotes. Yes.", "authors": 12, "date": "Oct 23, 2025 3"},
    ], header_date="Apr 17"))
    assert page.layout == "daily" and page.page_date == "Apr 17"
    alpha, beta, gamma, delta = page.records
    assert (alpha.authors, alpha.date, alpha.date_raw, alpha.upvotes) == (3, "2024-03-11", "Mar 11, 2024", None)
    assert (beta.authors, beta.date, beta.date_raw, beta.upvotes) == (1, None, "Feb 25", 7)
    assert (gamma.authors, gamma.date) == (None, None)
    assert (delta.date, delta.upvotes, delta.authors) == ("2025-10-23", 3, 12)


def test_plain_and_search_layouts_are_detected() -> None:
    papers = fake_papers(4)
    plain = "Daily Papers\n\n" + "\n\n".join(f"{p['title']}\n\n{p['abstract']}" for p in papers)
    search = "Get trending papers in your email inbox!\nSubscribe" + "\n".join(
        f"{p['title']}\n{p['abstract']}" for p in papers)
    for text_, layout in ((plain, "daily-plain"), (search, "search")):
        page = parse_listing(text_)
        assert page.layout == layout
        assert [r.title for r in page.records] == [p["title"] for p in papers]


def test_crlf_and_stray_whitespace(tmp_path: Path) -> None:
    page = daily_page(fake_papers(3))
    messy = "\r\n".join("  " + line.replace(" ", "\u00a0 ", 1) + " \t" for line in page.split("\n"))
    path = tmp_path / "messy.txt"
    path.write_bytes(messy.encode("utf-8"))
    clean = parse_listing(page).records
    records = read_source(path).records
    assert [(r.key, r.abstract.split()) for r in records] == [(r.key, r.abstract.split()) for r in clean]
    assert [r.authors for r in records] == [1, 2, 3]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin_pages_are_read(tmp_path: Path, encoding: str) -> None:
    papers = fake_papers(2)
    papers[0]["title"] = "Modèles génératifs pour la mémoire à long terme"
    page = daily_page(papers)
    if encoding == "latin-1":  # no bullet character in Latin-1: the plain layout
        page = "Daily Papers\n\n" + "\n\n".join(f"{p['title']}\n\n{p['abstract']}" for p in papers)
    path = tmp_path / "latin.txt"
    path.write_bytes(page.encode(encoding))
    records = read_source(path).records
    assert records[0].title == "Modèles génératifs pour la mémoire à long terme"
    assert (records[1].authors is not None) == (encoding == "cp1252")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n  \n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file"),
        (bytes(range(0x80, 0xA0)) * 40 + b"\x01\x02\x03" * 50, "undecodable"),
        (b"Dear diary,\n\ntoday I went for a walk.\n", "not a listing page"),
        (("Shopping list\n\n" + "- apples and pears, twelve of them, from the market\n" * 30).encode(), "not a listing page"),
    ],
)
def test_bad_inputs_fail_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError) as failure:
        read_source(path)
    assert reason in str(failure.value)
    assert str(path) in str(failure.value)


def test_huge_file_is_refused_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "MAX_PAGE_BYTES", 1000)
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: big on paper, instant to create
        handle.truncate(10 * 1000 * 1000 * 1000)
    with pytest.raises(SourceError, match="too large"):
        text.read_text(path, text.MAX_PAGE_BYTES)


def test_jsonl_and_csv(tmp_path: Path) -> None:
    rows = [
        {"title": "A JSONL paper", "abstract": "It has an abstract. Two sentences.", "date": "2024-05-01",
         "authors": ["Ann", "Bob"], "url": "https://example.org/a"},
        {"title": "Another one", "abstract": "Also here.", "authors": 4},
    ]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    records = read_source(jsonl).records
    assert [(r.title, r.authors, r.date, r.url) for r in records] == [
        ("A JSONL paper", 2, "2024-05-01", "https://example.org/a"), ("Another one", 4, None, None)]
    assert [r.author_names for r in records] == [("Ann", "Bob"), ()]  # a count names nobody
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('Title,Abstract,Date,Authors\n"A, comma title","Abstract, quoted.",March 2023,"A; B; C"\n')
    (record,) = read_source(csv_path).records
    assert (record.title, record.date, record.authors) == ("A, comma title", "2023-03-01", 3)
    assert record.author_names == ("A", "B", "C")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("x.jsonl", '{"title": "ok", "abstract": "fine"}\n{"title": "broken"\n', "line 2: invalid JSON"),
        ("x.jsonl", '{"title": "no abstract"}\n', "line 1: missing abstract"),
        ("x.jsonl", '["a list"]\n', "expected a JSON object"),
        ("x.csv", "name,text\nfoo,bar\n", "lacks column(s): abstract, title"),
        ("x.csv", "title,abstract,date\nT,A,not a date at all\n", "cannot read date"),
    ],
)
def test_bad_tables_name_the_problem(tmp_path: Path, name: str, content: str, reason: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceError, match=re.escape(reason)):
        read_source(path)
