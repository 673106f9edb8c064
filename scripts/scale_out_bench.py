"""Scale-out figures: concurrent one-shot questions against a model server and in-process, and
warm search with the vectors on a Chroma server against the embedded store.

    python scripts/scale_out_bench.py --data-dir DIR [--clients 1 4 8] [--searches 50]
        [--llama-server PATH/TO/llama-server --parallel 4]

DIR is an indexed data directory (a large one, such as the benchmark's 10,000-paper
synthetic collection, for the search figures). Its vectors are copied to a temporary Chroma
server; DIR itself is only read. Run it on an idle machine: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.core.settings import Settings  # noqa: E402
from assistant.core.tuning import Tuning  # noqa: E402
from assistant.model.chat import bundled_gguf_path  # noqa: E402
from assistant.retrieve.hybrid import search  # noqa: E402
from assistant.store.data_dir import open_store  # noqa: E402
from tests.servers import Server, chroma_server, free_port, llama_server, llama_server_binary  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval" / "dev.jsonl"


def questions(count: int) -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows[:count]]


def concurrent_asks(data_dir: Path, asked: list[str], extra: list[str]) -> dict[str, float]:
    """Start one `assistant ask` per question at once; wall time of the batch, and of each."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}

    def one(question: str) -> tuple[float, bool]:
        begun = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "assistant", "ask", question, "--json", *extra], env=env,
                              capture_output=True, text=True)
        return time.perf_counter() - begun, done.returncode in (0, 3) and bool(done.stdout.strip())

    started = time.perf_counter()
    with ThreadPoolExecutor(len(asked)) as pool:
        runs = list(pool.map(one, asked))
    return {"clients": len(asked), "batch_s": time.perf_counter() - started,
            "median_s": statistics.median(t for t, _ in runs), "completed": sum(ok for _, ok in runs)}


def warm_searches(settings: Settings, queries: list[str]) -> list[float]:
    store = open_store(settings)
    try:
        search(store, queries[0], Tuning())  # warm: stores open, encoder loaded
        times = []
        for query in queries:
            begun = time.perf_counter()
            search(store, query, Tuning())
            times.append((time.perf_counter() - begun) * 1000)
        return times
    finally:
        store.close()


def copy_vectors(data_dir: Path, url: str) -> Settings:
    """The data directory's vectors, copied into a server collection; settings that read them."""
    from assistant.store.data_dir import collection_name
    from assistant.store.vectors import ChromaStore

    local = Settings(data_dir=data_dir, seed_bundled=False)
    remote = Settings(data_dir=data_dir, seed_bundled=False, chroma_url=url)
    source = ChromaStore(local.vectors_path).collection
    target = ChromaStore(local.vectors_path, url=url, name=collection_name(remote), embedder="all-MiniLM-L6-v2").collection
    offset = 0
    while True:
        page = source.get(include=["embeddings", "metadatas"], limit=2000, offset=offset)
        if not page["ids"]:
            return remote
        target.add(ids=page["ids"], embeddings=page["embeddings"], metadatas=page["metadatas"])  # type: ignore[arg-type]
        offset += len(page["ids"])


def report_row(where: str, figures: dict[str, float]) -> dict[str, object]:
    row = {"where": where, **figures}
    print(json.dumps(row), flush=True)
    return row


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--searches", type=int, default=50)
    parser.add_argument("--llama-server", type=Path, help="also measure llama.cpp's llama-server binary")
    parser.add_argument("--parallel", type=int, nargs="+", default=[4], help="llama-server's slot counts")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scale-out-"))
    report: dict[str, object] = {}
    if not args.skip_search:
        queries = questions(args.searches)
        embedded = warm_searches(Settings(data_dir=args.data_dir, seed_bundled=False), queries)
        server = chroma_server(work / "chroma", free_port())
        server.start()
        try:
            remote = copy_vectors(args.data_dir, server.health.removesuffix("/api/v2/heartbeat"))
            on_server = warm_searches(remote, queries)
        finally:
            server.stop()
        report["search_ms"] = {name: {"p50": percentile(t, 0.5), "p95": percentile(t, 0.95)}
                               for name, t in (("embedded", embedded), ("chroma server", on_server))}
        print(json.dumps(report["search_ms"]), flush=True)
    if not args.skip_llm:
        rows = []
        if not args.skip_in_process:
            for clients in args.clients:
                rows.append(report_row("in-process", concurrent_asks(args.data_dir, questions(clients), [])))
        python_server = llama_server(bundled_gguf_path(), free_port(), work)
        python_server.command += ["--n_threads", str(os.cpu_count() or 1)]
        servers: list[tuple[str, Server]] = [("llama_cpp.server", python_server)]
        if args.llama_server:
            servers += [(f"llama-server --parallel {n}", llama_server_binary(args.llama_server, bundled_gguf_path(),
                                                                          free_port(), work, n))
                        for n in args.parallel]
        for where, server in servers:
            server.start()
            url = server.health.removesuffix("/models")
            try:
                for clients in args.clients:
                    rows.append(report_row(where, concurrent_asks(args.data_dir, questions(clients), ["--llm-url", url])))
            finally:
                server.stop()
        report["concurrent_asks"] = rows
    (work / "scale-out.json").write_text(json.dumps(report, indent=2))
    print(f"written to {work / 'scale-out.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
