"""Generation on a real OpenAI-compatible server (`python -m llama_cpp.server` with the bundled
model, on a free loopback port): cited answers and a chat turn through the same pipeline, the
grammar sent with the request, the server's token counts, and clear errors when the server is
down, too slow, failing, or killed half-way through an answer.

The same tests also run against llama.cpp's own `llama-server` where one is installed (on the
PATH, or named by ASSISTANT_TEST_LLAMA_SERVER); pip does not ship it."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Markdown

from assistant.answer.ask import Context, ask
from assistant.core.settings import Settings
from assistant.face.tui.app import AssistantApp
from assistant.face.tui.widgets import StatusBar
from assistant.model.chat import ModelError, Sampling, bundled_gguf_path
from assistant.model.served import ServerModel, estimate_tokens
from assistant.session import Stream
from assistant.store.data_dir import Store
from tests.face.test_tui import ask as ask_in_chat
from tests.servers import Server, free_port, llama_server, llama_server_binary

pytestmark = pytest.mark.slow  # a real model answers on the server
QUESTION = "What ANLS score does Vary-toy reach on DocVQA"


def installed_llama_server() -> Path | None:
    found = os.environ.get("ASSISTANT_TEST_LLAMA_SERVER") or shutil.which("llama-server")
    return Path(found) if found else None


@pytest.fixture(scope="module", params=["llama_cpp.server", "llama-server"])
def shared_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    logs = tmp_path_factory.mktemp("llama")
    if request.param == "llama_cpp.server":
        started = llama_server(bundled_gguf_path(), free_port(), logs)
    else:
        binary = installed_llama_server()
        if binary is None:
            pytest.skip("llama.cpp's llama-server is not installed")
        started = llama_server_binary(binary, bundled_gguf_path(), free_port(), logs, parallel=2)
    started.start()
    yield started
    started.stop()


def url_of(server: Server) -> str:
    return server.health.removesuffix("/models")


def test_a_cited_answer_through_the_server(shared_server: Server, sample_store: Store) -> None:
    model = ServerModel(url_of(shared_server))
    assert model.grammar_style == "grammar"  # both llama.cpp servers take its grammar field
    # they name the model by its file's path on the server: requests send it, the user sees the file
    assert model.served.endswith(f"/{bundled_gguf_path().name}") and model.name == bundled_gguf_path().name
    result = Stream(ask(Context(sample_store, model), QUESTION)).result
    assert result.status == "answered" and result.cited_sources()
    assert all(c.supported and c.citations for c in result.claims)
    assert any("65.6" in c.text for c in result.claims)


def test_the_grammar_travels_with_the_request(shared_server: Server) -> None:
    model = ServerModel(url_of(shared_server))
    messages = [{"role": "user", "content": "Write a long story about a dragon."}]
    constrained = "".join(model.stream(messages, Sampling(max_tokens=8, grammar='root ::= "yes" | "no"')))
    assert constrained in ("yes", "no")
    free = "".join(ServerModel(url_of(shared_server), grammar="none").stream(
        messages, Sampling(max_tokens=8, grammar='root ::= "yes" | "no"')))
    assert free not in ("yes", "no")  # without the field the model writes what it likes


def test_token_counts_come_from_the_server(shared_server: Server, real_model) -> None:
    model = ServerModel(url_of(shared_server))
    texts = ["What is the reversal curse?", "Vary-toy reaches 65.6% ANLS on DocVQA and 59.1% on ChartQA."]
    assert [model.count_tokens(t) for t in texts] == [real_model.count_tokens(t) for t in texts]
    # the estimate for servers that cannot count errs on the high side
    prompt = Path(__file__).parents[2].joinpath("README.md").read_text(encoding="utf-8")[:4000]
    assert estimate_tokens(prompt) >= real_model.count_tokens(prompt)


async def test_a_chat_turn_with_the_model_on_a_server(shared_server: Server, sample_store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "chat", seed_bundled=False, llm_url=url_of(shared_server))
    app = AssistantApp(settings, store=sample_store)
    async with app.run_test(size=(100, 30)) as pilot:
        block = await ask_in_chat(app, pilot, QUESTION)
        assert block.result["status"] == "answered"
        assert "(cite:1)" in block.query_one(".answer", Markdown).source
        # the status bar names the served file and the server, not the file's whole path
        where = url_of(shared_server).removeprefix("http://").removesuffix("/v1")
        assert app.query_one(StatusBar).model == f"{bundled_gguf_path().name} on {where}"


def test_a_server_killed_mid_answer_leaves_no_answer(sample_store: Store, tmp_path: Path) -> None:
    server = llama_server(bundled_gguf_path(), free_port(), tmp_path)
    server.start()
    try:
        stream = Stream(ask(Context(sample_store, ServerModel(url_of(server))), QUESTION))
        pieces = iter(stream)
        next(pieces)  # the answer has started
        server.kill()
        with pytest.raises(ModelError, match="in the middle of the answer; what it had written was not kept"):
            for _ in pieces:
                pass
    finally:
        server.stop()


def test_a_server_that_is_down_is_one_clear_message(sample_store: Store) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", QUESTION, "--llm-url", closed,
                           "--data-dir", str(sample_store.settings.data_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"the model server at {closed} cannot be reached" in done.stderr and "Traceback" not in done.stderr


class Failing(http.server.BaseHTTPRequestHandler):
    """A server that answers every request with a 503, as an overloaded one would."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"message": "overloaded, try later"}}')

    def log_message(self, *args: object) -> None:
        pass


def test_error_statuses_and_silence_are_clear_messages() -> None:
    failing = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=failing.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ModelError, match=r"answered 503: .*overloaded"):
            ServerModel(f"http://127.0.0.1:{failing.server_port}/v1")
    finally:
        failing.shutdown()
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        with pytest.raises(ModelError, match=r"did not answer within 1 s"):
            ServerModel(url, timeout=1)
