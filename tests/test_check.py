"""`assistant check` finds every way the catalogue and the vectors can disagree, and `--repair`
makes them agree again without losing a paper."""

from __future__ import annotations

from pathlib import Path

from assistant.check import check, repair
from assistant.cli import main
from assistant.index import ingest
from assistant.papers import Passage
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
    fixed = repair(store, report)
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


def test_two_concurrent_ingests_lose_nothing(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    data_dir = tmp_path / "shared"
    files = []
    for name in ("left", "right"):
        path = tmp_path / f"{name}.jsonl"
        rows = [{"title": f"Concurrent {name} study {i}: sparse coding of {name} signals in layer {i}",
                 "abstract": f"We study {name} signals number {i}. Sparse codes reach {i % 9 + 1} bits. "
                             f"The {name} model is small."} for i in range(150)]
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        files.append(path)
    env = {**os.environ, "ASSISTANT_SEED_BUNDLED": "0"}
    runs = [subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir), "ingest", str(f)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for f in files]
    outputs = [run.communicate(timeout=600)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    done = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data_dir), "check", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["papers"] == 300 and report["consistent"], report


def test_searches_while_an_ingest_writes(make_store, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    store = small_store(make_store, tmp_path)
    data_dir = str(store.settings.data_dir)
    path = tmp_path / "more.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"Later study {i} of sparse graph coding in cortex layer {i}",
                                          "abstract": f"We study sparse graph code {i}. It reaches {i} bits."})
                              for i in range(150)) + "\n")
    env = {**os.environ, "ASSISTANT_SEED_BUNDLED": "0"}

    def run(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", data_dir, *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    writer = run("ingest", str(path))
    readers = [run("search", "sparse graph coding", "--json") for _ in range(4)]  # four at once
    for reader in readers:
        out = reader.communicate(timeout=300)[0]
        assert reader.returncode == 0, out
        assert json.loads(out)["hits"]  # a consistent collection: results, not an error
    assert writer.communicate(timeout=600)[0] and writer.returncode == 0
    report = json.loads(run("check", "--json").communicate(timeout=300)[0])
    assert report["consistent"] and report["papers"] == 156
