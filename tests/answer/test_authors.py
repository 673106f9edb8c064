"""Author names, where a file gives them: kept through ingest, shown by `show` and `--json`, and
"who wrote …?" answered with them from the catalogue (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.face.cli.main import main
from assistant.session import Session
from tests.conftest import ScriptedModel

PAPERS = [
    {"title": "Canon layers for deeper sequence models", "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
     "abstract": "We add canon layers to sequence models. Canon layers improve reasoning depth by 30 percent. "
                 "The layers cost almost nothing to add."},
    {"title": "Sparse graph kernels at scale", "authors": "Edsger Dijkstra; Barbara Liskov",
     "abstract": "We scale sparse graph kernels to a billion edges. The kernels run on one machine."},
    {"title": "Counting authors only", "authors": 4,
     "abstract": "This paper gives only a count of its authors. Nobody is named here at all."},
]


@pytest.fixture
def named(tmp_path: Path, make_store) -> Session:  # noqa: ANN001
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(p) for p in PAPERS) + "\n")
    store = make_store("named")
    session = Session(store.settings, store, ScriptedModel("unused"))
    assert all(r.status != "failed" for r in session.ingest([source]))
    return session


def test_names_are_kept_and_shown(named: Session, capsys: pytest.CaptureFixture[str]) -> None:
    by_title = {p.title: p for p in named.papers()}
    assert by_title["Canon layers for deeper sequence models"].author_names == ["Ada Lovelace", "Alan Turing",
                                                                                 "Grace Hopper"]
    assert by_title["Sparse graph kernels at scale"].author_names == ["Edsger Dijkstra", "Barbara Liskov"]
    assert by_title["Counting authors only"].author_names == [] and by_title["Counting authors only"].authors == 4
    data_dir = str(named.settings.data_dir)
    assert main(["--data-dir", data_dir, "show", "canon layers"]) == 0
    assert "by Ada Lovelace, Alan Turing and Grace Hopper" in capsys.readouterr().out
    assert main(["--data-dir", data_dir, "show", "sparse graph kernels", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["author_names"] == ["Edsger Dijkstra", "Barbara Liskov"]


def test_who_wrote_is_answered_with_the_names(named: Session) -> None:
    result = named.ask("Who wrote the paper on canon layers?").result
    assert result.status == "answered" and result.shape == "metadata"
    assert "Ada Lovelace, Alan Turing and Grace Hopper (3 authors)" in result.text
    how_many = named.ask("How many authors does the canon layers paper have?").result
    assert "3 authors" in how_many.text  # the count is said beside the names
    counted = named.ask("How many authors does the paper that only counts its authors have?").result
    assert "has 4 authors" in counted.text  # no names to give: the count, as before


def test_a_reingest_after_the_upgrade_brings_the_names_in(tmp_path: Path, make_store) -> None:  # noqa: ANN001
    """A file indexed by the release before names were kept is read again, not skipped."""
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(p) for p in PAPERS) + "\n")
    store = make_store("older")
    session = Session(store.settings, store, ScriptedModel("unused"))
    session.ingest([source])
    with store.catalog.db as db:  # as the upgrade leaves a store from before: names unknown, hash cleared
        db.execute("UPDATE papers SET author_names = '[]'")
        db.execute("UPDATE sightings SET author_names = '[]'")
        db.execute("UPDATE pages SET sha256 = ''")
    (report,) = session.ingest([source])
    assert report.status != "unchanged"
    assert any(p.author_names for p in session.papers())


def test_papers_by_an_author_are_listed_and_counted_from_the_catalogue(named: Session) -> None:
    extra = {"title": "Another paper by Liskov", "authors": ["Barbara Liskov"],
             "abstract": "Data abstraction makes programs easier to change. We show why with three examples."}
    source = named.settings.data_dir / "more.jsonl"
    source.write_text(json.dumps(extra) + "\n")
    named.ingest([source])
    counted = named.ask("How many papers by Barbara Liskov are in the collection?").result
    assert counted.status == "answered" and counted.shape == "metadata"
    assert "2 papers in the collection list Barbara Liskov as an author" in counted.text
    assert {s.paper.title for s in counted.cited_sources()} == {"Sparse graph kernels at scale", extra["title"]}
    assert counted.claims[0].citations == ()  # the count is the collection's, each listed line cites its paper
    listed = named.ask("Which papers did Alan Turing write?").result
    assert "1 paper in the collection" in listed.text
    assert [s.paper.title for s in listed.cited_sources()] == ["Canon layers for deeper sequence models"]
    by_surname = named.ask("Show me papers by Hopper").result
    assert [s.paper.title for s in by_surname.cited_sources()] == ["Canon layers for deeper sequence models"]
    assert named.ask("Which papers were written by Donald Knuth?").result.status == "not_covered"
    # initials must fit every given name: "A. Turing" is Alan Turing, "A. Grace Hopper" nobody
    assert [named.store.catalog.papers([i])[i].title for i in named.store.catalog.by_author("A. Turing")] == [
        "Canon layers for deeper sequence models"]
    assert named.store.catalog.by_author("A. Grace Hopper") == []
    assert named.store.catalog.by_author("G. Hopper") == named.store.catalog.by_author("Grace Hopper")


def test_a_follow_up_asks_what_its_own_words_ask() -> None:
    """"And how was it evaluated?" after "Who wrote …?" asks how, not who: the rewrite (or the
    last question put before it) still says "who wrote", and must not make it an author line."""
    from assistant.answer.plan import plan_follow_up

    followed = plan_follow_up("and how was it evaluated?", "Who wrote the paper on Canon layers? and how was it "
                              "evaluated?")
    assert followed.shape == "fact" and "wrote" not in followed.query.casefold() and "Canon" in followed.query
    asked = plan_follow_up("and who wrote it?", "What do canon layers add? and who wrote it?")
    assert asked.shape == "metadata" and asked.fields == ("authors",)
