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
    assert "Ada Lovelace, Alan Turing and Grace Hopper" in result.text
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
