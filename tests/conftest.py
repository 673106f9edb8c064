"""Shared fixtures: every user path points into a temp dir; the real embedder is loaded once."""

from __future__ import annotations

import os
import runpy
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.settings import Settings
from assistant.ingest.pipeline import bundled_pages, ingest
from assistant.model.embedder import LocalEmbedder
from assistant.store.data_dir import Store, open_store

NETGUARD = Path(__file__).parent / "netguard"


def pytest_configure(config: pytest.Config) -> None:
    """The whole suite runs without a network: the guard in tests/netguard makes connections
    beyond the loopback interface fail, here and in every Python process a test starts."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), os.environ.get("PYTHONPATH")]))
    runpy.run_path(str(NETGUARD / "sitecustomize.py"))
    # One cache for the whole run, out of the user's: the embedder is exported for ONNX Runtime
    # once (~10 s), then every test and every command a test starts loads it from there.
    cache = Path(tempfile.mkdtemp(prefix="assistant-test-cache-"))
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))  # ~150 MB of exported graphs
    os.environ["XDG_CACHE_HOME"] = str(cache)
    os.environ["ASSISTANT_CACHE_DIR"] = str(cache / "assistant")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that run the real GGUF model are `slow`, so `pytest -m "not slow"` is a quick loop."""
    for item in items:
        if "real_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the user's real data or config."""
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "config.toml"))
    for name in ("ASSISTANT_EMBEDDER", "ASSISTANT_SEED_BUNDLED"):
        monkeypatch.delenv(name, raising=False)


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed (and optionally failing)."""

    def __init__(self, real: LocalEmbedder, fail_after: int | None = None) -> None:
        self.real = real
        self.name = real.name
        self.texts = 0
        self.calls = 0
        self.fail_after = fail_after

    @property
    def dim(self) -> int:
        return self.real.dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        self.texts += len(texts)
        return self.real.embed(texts)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self.real.embed_queries(texts)


@pytest.fixture(scope="session")
def real_embedder() -> LocalEmbedder:
    return LocalEmbedder()


@pytest.fixture
def counting(real_embedder: LocalEmbedder) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


@pytest.fixture
def make_store(tmp_path: Path, real_embedder: LocalEmbedder) -> Iterator:
    """Factory for empty stores in this test's temp dir (no bundled seeding)."""
    opened: list[Store] = []

    def factory(name: str = "store", embedder: object | None = None) -> Store:
        settings = Settings(data_dir=tmp_path / name, seed_bundled=False)
        store = open_store(settings, embedder=embedder or real_embedder)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, real_embedder: LocalEmbedder) -> Iterator[Store]:
    """The bundled collection, indexed once for every read-only test."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("sample"), seed_bundled=False)
    store = open_store(settings, embedder=real_embedder)
    ingest(store, bundled_pages(), bundled=True)
    yield store
    store.close()


def indexed_dir(data_dir: Path, embedder: LocalEmbedder, papers: int, page: Path) -> Path:
    """`data_dir` holding `papers` fake papers, saved to `page` and ingested, then closed as a
    finished command leaves it (the catalogue file holds everything); returns the page."""
    page.write_text(daily_page(fake_papers(papers)))
    store = open_store(Settings(data_dir=data_dir, seed_bundled=False), embedder=embedder)
    ingest(store, [page])
    store.close()
    return page


def daily_page(papers: list[dict[str, object]], header_date: str = "Jan 5") -> str:
    """A page in the `daily` layout (with metadata lines) built from dicts."""
    parts = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
             "byAK and the research community", header_date]
    for paper in papers:
        parts += [str(paper["title"]), str(paper["abstract"])]
        if "authors" in paper:
            parts.append(f"  • {paper['authors']} authors\n·\n{paper['date']}")
    return "\n\n".join(parts) + "\n"


def fake_papers(count: int, topic: str = "graph") -> list[dict[str, object]]:
    """Distinct synthetic papers with multi-sentence abstracts."""
    return [
        {
            "title": f"Study number {i} of {topic} learning methods",
            "abstract": (
                f"We study variant {i} of {topic} learning. Our method improves accuracy by {i + 3} points. "
                f"Experiments on {i + 2} datasets confirm the gains. The code is public."
            ),
            "authors": i + 1,
            "date": f"Mar {i % 28 + 1}, 2024",
        }
        for i in range(count)
    ]


class ScriptedModel:
    """A chat model that always writes the same text: for checks where a real model's output
    cannot be controlled (what verification does with an invented sentence)."""

    def __init__(self, script: str, n_ctx: int = 4096, name: str = "scripted") -> None:
        self.script = script
        self.n_ctx = n_ctx
        self.name = name
        self.calls: list[list[dict[str, str]]] = []
        self.samplings: list[object] = []

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, messages, sampling):  # noqa: ANN001, ANN201 - ChatModel protocol
        self.calls.append(messages)
        self.samplings.append(sampling)
        for word in self.script.split(" "):
            yield word + " "


@pytest.fixture(scope="session")
def real_model():
    """The bundled GGUF model, loaded once."""
    from assistant.model.chat import load_model

    return load_model(None, n_ctx=4096, n_threads=None, n_gpu_layers=0)
