"""Crash safety, proven: `assistant ingest` of 2,000 synthetic abstracts killed with SIGKILL at
a random moment, then the next command finishes the job, and the catalogue and the vectors
agree exactly: every paper once, no orphan passage, nothing left to embed.

The trials embed with a one-layer copy of the bundled MiniLM, saved as a local
sentence-transformers folder: the same code path (the `embedder` setting, torch, Chroma),
at a quarter of the time, so that twenty trials over thousands of abstracts fit in CI."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PAPERS = 2000
WORDS = ("sparse spiking graph latent causal kernel bayesian diffusion robotic neural protein quantum "
         "contrastive recurrent attention manifold stochastic symbolic federated adversarial").split()


def synthetic(path: Path, seed: int, count: int = PAPERS) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        topic = " ".join(rng.sample(WORDS, 3))
        rows.append({"title": f"Trial paper {i}: {topic} methods for task {rng.randrange(10**6)}",
                     "abstract": " ".join(f"We study {topic} model {i} variant {j}, reaching {rng.randrange(100)} points "
                                          f"on {rng.choice(WORDS)} benchmarks." for j in range(rng.randrange(2, 7)))})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture(scope="module")
def quick_embedder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentence_transformers import SentenceTransformer

    from assistant.model.embedder import bundled_encoder_path

    model = SentenceTransformer(str(bundled_encoder_path()), local_files_only=True)
    bert = model[0].auto_model
    bert.encoder.layer = bert.encoder.layer[:1]
    bert.config.num_hidden_layers = 1
    folder = tmp_path_factory.mktemp("embedder") / "minilm-one-layer"
    model.save(str(folder))
    return folder


def assistant(data_dir: Path, embedder: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ASSISTANT_SEED_BUNDLED": "0", "ASSISTANT_EMBEDDER": str(embedder)}
    return subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


# A soak: each trial takes about 40 s. CI runs SOAK_TRIALS (default 3: killed early, mid-way and
# late); `SOAK_TRIALS=20 python -m pytest -m soak` is the full run. The quick loop's check of an
# interrupted ingest is test_pipeline's simulated interruption.
TRIALS = [pytest.param(n, marks=[pytest.mark.slow, pytest.mark.soak]) for n in range(int(os.environ.get("SOAK_TRIALS", "3")))]


def kill_after(trial: int) -> float:
    """Seconds before the kill: the first three trials at the start, the middle and the end
    of the ingest (start-up takes ~5 s, the whole ingest ~40 s), later ones at random."""
    return (3.0, 18.0, 33.0)[trial] if trial < 3 else random.Random(trial).uniform(2.0, 36.0)


@pytest.mark.parametrize("trial", TRIALS)
def test_sigkill_during_ingest_loses_nothing(trial: int, tmp_path: Path, quick_embedder: Path) -> None:
    source = tmp_path / "papers.jsonl"
    synthetic(source, trial)
    data_dir = tmp_path / "data"
    run = assistant(data_dir, quick_embedder, "ingest", str(source))
    time.sleep(kill_after(trial))
    mid_run = run.poll() is None
    run.send_signal(signal.SIGKILL)
    run.wait(30)
    out, _ = assistant(data_dir, quick_embedder, "ingest", str(source)).communicate(timeout=600)  # the next command
    check = assistant(data_dir, quick_embedder, "check", "--json")
    report = json.loads(check.communicate(timeout=300)[0])
    assert report["consistent"], (out.decode()[-2000:], report)
    assert report["papers"] == PAPERS and report["pending_embeddings"] == 0
    print(f"\ntrial {trial}: killed {'mid-run' if mid_run else 'after the end'}; "
          f"{report['papers']} papers, {report['passages']} passages, consistent")
