"""No network at run time: ingest, search and ask must not open a single socket.

(The whole suite also runs behind tests/netguard, which makes any non-loopback connection fail.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.settings import Settings
from assistant.core.tuning import Tuning
from assistant.ingest.pipeline import ingest
from assistant.model.embedder import LocalEmbedder
from assistant.retrieve.hybrid import search
from assistant.store.data_dir import open_store
from tests.conftest import NETGUARD, daily_page, fake_papers


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
    store = open_store(Settings(data_dir=tmp_path / "store", seed_bundled=False), embedder=LocalEmbedder())
    reports = ingest(store, [page])
    assert reports[0].status == "added"
    result = search(store, "graph learning accuracy", Tuning(), k=2)
    assert len(result.hits) == 2
    store.close()
    assert attempts == []


def clean_env(tmp_path: Path) -> dict[str, str]:
    """A bare environment: no HF_HUB_OFFLINE or any other switch set by the user, only the
    guard that logs every connection attempt (loopback and local sockets included)."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
            "PYTHONPATH": str(NETGUARD), "ASSISTANT_TEST_NET_LOG": str(tmp_path / "net.log"),
            "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_SEED_BUNDLED": "0"}


def test_the_guard_sees_a_connection_attempt(tmp_path: Path) -> None:
    """The check below could fail: an attempt in such an environment is logged (and refused)."""
    probe = "import socket\ntry:\n socket.create_connection(('192.0.2.1', 80), timeout=0.5)\nexcept OSError as e: print(e)"
    run = subprocess.run([sys.executable, "-c", probe], env=clean_env(tmp_path), capture_output=True, text=True)
    assert "network access is disabled" in run.stdout or "name lookups are disabled" in run.stdout
    assert "192.0.2.1" in (tmp_path / "net.log").read_text()


def test_ingest_and_ask_in_a_clean_environment_try_no_connection(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    page = tmp_path / "page.txt"
    page.write_text(daily_page(fake_papers(3)))
    for command in (["ingest", str(page)], ["ask", "How much does variant 1 of graph learning improve accuracy?"]):
        run = subprocess.run([sys.executable, "-m", "assistant", *command], env=env, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode in (0, 3), run.stderr[-2000:]
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()
