"""The command line, driven through `main()` against real stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware

from assistant.face.cli import main as cli
from assistant.face.cli.common import EXIT_NOT_COVERED
from assistant.ingest import pipeline as index
from assistant.store.data_dir import Store
from tests.conftest import daily_page, fake_papers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import sys; from assistant.face.cli import main as cli; cli.build_parser().format_help();"
        "heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'llama_cpp', 'rich', 'textual')"
        " if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    shown = subprocess.run([sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True, check=True)
    for command in ("ingest", "search", "papers", "show", "stats", "reindex"):
        assert command in shown.stdout


def test_search_json_is_stable(sample_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = str(sample_store.settings.data_dir)
    code, out, _ = run(capsys, "search", "attention heads that increment days of the week", "-k", "2", "--json", "--data-dir", data_dir)
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"query", "covered", "best_similarity", "term_coverage", "absent_share", "named", "titled",
                           "threshold", "hits"}
    assert result["covered"] is True and len(result["hits"]) == 2
    hit = result["hits"][0]
    assert set(hit) == {"paper", "score", "similarity", "bm25_rank", "dense_rank", "passage"}
    assert set(hit["paper"]) == {"id", "title", "abstract", "authors", "author_names", "date", "date_raw", "upvotes",
                                 "url", "links", "pages", "aliases", "arxiv_id", "doi", "venue", "categories"}


def test_papers_show_and_stats(sample_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = str(sample_store.settings.data_dir)
    code, out, _ = run(capsys, "--data-dir", data_dir, "papers", "--json", "--limit", "7")
    listed = json.loads(out)
    assert code == 0 and listed["count"] == 7
    dates = [p["date"] for p in listed["papers"]]
    assert dates == sorted(dates, reverse=True)
    first = listed["papers"][0]
    code, out, _ = run(capsys, "show", first["id"], "--json", "--data-dir", data_dir)
    assert code == 0 and json.loads(out)["title"] == first["title"]
    code, out, _ = run(capsys, "show", first["title"].upper(), "--data-dir", data_dir)
    assert code == 0 and first["abstract"][:40] in " ".join(out.split())
    code, _, err = run(capsys, "show", "no such paper title anywhere", "--data-dir", data_dir)
    assert code == 1 and "no paper matches" in err
    code, _, err = run(capsys, "show", "learning", "--data-dir", data_dir)
    assert code == 1 and "papers match" in err
    code, out, _ = run(capsys, "stats", "--json", "--data-dir", data_dir)
    stats = json.loads(out)
    assert code == 0 and stats["papers"] == 311 and stats["embedder"] == "all-MiniLM-L6-v2"
    assert stats["passages"] > stats["papers"] and len(stats["sources"]) == 5


def test_first_use_seeds_the_bundled_collection_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    sample = tmp_path / "bundled" / "sample.txt"
    sample.parent.mkdir()
    sample.write_text(daily_page(fake_papers(3)))
    monkeypatch.setattr(index, "bundled_pages", lambda: [sample])
    code, out, _ = run(capsys, "papers", "--json")
    assert code == 0 and json.loads(out)["count"] == 3
    assert (tmp_path / "data" / "catalog.sqlite3").exists()  # ASSISTANT_DATA_DIR from conftest
    other = tmp_path / "mine.txt"
    other.write_text(daily_page(fake_papers(2, topic="protein")))
    code, out, err = run(capsys, "ingest", str(other))
    assert code == 0 and "2 new" in out
    monkeypatch.setattr(index, "bundled_pages", lambda: pytest.fail("seeded twice"))
    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["papers"] == 5


def test_a_new_data_dir_filled_by_ingest_holds_only_the_users_papers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    sample = tmp_path / "bundled" / "sample.txt"
    sample.parent.mkdir()
    sample.write_text(daily_page(fake_papers(3)))
    monkeypatch.setattr(index, "bundled_pages", lambda: [sample])
    mine = tmp_path / "mine.txt"
    mine.write_text(daily_page(fake_papers(2, topic="protein")))
    code, out, err = run(capsys, "ingest", str(mine))
    assert code == 0 and "Indexed the bundled sample collection" not in err
    code, out, _ = run(capsys, "stats", "--json")  # a later command does not mix the samples in either
    assert json.loads(out)["papers"] == 2
    code, out, _ = run(capsys, "ingest", "--samples")
    assert code == 0 and "sample.txt: daily, 3 papers" in " ".join(out.split())
    code, out, _ = run(capsys, "remove", str(mine), "--json")
    report = json.loads(out)
    assert code == 0 and report["papers"] == 3 and report["removed"][0]["removed"] == 2
    code, out, _ = run(capsys, "check", "--json")
    assert code == 0 and json.loads(out)["consistent"]
    code, _, err = run(capsys, "ingest")
    assert code == 1 and "--samples" in err


def test_ingest_reports_each_file_and_fails_on_bad_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    good = tmp_path / "good.txt"
    good.write_text(daily_page(fake_papers(2)))
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    code, out, err = run(capsys, "ingest", str(good), str(binary))
    assert code == 1
    assert "good.txt: daily, 2 papers" in " ".join(out.split())
    assert "image.txt: binary file" in err
    code, out, _ = run(capsys, "ingest", str(good), "--json")
    report = json.loads(out)
    assert code == 0 and report["files"][0]["status"] == "unchanged" and report["papers"] == 2


def test_bad_dates_and_settings_are_clean_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "maybe")
    code, _, err = run(capsys, "stats")
    assert code == 1 and "ASSISTANT_SEED_BUNDLED" not in err and "expected true/false" in err
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    code, _, err = run(capsys, "search", "x", "--since", "someday")
    assert code == 1 and "cannot read the date" in err
    (tmp_path / "config.toml").write_text("colour = 'blue'\n")
    code, _, err = run(capsys, "stats")
    assert code == 1 and "unknown setting(s) colour" in err


def test_ask_json_and_exit_codes(sample_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = str(sample_store.settings.data_dir)
    code, out, _ = run(capsys, "ask", "What ANLS score does Vary-toy reach on DocVQA?", "--json", "--data-dir", data_dir)
    answer = json.loads(out)
    assert code == 0 and answer["status"] == "answered"
    assert {"answer", "sections", "sources", "dropped", "timings", "model", "standalone_query"} <= set(answer)
    sentence = answer["sections"][0]["sentences"][0]
    assert {"text", "citations", "supported", "origin", "reason"} <= set(sentence)
    assert {"number", "evidence", "title", "authors", "date"} <= set(answer["sources"][0])
    code, out, _ = run(capsys, "--data-dir", data_dir, "-q", "Who won the 2018 football world cup?", "--json")
    refused = json.loads(out)
    assert code == EXIT_NOT_COVERED and refused["status"] == "not_covered" and refused["closest"]
    code, out, _ = run(capsys, "--data-dir", data_dir, "--ask", "What ANLS score does Vary-toy reach on DocVQA?")
    assert code == 0 and "Sources" in out and "[1]" in out
    code, out, _ = run(capsys, "--data-dir", data_dir, "ask", "What ANLS score does Vary-toy reach on DocVQA?", "--bibtex")
    cited = bibtexparser.parse_string(out[out.index("@misc"):]).entries
    assert code == 0 and cited[0].fields_dict["title"].value.strip("{}") == answer["sources"][0]["title"]


@pytest.mark.slow
def test_ask_says_when_it_waits_for_another_commands_turn(sample_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    import threading
    import time

    from filelock import FileLock

    from assistant.core.settings import load_settings

    sample_store.embedder.embed_queries(["warm"])  # the embedder exported before the clock starts (~10 s)
    held = threading.Event()

    def another_command_writing() -> None:  # a thread of its own: filelock refuses a wait on its own thread's hold
        with FileLock(load_settings().turns_lock, thread_local=False):
            held.set()
            time.sleep(8.0)  # longer than the model load and the search before the answer is written

    threading.Thread(target=another_command_writing, daemon=True).start()
    held.wait(10)
    code, out, err = run(capsys, "--data-dir", str(sample_store.settings.data_dir), "ask",
                         "What ANLS score does Vary-toy reach on DocVQA?")
    assert code == 0 and "[1]" in out
    assert "waiting for another assistant command to finish writing" in err


def test_cite_and_papers_give_bibliographies(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SEED_BUNDLED", "0")
    export = Path(__file__).parent.parent / "data" / "formats" / "zotero-export.bib"
    code, out, _ = run(capsys, "ingest", str(export))
    assert code == 0 and "bibtex, 3 papers" in " ".join(out.split())
    code, out, _ = run(capsys, "cite", "Towards Explainable Test Case", "Active Fuzzing")
    entries = bibtexparser.parse_string(out, append_middleware=[LatexDecodingMiddleware()]).entries
    assert code == 0 and [e.key for e in entries] == ["ramirez2024explainable", "chen2020active"]
    assert "Ram{\\'\\i}rez, Aurora" in out
    code, out, _ = run(capsys, "papers", "--format", "csl-json")
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = run(capsys, "papers", "--format", "ris", "--limit", "1")
    assert code == 0 and out.startswith("TY  - GEN") and out.count("ER  - ") == 1
    code, _, err = run(capsys, "cite", "no such paper at all")
    assert code == 1 and "no paper matches" in err
    code, out, _ = run(capsys, "search", "testing", "--author", "C. M. Poskitt", "--json")
    assert code == 0 and [h["paper"]["title"] for h in json.loads(out)["hits"]] == \
        ["Active Fuzzing for Testing and Securing Cyber-Physical Systems"]
    code, _, err = run(capsys, "search", "testing", "--author", "Nobody Known")
    assert code == 1 and "no paper in the collection has an author named" in err


def test_missing_model_is_a_clean_error(sample_store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "ask", "anything", "--model", str(tmp_path / "missing.gguf"),
                       "--data-dir", str(sample_store.settings.data_dir))
    assert code == 1 and "model file not found" in err and "models.md" in err and "Traceback" not in err


def test_digest_quotes_without_a_model(sample_store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A digest needs no model: it works even when the configured one is missing."""
    code, out, err = run(capsys, "digest", "sep4", "--json", "--model", str(tmp_path / "missing.gguf"),
                         "--data-dir", str(sample_store.settings.data_dir))
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "digest" and data["query"] == "daily-papers-sep4.txt" and data["model"] == ""
    quoted = [c for section in data["sections"] for c in section["sentences"]]
    assert quoted and all(c["origin"] == "evidence" and c["supported"] for c in quoted)
    code, _, err = run(capsys, "digest", "nowhere", "--data-dir", str(sample_store.settings.data_dir))
    assert code == 1 and "no pages match" in err and "daily-papers-sep4.txt" in err
