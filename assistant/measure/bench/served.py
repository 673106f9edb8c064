"""Ingest through an embedding server: llama-cpp-python's OpenAI-compatible server started
here with the bundled GGUF and embeddings on, and `assistant ingest --embed-url` against it.
The rate is that of this setup on this machine (a chat model's per-token vectors, averaged),
not of a dedicated embedding server on its own hardware: it shows the path works end to end
and what it costs here."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

from assistant.measure.bench.commands import Bench, stored_passages
from assistant.measure.bench.measure import BenchError
from assistant.measure.bench.report import Figure
from assistant.measure.bench.synthetic import write_collection

START_S = 120.0  # for the server to load the model and answer


def served_ingest(bench: Bench, papers: int) -> list[Figure]:
    import httpx

    from assistant.model.chat import bundled_gguf_path

    try:
        import llama_cpp.server  # noqa: F401 - only whether the server extra is installed
    except ImportError:
        bench.announce("llama-cpp-python's server is not installed (pip install 'llama-cpp-python[server]'): "
                       "the embedding-server figure is left out")
        return []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}/v1"
    log = (bench.work / "embed-server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "assistant.model.llama_load", "--model", str(bundled_gguf_path()),
                               "--host", "127.0.0.1", "--port", str(port), "--embedding", "true", "--n_ctx", "2048"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        bench.announce(f"ingest of {papers} papers through an embedding server (llama.cpp's, bundled GGUF)")
        deadline = time.monotonic() + START_S
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the embedding server did not start (see {bench.work / 'embed-server.log'})")
            time.sleep(0.2)
        source = write_collection(bench.work / f"served-{papers}.jsonl", papers, seed=5)
        target = bench.work / f"served-{papers}"
        timed = bench.assistant(target, "--embed-url", url, "ingest", str(source), seed_bundled=False)
        count = len(stored_passages(target))
        shutil.rmtree(target)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return [Figure(f"ingest through an embedding server ({papers} papers, {count} passages)", count / timed.wall,
                   "passages/s", note="llama.cpp's server, bundled GGUF, this machine")]
