"""Embeddings on an OpenAI-compatible server (`--embed-url`).

The quick tests talk to a scripted HTTP server on the loopback: order, batches, averaging of
per-token vectors, unit length, and a clear `ModelError` for every kind of bad answer. The slow
ones run the real command line against llama-cpp-python's own server with the bundled GGUF:
ingest, search and check; the refusal of the data directory by any other embedder; and a
server killed in the middle of an ingest, which a second run after a restart finishes."""

from __future__ import annotations

import http.server
import json
import math
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.records import make_passages
from assistant.core.settings import Settings
from assistant.model import served_embedder
from assistant.model.chat import ModelError, bundled_gguf_path
from assistant.model.embedder import make_embedder
from assistant.model.served_embedder import ServedEmbedder
from tests.servers import JsonHandler, Server, free_port, llama_embedding_server

COLLECTION = Path(__file__).parents[1] / "data" / "collections" / "arxiv-cv-robotics-2025q4.jsonl"
SERVED_NAME = f"served:{bundled_gguf_path().name}"  # llama.cpp servers list the GGUF's path

Reply = Callable[[dict[str, Any]], tuple[int, object]]


# -- a scripted server -----------------------------------------------------------------------------
class Scripted(http.server.ThreadingHTTPServer):
    """Lists model "m1" and answers each POST with `reply(request body)`; keeps the requests."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.reply = reply
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.drop_next = False  # close the next connection without an answer, as a dying server does

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/v1"


class Handler(JsonHandler):
    server: Scripted

    def do_GET(self) -> None:  # the http.server API's names
        self.send_json(200, {"object": "list", "data": [{"id": "m1", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body, dict(self.headers)))
        if self.server.drop_next:
            self.server.drop_next = False
            self.close_connection = True
            return
        self.send_json(*self.server.reply(body))



@pytest.fixture
def scripted() -> Iterator[Callable[[Reply], Scripted]]:
    started: list[Scripted] = []

    def start(reply: Reply) -> Scripted:
        server = Scripted(reply)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


def answers(vector: Callable[[str], object], reverse: bool = False) -> Reply:
    """Embeddings made by `vector(text)`, listed last-first when `reverse` (their indexes say where they go)."""
    def reply(body: dict[str, Any]) -> tuple[int, object]:
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(body["input"])]
        return 200, {"object": "list", "model": body["model"], "data": data[::-1] if reverse else data}
    return reply


# -- quick tests ------------------------------------------------------------------------------------
def test_vectors_come_back_in_order_in_batches_as_unit_vectors(scripted: Callable[[Reply], Scripted]) -> None:
    server = scripted(answers(lambda text: [float(len(text)), 1.0, 0.0], reverse=True))
    embedder = ServedEmbedder(server.url, batch_size=2, api_key="sekret")
    assert embedder.name == "served:m1"  # the server's first model: the vector space's name
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = embedder.embed(texts)
    assert [len(body["input"]) for _, body, _ in server.requests] == [1, 2, 2]  # one until it is seen to pool
    assert all(body["model"] == "m1" and path == "/v1/embeddings" for path, body, _ in server.requests)
    assert server.requests[0][2]["Authorization"] == "Bearer sekret"
    for text, vector in zip(texts, vectors):
        assert math.isclose(math.hypot(*vector), 1.0)
        assert math.isclose(vector[0] / vector[1], len(text))  # each text got its own vector back
    assert embedder.dim == 3 and len(server.requests) == 3  # known from the answers: no probe sent


def test_a_vector_per_token_is_averaged_one_text_a_time_and_queries_are_sent_once(
        scripted: Callable[[Reply], Scripted]) -> None:
    server = scripted(answers(lambda text: [[3.0, 0.0], [0.0, 1.0], [0.0, 2.0]]))  # three tokens
    embedder = ServedEmbedder(server.url, model="chosen")
    assert embedder.name == "served:chosen" and not server.requests  # a named model needs no listing
    assert embedder.dim == 2
    vector = embedder.embed_queries(["q", "q", "r"])
    assert all(math.isclose(x, math.sqrt(0.5)) for x in vector[0]) and vector[0] == vector[1]
    embedder.embed_queries(["r", "q"])
    assert [body["input"] for _, body, _ in server.requests] == [[served_embedder.PROBE], ["q"], ["r"]]


@pytest.mark.parametrize(("reply", "says"), [
    (lambda body: (500, {"error": "out of memory"}), r"answered 500 to POST /embeddings: .*out of memory"),
    (lambda body: (401, {"error": "no key"}), r"refused the API key \(set ASSISTANT_EMBED_API_KEY\)"),
    (lambda body: (404, {"detail": "Not Found"}), r"no model 'm1' or no embeddings endpoint .*ends in /v1"),
    (lambda body: (200, b"<html>hello</html>"), r"answered with '<html>hello</html>', which is not JSON"),
    (lambda body: (200, {"data": []}), r"answered with 0 embeddings for 1 text\(s\)"),
    (lambda body: (200, {"data": [{"embedding": [1.0]} for _ in body["input"]]}), r"an embedding without its index"),
    (lambda body: (200, {"data": [{"index": 1, "embedding": [1.0]} for _ in body["input"]]}),
     r"embeddings numbered \[1\] for 1 text"),
    (answers(lambda text: ["x", "y"]), r"not a list of numbers"),
    (answers(lambda text: [0.0, 0.0]), r"an all-zero embedding"),
    (answers(lambda text: [1.0] * len(text)), r"a vector of 2 dimensions after ones of 1"),
])
def test_a_bad_answer_is_a_clear_error(scripted: Callable[[Reply], Scripted], reply: Reply, says: str) -> None:
    server = scripted(reply)
    with pytest.raises(ModelError, match=rf"the embedding server at {server.url} .*{says}"):
        ServedEmbedder(server.url).embed(["a", "bb"])


def test_one_retry_after_a_dropped_connection_then_a_clear_error(
        scripted: Callable[[Reply], Scripted], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(served_embedder, "RETRY_AFTER_S", 0.01)
    server = scripted(answers(lambda text: [1.0, 2.0]))
    embedder = ServedEmbedder(server.url)
    server.drop_next = True
    assert len(embedder.embed(["a"])) == 1 and len(server.requests) == 2
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelError, match=rf"the embedding server at {dead} cannot be reached .*--embed-url"):
        ServedEmbedder(dead)


def test_the_settings_choose_the_served_embedder(scripted: Callable[[Reply], Scripted], tmp_path: Path) -> None:
    server = scripted(answers(lambda text: [1.0]))
    embedder = make_embedder(Settings(data_dir=tmp_path, embed_url=server.url, embed_model="e5", llm_timeout=7))
    assert isinstance(embedder, ServedEmbedder) and embedder.name == "served:e5" and embedder.timeout == 7


# -- the real command line on llama-cpp-python's server --------------------------------------------
def assistant(data_dir: Path, *argv: str, url: str | None = None, wait: bool = True) -> Any:
    """`assistant --data-dir DIR [--embed-url URL] ARGV` as a user runs it, in a process of its own."""
    command = [sys.executable, "-m", "assistant", "--data-dir", str(data_dir), *(["--embed-url", url] if url else []),
               *argv]
    env = os.environ | {"ASSISTANT_SEED_BUNDLED": "0", "ASSISTANT_CONFIG": str(data_dir.parent / "none.toml")}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=False)


def catalogue(data_dir: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
        return db.execute(query).fetchall()


def expected_passages(data_dir: Path) -> int:
    rows = catalogue(data_dir, "SELECT id, title, abstract FROM papers")
    return sum(len(make_passages(pid, title, abstract)) for pid, title, abstract in rows)


def assert_consistent(data_dir: Path, url: str, papers: int) -> None:
    done = assistant(data_dir, "check", "--json", url=url)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["consistent"] and report["pending_embeddings"] == 0, done.stdout
    assert report["papers"] == papers and report["passages"] == expected_passages(data_dir)


def embedding_server(tmp: Path, port: int) -> Server:
    return llama_embedding_server(bundled_gguf_path(), port, tmp)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[dict[str, Any]]]]:
    """A data directory holding eight arXiv papers embedded on the server (≈35 passages: the
    bundled model embeds about one passage a second on 2 cores)."""
    tmp = tmp_path_factory.mktemp("served")
    server = embedding_server(tmp, free_port())
    server.start()
    lines = COLLECTION.read_text(encoding="utf-8").splitlines()[:8]
    papers = tmp / "papers.jsonl"
    papers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = server.health.removesuffix("/models")
    data_dir = tmp / "data"
    done = assistant(data_dir, "ingest", str(papers), url=url)
    assert done.returncode == 0, done.stderr
    yield url, data_dir, [json.loads(line) for line in lines]
    server.stop()


@pytest.mark.slow
def test_ingest_search_and_check_through_the_server(served: tuple[str, Path, list[dict[str, Any]]]) -> None:
    url, data_dir, papers = served
    assert catalogue(data_dir, "SELECT key, value FROM meta WHERE key LIKE 'embedder%' ORDER BY key") == [
        ("embedder", SERVED_NAME), ("embedder_dim", "576")]  # SmolLM2-135M's width
    assert_consistent(data_dir, url, papers=len(papers))
    title = papers[3]["title"]
    done = assistant(data_dir, "search", title, "-k", "3", "--json", url=url)
    best = json.loads(done.stdout)["hits"][0]
    assert done.returncode == 0 and best["paper"]["title"] == title
    # the question went through the server too: the title's own passage is its nearest vector
    assert best["dense_rank"] == 1 and best["similarity"] > 0.99


@pytest.mark.slow
@pytest.mark.parametrize("other", [[], ["--embed-model", "another-model"]])
def test_any_other_embedder_is_refused(served: tuple[str, Path, list[dict[str, Any]]], other: list[str]) -> None:
    url, data_dir, _ = served
    done = assistant(data_dir, *other, "search", "humanoid robots", url=url if other else None)
    wanted = "served:another-model" if other else "all-MiniLM-L6-v2"
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: the store in {data_dir} holds vectors of embedder {SERVED_NAME!r}, "
                                  f"not {wanted!r}; run `assistant reindex`")


@pytest.mark.slow
def test_a_server_killed_mid_ingest_then_restarted_lets_the_next_ingest_finish(tmp_path: Path) -> None:
    papers = 300  # more than one EMBED_CHUNK (256 papers), so the kill falls between two chunks' writes
    page = tmp_path / "papers.jsonl"
    page.write_text("".join(json.dumps({"title": f"Study number {i} of served embeddings",
                                        "abstract": f"Variant {i} is short."}) + "\n" for i in range(papers)))
    port = free_port()
    server = embedding_server(tmp_path, port)
    server.start()
    url, data_dir = f"http://127.0.0.1:{port}/v1", tmp_path / "data"
    try:
        ingest = assistant(data_dir, "ingest", str(page), url=url, wait=False)
        embedded = 0
        deadline = time.monotonic() + 1200
        while embedded == 0 and ingest.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                embedded = catalogue(data_dir, "SELECT count(*) FROM papers WHERE embedded_hash IS NOT NULL")[0][0]
            except sqlite3.OperationalError:  # not created yet
                continue
        server.kill()
        _, err = ingest.communicate(timeout=300)
        assert ingest.returncode == 1 and "Traceback" not in err, err
        assert f"error: the embedding server at {url} cannot be reached" in err
        left = catalogue(data_dir, "SELECT count(*) FROM papers WHERE embedded_hash IS NULL")[0][0]
        assert 0 < left < papers  # killed half-way indeed: one chunk kept, the rest waiting
        server.start()  # on the same port
        again = assistant(data_dir, "ingest", str(page), url=url)
        assert again.returncode == 0, again.stderr
        assert_consistent(data_dir, url, papers=papers)
    finally:
        server.stop()
