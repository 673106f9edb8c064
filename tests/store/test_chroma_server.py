"""The vectors on a real Chroma server (`chroma run` on a free loopback port): ingest,
re-ingest, search, reindex, answers and the chat behave as with the embedded store; the
embedder check holds on the server; a server that is down or dies mid-ingest is a clear
message, and the next run finishes the work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Markdown

import assistant.ingest.pipeline
from assistant.answer.ask import Context, ask
from assistant.core.errors import StoreError
from assistant.core.settings import Settings
from assistant.core.tuning import Tuning
from assistant.face.tui.app import AssistantApp
from assistant.ingest.pipeline import bundled_pages, ingest
from assistant.model.embedder import LocalEmbedder
from assistant.retrieve.hybrid import search
from assistant.session import Stream
from assistant.store.check import check
from assistant.store.data_dir import Store, open_store
from assistant.store.sync import reindex
from tests.conftest import CountingEmbedder, daily_page, fake_papers
from tests.face.test_tui import ask as ask_in_chat
from tests.servers import Server, chroma_server, free_port

QUERY = "why do language models fail to reverse facts"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = chroma_server(tmp_path / "server", free_port())
    started.start()
    yield started
    started.stop()


def url_of(server: Server) -> str:
    return server.health.removesuffix("/api/v2/heartbeat")


@pytest.fixture
def open_on(tmp_path: Path, real_embedder: LocalEmbedder) -> Iterator:
    """Factory for stores whose vectors live on a server."""
    opened: list[Store] = []

    def factory(url: str, name: str = "data", embedder: object | None = None, **settings: object) -> Store:
        store = open_store(Settings(data_dir=tmp_path / name, seed_bundled=False, chroma_url=url, **settings),  # type: ignore[arg-type]
                           embedder=embedder or real_embedder)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


def test_a_server_store_behaves_like_the_embedded_one(server: Server, open_on, sample_store: Store,
                                                      real_embedder: LocalEmbedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(real_embedder)
    store = open_on(url_of(server), embedder=counting)
    ingest(store, bundled_pages(), bundled=True)
    assert store.vectors.count() == sample_store.vectors.count()
    ours = search(store, QUERY, Tuning(), k=5)
    embedded = search(sample_store, QUERY, Tuning(), k=5)
    assert [h.paper.id for h in ours.hits] == [h.paper.id for h in embedded.hits]
    assert [h.passage for h in ours.hits] == [h.passage for h in embedded.hits]
    assert ours.covered == embedded.covered
    assert check(store).consistent

    calls = counting.calls
    assert {r.status for r in ingest(store, bundled_pages(), bundled=True)} == {"unchanged"}
    assert counting.calls == calls  # nothing embedded again

    # another data directory gets its own collection on the same server
    other = open_on(url_of(server), name="colleague")
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(3)))
    ingest(other, [page])
    assert other.vectors.count() < store.vectors.count() == sample_store.vectors.count()
    assert other.vectors.name != store.vectors.name  # type: ignore[attr-defined]

    assert reindex(store) == store.catalog.counts()["papers"]
    assert check(store).consistent and check(other).consistent


def test_the_embedder_check_holds_on_the_server(server: Server, open_on, real_embedder, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(3)))
    ingest(open_on(url_of(server), collection="shared"), [page])
    other = CountingEmbedder(real_embedder)
    other.name = "some-other-embedder"
    mixed = open_on(url_of(server), name="other", embedder=other, collection="shared")
    with pytest.raises(StoreError, match="holds vectors of embedder 'all-MiniLM-L6-v2'.*assistant reindex"):
        ingest(mixed, [page])


class KillingEmbedder(CountingEmbedder):
    """Embeds, and pulls the server's plug once it has been called `kill_at` times."""

    def __init__(self, real: LocalEmbedder, server: Server, kill_at: int) -> None:
        super().__init__(real)
        self.server = server
        self.kill_at = kill_at

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = super().embed(texts)
        if self.calls == self.kill_at:
            self.server.kill()
        return vectors


def test_an_ingest_cut_off_by_a_lost_server_finishes_on_the_next_run(server: Server, open_on, real_embedder,
                                                                      tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(assistant.store.sync, "EMBED_CHUNK", 8)  # 20 papers: three chunks; the server dies in the second
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(20)))
    store = open_on(url_of(server), embedder=KillingEmbedder(real_embedder, server, kill_at=2))
    with pytest.raises(StoreError, match=rf"the Chroma server at {url_of(server)} cannot be reached"):
        ingest(store, [page])
    assert store.catalog.counts()["pending_embeddings"] == 12  # the first chunk was written and marked

    server.start()  # the same data, the same port
    again = open_on(url_of(server), name="data")
    assert [r.status for r in ingest(again, [page])] == ["unchanged"]
    report = check(again)
    assert report.consistent and report.papers == 20 and not report.pending


def test_a_server_that_is_down_is_one_clear_message(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run([sys.executable, "-m", "assistant", "search", "reversal curse", "--chroma-url", closed,
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"the Chroma server at {closed} cannot be reached" in done.stderr and "chroma run" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_cited_answer_and_a_chat_turn_from_server_vectors(server: Server, open_on, real_model,
                                                                 tmp_path: Path) -> None:
    store = open_on(url_of(server))
    ingest(store, bundled_pages(), bundled=True)
    result = Stream(ask(Context(store, real_model), "What ANLS score does Vary-toy reach on DocVQA")).result
    assert result.status == "answered" and result.cited_sources()
    assert all(c.supported for c in result.claims)

    app = AssistantApp(Settings(data_dir=tmp_path / "chat", seed_bundled=False, chroma_url=url_of(server)),
                       store=store, model=real_model)
    async with app.run_test(size=(100, 30)) as pilot:
        block = await ask_in_chat(app, pilot, "What ANLS score does Vary-toy reach on DocVQA")
        assert block.result["status"] == "answered"
        assert "(cite:1)" in block.query_one(".answer", Markdown).source
