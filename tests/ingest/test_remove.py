"""Taking papers out: a file's papers (those no other file lists) or single papers, from the
catalogue, the keyword index and the vectors together, leaving a consistent store."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.ingest.pipeline import ingest
from assistant.ingest.remove import remove
from assistant.store.check import check

FORMATS = Path(__file__).parent.parent / "data" / "formats"
FEED = FORMATS / "arxiv-api-query-testing-100.xml"
EXPORT = FORMATS / "zotero-export.bib"


def vector_ids(store) -> set[str]:  # noqa: ANN001
    got = store.vectors.collection.get(include=["metadatas"])
    return {str(m["paper_id"]) for m in got["metadatas"] or []}


def test_removing_a_file_keeps_the_papers_another_file_lists(make_store) -> None:  # noqa: ANN001
    store = make_store()
    ingest(store, [FEED, EXPORT])
    assert store.catalog.size() == 100
    (report,) = remove(store, [str(FEED)])
    assert (report.kind, report.removed, report.kept) == ("file", 97, 3)  # the export lists the first three
    assert store.catalog.size() == 3 and vector_ids(store) == set(store.catalog.all_ids())
    assert check(store).consistent
    assert store.catalog.bm25("fuzzing cyber-physical systems", 5)[0] == store.catalog.find("Active Fuzzing")[0]
    (again,) = remove(store, [EXPORT.name])  # by the name `stats` lists it under
    assert again.removed == 3 and store.catalog.size() == 0 and vector_ids(store) == set()
    assert check(store).consistent


def test_removing_single_papers_and_naming_nothing(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [{"title": f"Paper {n} on graph learning for molecules", "abstract": f"We study molecule {n}. It works."}
            for n in range(4)]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    store = make_store()
    ingest(store, [path])
    (pid,) = store.catalog.find("Paper 2 on graph learning for molecules")
    by_id, by_title, unknown = remove(store, [pid, "Paper 3 on graph learning", "no such paper at all"])
    assert (by_id.kind, by_id.removed, by_title.removed) == ("paper", 1, 1)
    assert unknown.kind == "unknown" and "no paper matches" in (unknown.error or "")
    assert store.catalog.size() == 2 and vector_ids(store) == set(store.catalog.all_ids())
    assert store.catalog.pages()[0]["papers"] == 2
    assert check(store).consistent
