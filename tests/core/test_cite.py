"""Papers out as BibTeX, CSL-JSON and RIS: what bibtexparser, rispy and a JSON reader get back
is what went in, and keys are stable and unique."""

from __future__ import annotations

import json

import bibtexparser
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, MergeNameParts, SeparateCoAuthors, SplitNameParts

from assistant.core.cite import bibtex, csl_json, keys, ris

PAPERS = [
    {"title": "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models",
     "author_names": ["Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt"], "date": "2024-05-22",
     "url": "http://arxiv.org/abs/2405.13786v1", "abstract": "TCP reaches 11.35× speed-ups & 74.2% of {its} budget."},
    {"title": "Attention Is All You Need", "author_names": ["Ashish Vaswani", "Noam Shazeer"], "date": "2017-06-12",
     "url": "https://example.org/a_b%20c", "abstract": "We propose the Transformer."},
    {"title": "Attention Is All You Need", "author_names": ["Ashish Vaswani"], "date": "2017", "abstract": "Again."},
    {"title": "GPT-4 on the bar exam", "author_names": [], "date": None, "abstract": "It passes."},
]


def test_keys_follow_author_year_word_and_are_unique() -> None:
    assert keys(PAPERS) == ["ramirez2024explainable", "vaswani2017attention", "vaswani2017attentiona", "gpt4"]
    assert keys(PAPERS) == keys(PAPERS)


def test_bibtex_reads_back_with_the_same_titles_authors_and_abstracts() -> None:
    written = bibtex(PAPERS)
    library = bibtexparser.parse_string(written, append_middleware=[
        LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts(), MergeNameParts("first")])
    assert not library.failed_blocks
    entries = library.entries
    assert [e.key for e in entries] == keys(PAPERS)
    assert [e.fields_dict["title"].value for e in entries] == [p["title"] for p in PAPERS]
    assert [list(e.fields_dict["author"].value) if "author" in e.fields_dict else [] for e in entries] == \
        [p["author_names"] for p in PAPERS]
    assert entries[0].fields_dict["abstract"].value == PAPERS[0]["abstract"]
    assert entries[0].fields_dict["eprint"].value == "2405.13786"
    assert "url = {https://example.org/a_b%20c}" in written  # a URL is written as it is, not escaped
    assert "{{Attention Is All You Need}}" in written  # capitals kept from BibTeX styles


def test_csl_json_and_ris_read_back() -> None:
    items = json.loads(csl_json(PAPERS))
    assert [item["title"] for item in items] == [p["title"] for p in PAPERS]
    assert items[0]["author"][0] == {"family": "Ramírez", "given": "Aurora"}
    assert items[0]["issued"] == {"date-parts": [[2024, 5, 22]]} and "issued" not in items[3]
    records = rispy.loads(ris(PAPERS))
    assert [r["title"] for r in records] == [p["title"] for p in PAPERS]
    assert records[0]["authors"][:2] == ["Ramírez, Aurora", "Berrios, Mario"] and records[0]["year"] == "2024"
