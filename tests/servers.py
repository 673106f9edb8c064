"""Real servers for the scale-out tests, on 127.0.0.1 and free ports chosen at run time, with
bounded waits for them to answer (polling, never a fixed sleep)."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 90.0


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """A request handler for scripted servers: answers JSON (or given bytes), logs nothing."""

    def send_json(self, status: int, body: object) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A server process started from a command line, ready once `health` answers 200."""

    def __init__(self, command: list[str], health: str, log: Path) -> None:
        self.command = command
        self.health = health
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.health, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.command[0]} did not answer {self.health} within {START_TIMEOUT_S:.0f} s")

    def kill(self) -> None:
        """Stop it the hard way, as a crash or a pulled cable would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def chroma_server(path: Path, port: int) -> Server:
    """`chroma run` (the command that ships with chromadb), keeping its data in `path`."""
    chroma = Path(sys.executable).parent / "chroma"
    return Server([str(chroma), "run", "--path", str(path), "--port", str(port)],
                  f"http://127.0.0.1:{port}/api/v2/heartbeat", path.parent / f"chroma-{port}.log")


def llama_server(model: Path, port: int, log_dir: Path) -> Server:
    """llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, started through
    `assistant.model.llama_load` so that it loads safely on an AMX CPU) on `model`.
    Requests queue rather than cut each other off (by default a new request interrupts the one
    being streamed)."""
    return Server([sys.executable, "-m", "assistant.model.llama_load", "--model", str(model), "--host", "127.0.0.1",
                   "--port", str(port), "--n_ctx", "2048", "--interrupt_requests", "False"],
                  f"http://127.0.0.1:{port}/v1/models", log_dir / f"llama-{port}.log")


def llama_server_binary(binary: Path, model: Path, port: int, log_dir: Path, parallel: int,
                        slot_ctx: int = 2048) -> Server:
    """llama.cpp's own `llama-server` with `parallel` slots of `slot_ctx` tokens each, which
    batches the questions it holds together."""
    return Server([str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
                   "-c", str(slot_ctx * parallel), "--parallel", str(parallel)],
                  f"http://127.0.0.1:{port}/v1/models", log_dir / f"llama-server-{port}.log")


def llama_embedding_server(model: Path, port: int, log_dir: Path) -> Server:
    """llama-cpp-python's server with embeddings on (`--embedding true`), through
    `assistant.model.llama_load` as above. With a chat model's GGUF (no pooling of its own) its
    /v1/embeddings answers with a vector per token, which `ServedEmbedder` averages."""
    return Server([sys.executable, "-m", "assistant.model.llama_load", "--model", str(model), "--host", "127.0.0.1",
                   "--port", str(port), "--embedding", "true", "--n_ctx", "2048"],
                  f"http://127.0.0.1:{port}/v1/models", log_dir / f"llama-embed-{port}.log")
