"""The arXiv API's Atom feed, read from two real responses (tests/data/formats/README.md says
where they come from), and the feeds that must be refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import ingest
from assistant.ingest.readers import read_source

FORMATS = Path(__file__).parent.parent / "data" / "formats"
TESTING = FORMATS / "arxiv-api-query-testing-100.xml"
PHYSICS = FORMATS / "arxiv-api-2016-physics.xml"


def test_the_arxiv_api_response_gives_every_entry_with_authors_dates_and_links() -> None:
    page = read_source(TESTING)
    assert page.layout == "atom" and len(page.records) == 100
    first = page.records[0]
    assert first.title == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    assert first.author_names == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker") and first.authors == 3
    assert first.date == "2022-02-24" and first.date_raw == "2022-02-24T15:05:19Z"
    assert first.url == "https://arxiv.org/abs/2202.12139v1"
    assert first.abstract.startswith("Deep Learning (DL) has revolutionized") and "\n" not in first.abstract
    assert all(r.title and r.abstract and r.author_names and r.date for r in page.records)
    assert (first.arxiv_id, first.doi, first.categories) == ("2202.12139", "10.1109/icstw55395.2022.00035",
                                                             ("cs.SE", "cs.LG"))
    assert first.venue is not None and first.venue.startswith("Artificial Intelligence in Software Testing")
    assert all(r.arxiv_id for r in page.records)


def test_an_older_response_reads_the_same_way() -> None:
    page = read_source(PHYSICS)
    assert len(page.records) == 10
    assert page.records[0].title == "A Luttinger Liquid Core Inside Helium-4 Filled Nanopores"
    assert page.records[0].author_names == ("Adrian Del Maestro",) and page.records[0].date == "2012-01-23"
    assert all(any(name.endswith("Del Maestro") for name in r.author_names) for r in page.records)
    assert page.records[4].author_names == ("B. Kulchytskyy", "G. Gervais", "A. Del Maestro")


def test_a_feed_is_known_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    renamed = tmp_path / "query.txt"
    shutil.copy(PHYSICS, renamed)
    assert read_source(renamed).layout == "atom"


@pytest.mark.parametrize(("content", "reason"), [
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
     '<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>', "declares entities"),
    ('<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&x;</title></entry></feed>', "declares entities"),
    ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A', "broken XML"),
    ('<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>', "<rss>"),
    ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors</id>'
     "<title>Error</title><summary>incorrect id format for 1234.12345</summary></entry></feed>",
     "no papers: incorrect id format"),
])
def test_hostile_or_empty_feeds_are_refused_with_a_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(content)
    with pytest.raises(SourceError, match=reason):
        read_source(path)


def test_a_feed_ingests_with_its_authors_and_dates(make_store) -> None:  # noqa: ANN001
    store = make_store()
    (report,) = ingest(store, [PHYSICS])
    assert report.status == "added" and report.papers == 10
    (pid,) = store.catalog.find("A Luttinger Liquid Core Inside Helium-4 Filled Nanopores")
    paper = store.catalog.papers([pid])[pid]
    assert paper.author_names == ["Adrian Del Maestro"] and paper.date == "2012-01-23"
    assert paper.url == "http://arxiv.org/abs/1201.4869v1"
