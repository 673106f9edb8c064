"""What the assistant sends to servers that cannot run here: vLLM (a GPU server) and a hosted
OpenAI-compatible API. A small recording server plays their parts: their model list (whose
`owned_by` tells the kind), vLLM's tokenize endpoint, and a streamed chat completion. The
llama.cpp servers are tested for real in test_llm_server.py."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from textual.visual import visualize

from assistant.core.settings import Settings
from assistant.face.tui.widgets import StatusBar
from assistant.model.chat import Sampling
from assistant.model.served import ServerModel, estimate_tokens
from assistant.session import Session
from assistant.store.data_dir import Store
from tests.servers import JsonHandler

GRAMMAR = 'root ::= "yes" | "no"'
CONSTRAINT_FIELDS = {"grammar", "structured_outputs", "guided_grammar", "repeat_penalty", "repetition_penalty"}


class Recording(JsonHandler):
    """An OpenAI-compatible server of kind `owner` that answers "yes" and keeps each request."""

    owner = "vllm"
    model_id = "served"
    requests: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path != "/v1/models":
            return self.send_json(404, {"error": {"message": "not found"}})
        self.send_json(200, {"object": "list", "data": [{"id": self.model_id, "object": "model", "created": 0,
                                                     "owned_by": self.owner}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize" and self.owner == "vllm":
            if "prompt" not in body:  # vLLM validates the body: llama-server's shape is refused
                return self.send_json(400, {"error": {"message": "field required: prompt"}})
            return self.send_json(200, {"count": len(body["prompt"].split()), "max_model_len": 4096, "tokens": [1]})
        if self.path != "/v1/chat/completions":
            return self.send_json(404, {"error": {"message": "not found"}})
        type(self).requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for delta, finish in (({"content": "yes"}, None), ({}, "stop")):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "served",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")



@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(owner: str, model_id: str = "served") -> tuple[str, list[dict[str, Any]]]:
        handler = type("Handler", (Recording,), {"owner": owner, "model_id": model_id, "requests": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/v1", handler.requests

    yield start
    for server in servers:
        server.shutdown()


def answer(model: ServerModel) -> str:
    messages = [{"role": "user", "content": "Is it?"}]
    return "".join(model.stream(messages, Sampling(max_tokens=8, grammar=GRAMMAR, repeat_penalty=1.3)))


@pytest.mark.parametrize(("setting", "field", "sent"), [
    ("auto", "structured_outputs", {"grammar": GRAMMAR}),  # vLLM 0.12 and later
    ("guided_grammar", "guided_grammar", GRAMMAR),  # older vLLM
])
def test_vllm_gets_the_grammar_in_its_own_field(serve: Any, setting: str, field: str, sent: object) -> None:
    url, requests = serve("vllm")
    model = ServerModel(url, grammar=setting)
    assert answer(model) == "yes"
    body = requests[-1]
    assert body[field] == sent and body["model"] == "served" and body["stream"] is True
    assert model.name == "served"  # a name that is not a file's path is shown as it is
    assert body["repetition_penalty"] == 1.3  # vLLM's name for the sampling penalty
    assert CONSTRAINT_FIELDS & body.keys() == {field, "repetition_penalty"}
    # tokens are counted by vLLM's tokenize endpoint, in its request shape
    assert model.count_tokens("three words here") == 3


def test_a_hosted_api_gets_only_openai_fields(serve: Any) -> None:
    url, requests = serve("openai")
    model = ServerModel(url)
    assert model.grammar_style == "none"
    assert answer(model) == "yes"
    assert not CONSTRAINT_FIELDS & requests[-1].keys()  # a hosted API may refuse fields it does not know
    text = "No tokenize endpoint here, so the count is a high estimate."
    assert model.count_tokens(text) == estimate_tokens(text)


HOSTILE = "gpt\x1b]52;c;cm0gLXJm\x07-[bold]4[/bold]\x1b[2J"  # sets the clipboard, clears the screen; markup


def test_a_servers_model_name_reaches_the_terminal_inert(serve: Any, sample_store: Store) -> None:
    """The name comes from the server: its control sequences are removed wherever it is shown
    (the one-shot footer, the chat's status bar) and its brackets shown as written."""
    url, _ = serve("openai", HOSTILE)
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "What is the reversal curse?", "--llm-url", url,
                           "--data-dir", str(sample_store.settings.data_dir)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    assert "gpt-[bold]4[/bold]" in done.stderr
    settings = Settings(data_dir=sample_store.settings.data_dir, seed_bundled=False, llm_url=url)
    shown = Session.open(settings, store=sample_store).load_model()
    assert shown == f"gpt-[bold]4[/bold] on {url.removeprefix('http://').removesuffix('/v1')}"
    bar = StatusBar()
    bar.model = shown
    assert visualize(bar, bar.render()).plain.startswith("gpt-[bold]4[/bold] on ")  # drawn as text, not markup
