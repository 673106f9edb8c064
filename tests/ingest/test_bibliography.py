"""BibTeX, RIS and CSL-JSON as reference managers export them, and the same paper arriving
from an arXiv feed and all three being one paper.

`tests/data/formats/zotero-export.{bib,ris,json}` hold the first three papers of the real
arXiv API response beside them (`arxiv-api-query-testing-100.xml`), written out in the layout
of Zotero 7's own BibTeX, RIS and CSL-JSON exports of arXiv preprints (title words in
braces, `month = feb`, LaTeX accents in names, `TY  - GEN`, `date-parts`); see the README there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import ingest
from assistant.ingest.readers import read_source

FORMATS = Path(__file__).parent.parent / "data" / "formats"
EXPORTS = {"zotero-export.bib": "bibtex", "zotero-export.ris": "ris", "zotero-export.json": "csl-json"}
SECOND = "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_export_gives_its_papers_with_names_dates_and_links(name: str) -> None:
    page = read_source(FORMATS / name)
    assert page.layout == EXPORTS[name] and len(page.records) == 3 and page.warnings == []
    second = page.records[1]
    assert second.title == SECOND  # no braces left from BibTeX's capital protection
    assert second.author_names == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt")
    assert second.authors == 4
    assert second.date is not None and second.date.startswith("2024-05")
    assert second.url == "http://arxiv.org/abs/2405.13786"
    assert second.abstract.startswith("Test case prioritisation (TCP) is a critical task")


def test_a_bibliography_is_known_by_its_content(tmp_path: Path) -> None:
    for name, kind in EXPORTS.items():
        renamed = tmp_path / f"{kind}.txt"
        renamed.write_bytes((FORMATS / name).read_bytes())
        assert read_source(renamed).layout == kind


def test_references_without_abstracts_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.bib"
    path.write_text("@article{a, title={Only a title}, author={Doe, Jane}, year={2020}}\n"
                    "@article{b, title={With an abstract}, author={Roe, Ann and Poe, Ed}, year={2021},\n"
                    "  abstract={We measure things carefully and report what we found.}}\n"
                    "@article{c, title={Broken {entry, author={X}}\n")
    page = read_source(path)
    assert [r.title for r in page.records] == ["With an abstract"]
    assert page.records[0].author_names == ("Ann Roe", "Ed Poe")
    assert any("1 reference(s) without an abstract" in w for w in page.warnings)
    assert any("not valid BibTeX" in w for w in page.warnings)


ODD_BUT_REAL = r"""
@article{ladyman2007,
  title = {The Connection between Logical and Thermodynamic Irreversibility},
  author = {Ladyman, James | Presnell, Stuart | Short, Anthony J.},
  date = {2007-03},
  abstract = {There has recently been a good deal of controversy about Landauer's Principle.},
  note = {(extrait) \par \href}
}

@online{ladyman2007,
  title = {G\'erer la documentation},
  author = {Heimburger, Franziska},
  date = {2012-10-17/2012-10-18},
  abstract = {\'Emilien~a lanc\'e cet \'et\'e une~r\'eflexion sur la documentation.}
}

@book{kiang03,
  author = {Kiang, Nelson},
  date = {199u},
  abstract = {A reference whose title was lost on the way.}
}

@misc{odd1990,
  title = {A Census Taken in an Uncertain Year},
  date = {199u},
  abstract = {We count what we can and say when we counted it.}
}
"""


def test_odd_entries_of_real_exports_cost_a_field_not_the_reference(tmp_path: Path) -> None:
    """What real libraries hold (the kinds Better BibTeX's export tests keep): a field LaTeX
    decoding fails on, names split by "|", a key used twice, a date range, a date that is not
    one ("199u"), an entry without a title. Each paper that has a title and an abstract is read."""
    path = tmp_path / "library.bib"
    path.write_text(ODD_BUT_REAL)
    page = read_source(path)
    assert [r.title for r in page.records] == ["The Connection between Logical and Thermodynamic Irreversibility",
                                               "Gérer la documentation", "A Census Taken in an Uncertain Year"]
    first, second, third = page.records
    assert first.author_names == ("James Ladyman", "Stuart Presnell", "Anthony J. Short")
    assert second.author_names == ("Franziska Heimburger",) and second.date == "2012-10-17"
    assert second.abstract == "Émilien a lancé cet été une réflexion sur la documentation."
    assert third.date is None
    assert "skipped 1 reference(s) without a title" in page.warnings
    assert any(w.startswith("left out 1 date(s)") for w in page.warnings)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("none.bib", "@article{a, title={Only a title}, year={2020}}\n", "none with an abstract"),
    ("list.json", '[{"title": "x"}, 3]', "not CSL-JSON"),
    ("bad.json", '[{"title": "x",', "invalid JSON"),
    ("empty.ris", "TY  - JOUR\nTI  - Only a title\nER  - \n", "none with an abstract"),
])
def test_bibliographies_without_papers_are_refused_with_a_reason(tmp_path: Path, name: str, content: str,
                                                                 reason: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceError, match=reason):
        read_source(path)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_export_gives_the_arxiv_id(name: str) -> None:
    assert [r.arxiv_id for r in read_source(FORMATS / name).records] == ["2202.12139", "2405.13786", "2005.14124"]


def test_the_same_arxiv_id_is_the_same_paper_however_its_title_is_written(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    renamed = tmp_path / "renamed.bib"
    renamed.write_text("@misc{a, title = {Explainable TCP using learning to rank}, eprint = {2405.13786},\n"
                       "  archiveprefix = {arXiv}, author = {Ram{\\'i}rez, Aurora},\n"
                       "  abstract = {A preprint of the same study under its first working title.}}\n")
    store = make_store()
    ingest(store, [FORMATS / "arxiv-api-query-testing-100.xml", renamed])
    assert store.catalog.size() == 100
    (pid,) = store.catalog.find(SECOND)
    assert store.catalog.find("Explainable TCP using learning to rank") == [pid]
    paper = store.catalog.papers([pid])[pid]
    assert paper.arxiv_id == "2405.13786" and "cs.SE" in paper.categories and paper.doi is not None


def test_the_same_paper_from_a_feed_and_three_exports_is_one_paper(make_store) -> None:  # noqa: ANN001
    store = make_store()
    reports = ingest(store, [FORMATS / "arxiv-api-query-testing-100.xml", *(FORMATS / name for name in sorted(EXPORTS))])
    assert [r.status for r in reports] == ["added"] * 4
    assert store.catalog.size() == 100  # the exports' three papers are the feed's first three
    (pid,) = store.catalog.find(SECOND)
    paper = store.catalog.papers([pid])[pid]
    assert len(paper.pages) == 4
    assert paper.author_names == ["Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt"]


def test_the_most_precise_date_a_source_gives_is_kept(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    store = make_store()
    html = FORMATS / "hf-paper-page.html"  # "Published on May 22, 2024"
    ingest(store, [html, FORMATS / "zotero-export.bib"])  # the .bib, read after it, says "2024 may"
    (pid,) = store.catalog.find(SECOND)
    assert store.catalog.papers([pid])[pid].date == "2024-05-22"
