"""The embedder's figures: exporting it for ONNX Runtime (once per machine), its start-up and
query time against sentence-transformers on torch, each in a process of its own."""

from __future__ import annotations

import json
import sys

from assistant.measure.bench.commands import Bench
from assistant.measure.bench.measure import median, run
from assistant.measure.bench.report import Figure

QUERIES = ["What is the reversal curse?", "how do robots grasp transparent objects", "diffusion policy",
           "Which benchmarks measure long-context retrieval in language models?"]

# Start-up (imports, loading, the first query) and each later query's time, as JSON.
TIMED = """
import json, sys, time
started = time.perf_counter()
queries = json.loads(sys.argv[3])
if sys.argv[1] == "ours":
    from pathlib import Path
    from assistant.model.embedder import LocalEmbedder
    embedder = LocalEmbedder(cache_dir=Path(sys.argv[2]))
    encode = lambda text: embedder.embed_queries([text])
else:
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(sys.argv[2], local_files_only=True)
    encode = lambda text: model.encode([text], normalize_embeddings=True)
encode("a first query")
start_up = time.perf_counter() - started
times = []
for round_ in range(5):
    for query in queries:
        began = time.perf_counter()
        encode(f"{query} ({round_})")
        times.append(time.perf_counter() - began)
print(json.dumps({"start_up": start_up, "query": sorted(times)[len(times) // 2]}))
"""


def encoder(bench: Bench) -> list[Figure]:
    from assistant.model.embedder import bundled_encoder_path

    bench.announce("the embedder: export for ONNX Runtime (once), start-up and query time against torch")
    env = bench.env(bench.collection)
    # in a cache of its own: the commands' cache was filled by first use (its calibration searches)
    export = run([sys.executable, "-c", TIMED, "ours", str(bench.work / "export-cache"), json.dumps(QUERIES[:1])], env)
    ours, theirs = [], []
    for _ in range(max(3, bench.rounds)):
        ours.append(json.loads(run([sys.executable, "-c", TIMED, "ours", str(bench.cache), json.dumps(QUERIES)], env).stdout))
        theirs.append(json.loads(run([sys.executable, "-c", TIMED, "torch", str(bundled_encoder_path()),
                                      json.dumps(QUERIES)], env).stdout))
    return [Figure("embedder: export for ONNX Runtime, then a query (once per machine)", export.wall, "s"),
            Figure("embedder start-up and first query", median([r["start_up"] for r in ours]), "s",
                   median([r["start_up"] for r in theirs]), "sentence-transformers (torch)", max_ratio=1.0),
            Figure("embedder: one query", median([r["query"] for r in ours]) * 1000, "ms",
                   median([r["query"] for r in theirs]) * 1000, "sentence-transformers (torch)", max_ratio=1.0)]
