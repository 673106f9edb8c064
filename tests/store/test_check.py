"""`assistant check` finds every way the catalogue and the vectors can disagree, and `--repair`
makes them agree again without losing a paper."""

from __future__ import annotations

from pathlib import Path

from assistant.core.records import Passage
from assistant.face.cli.main import main
from assistant.ingest.pipeline import ingest
from assistant.store.check import check, repair
from tests.conftest import daily_page, fake_papers


def small_store(make_store, tmp_path: Path):  # noqa: ANN001, ANN201
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(6)))
    store = make_store("checked")
    ingest(store, [page])
    return store


def test_a_fresh_store_is_consistent(make_store, tmp_path: Path) -> None:
    report = check(small_store(make_store, tmp_path))
    assert report.consistent and report.papers == 6 and report.passages > 6 and report.problems() == []


def test_every_disagreement_is_found_and_repaired(make_store, tmp_path: Path) -> None:
    store = small_store(make_store, tmp_path)
    ids = store.catalog.all_ids()
    store.vectors.delete([ids[0]])  # vectors lost
    vector = store.embedder.embed(["a ghost"])[0]
    store.vectors.replace(["ghost"], [Passage("ghost:0", "ghost", "a ghost")], [vector])  # vectors of no paper
    with store.catalog.transaction() as db:
        db.execute("UPDATE papers SET embedded_hash = NULL WHERE id = ?", (ids[1],))  # an ingest cut short
        db.execute("DELETE FROM papers_fts WHERE rowid = (SELECT MIN(rowid) FROM papers_fts)")  # keyword row lost
    report = check(store)
    assert not report.consistent
    assert report.missing == [ids[0]] and report.orphans == ["ghost:0"] and report.pending == [ids[1]]
    assert report.keyword_rows == 5 and len(report.problems()) == 4
    fixed = repair(store)
    assert fixed.consistent and fixed.papers == 6
    assert not any(p.startswith("ghost") for p in store.vectors.ids())
    assert len(store.vectors.query(vector, 50, {ids[0]})) > 0  # the lost paper is searchable again


def test_the_check_command_exits_1_until_repaired(make_store, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    store = small_store(make_store, tmp_path)
    store.vectors.delete([store.catalog.all_ids()[0]])
    data_dir = str(store.settings.data_dir)
    assert main(["check", "--data-dir", data_dir]) == 1
    assert "missing passages" in capsys.readouterr().out
    assert main(["check", "--repair", "--data-dir", data_dir]) == 0
    assert main(["check", "--data-dir", data_dir]) == 0


def test_check_reports_answers_left_unfinished(make_store, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """A question saved when asked, whose answer never finished (a kill), is kept and reported,
    and does not make the store inconsistent."""
    import json

    from assistant.session import Session

    store = small_store(make_store, tmp_path)
    conversations = Session.conversations(store.settings)
    conversation = conversations.create("what do graphs learn?")
    conversations.finish_turn(conversations.begin_turn(conversation, "what do graphs learn?"), "They learn.", {})
    conversations.begin_turn(conversation, "and how fast?")  # the process died while answering
    conversations.close()
    assert main(["check", "--json", "--data-dir", str(store.settings.data_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["consistent"] and report["conversations"] == 1 and report["unfinished_answers"] == 1
    assert main(["check", "--data-dir", str(store.settings.data_dir)]) == 0
    assert "1 answer(s) left unfinished" in capsys.readouterr().out
