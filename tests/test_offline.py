"""No network at run time: ingest and search must not open a single socket."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embed import SentenceTransformerEmbedder
from assistant.index import ingest
from assistant.retrieve import search
from assistant.store import open_store
from assistant.tuning import Tuning
from tests.conftest import daily_page, fake_papers


class NetworkUsed(AssertionError):
    pass


def test_ingest_and_search_open_no_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(4)))
    # A fresh embedder and a fresh Chroma client, so that model and client loading are covered.
    store = open_store(Settings(data_dir=tmp_path / "store", seed_bundled=False), embedder=SentenceTransformerEmbedder())
    reports = ingest(store, [page])
    assert reports[0].status == "added"
    result = search(store, "graph learning accuracy", Tuning(), k=2)
    assert len(result.hits) == 2
    store.close()
    assert attempts == []
