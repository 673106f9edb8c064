"""Figures measured inside one process: the model's generation rate through the whole answer
pipeline against bare llama-cpp-python with the same prompt, grammar and threads; the KV
cache's reuse between questions; and search latency on a warm store."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.measure.bench.commands import QUESTION, Bench
from assistant.measure.bench.measure import median, percentile
from assistant.measure.bench.report import Figure
from assistant.model.chat import ChatModel, LlamaCppModel, Sampling

FOLLOW_UP = "How was the reversal curse tested?"


@dataclass
class Recorder:
    """A model that remembers each prompt and decoding setting it was given."""

    model: ChatModel
    calls: list[tuple[list[dict[str, str]], Sampling]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def n_ctx(self) -> int:
        return self.model.n_ctx

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def stream(self, messages: list[dict[str, str]], sampling: Sampling) -> Iterator[str]:
        self.calls.append((messages, sampling))
        return self.model.stream(messages, sampling)


@dataclass(frozen=True)
class Timed:
    first: float  # seconds to the first piece
    rate: float  # pieces per second after the first
    pieces: int


def timed(pieces: Iterable[str]) -> Timed:
    started = time.perf_counter()
    stamps = [time.perf_counter() for _ in pieces]
    if not stamps:
        return Timed(0.0, 0.0, 0)
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return Timed(stamps[0] - started, rate, len(stamps))


def _bare(llama: object, messages: list[dict[str, str]], sampling: Sampling, grammar: bool) -> Iterator[str]:
    from llama_cpp import LlamaGrammar

    constraint = LlamaGrammar.from_string(sampling.grammar, verbose=False) if grammar and sampling.grammar else None
    for chunk in llama.create_chat_completion(  # type: ignore[attr-defined]
            messages=messages, max_tokens=sampling.max_tokens, temperature=sampling.temperature, top_p=sampling.top_p,
            repeat_penalty=sampling.repeat_penalty, seed=sampling.seed, grammar=constraint, stream=True):
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            yield piece


def generation(bench: Bench) -> list[Figure]:
    """Tokens per second of an answer streamed through `Session.ask` against bare
    llama-cpp-python given the very prompt and grammar the pipeline built; the grammar's cost
    (bare, without it); and the time to the first token of a next question with the KV cache
    of the previous one kept (llama.cpp reuses the shared prefix) or cleared."""
    from llama_cpp import Llama

    from assistant.core.settings import Settings
    from assistant.model.llama_load import load
    from assistant.session import Session

    bench.announce("generation through the pipeline against bare llama-cpp-python")
    opened = Session.open(Settings(data_dir=bench.collection))
    ours = opened.model
    assert isinstance(ours, LlamaCppModel)
    recorder = Recorder(ours)
    session = Session(opened.settings, opened.store, recorder)  # type: ignore[arg-type]
    session.ask(QUESTION).result
    messages, sampling = recorder.calls[-1]
    session.ask(FOLLOW_UP).result
    follow_messages, follow_sampling = recorder.calls[-1]
    bare = load(Llama, model_path=str(ours.path), n_ctx=ours.n_ctx, n_threads=ours.n_threads,
                n_gpu_layers=ours.n_gpu_layers or 0, seed=0, verbose=False)
    through: list[Timed] = []
    with_grammar: list[Timed] = []
    free: list[Timed] = []
    kept: list[Timed] = []
    cleared: list[Timed] = []
    for round_ in range(bench.rounds):
        bench.announce(f"generation, round {round_ + 1}/{bench.rounds}")
        ours.llama.reset()
        stream = session.ask(QUESTION)
        through.append(timed(stream))
        bare.reset()
        with_grammar.append(timed(_bare(bare, messages, sampling, grammar=True)))
        bare.reset()
        free.append(timed(_bare(bare, messages, sampling, grammar=False)))
        # The next question, right after this one (its KV cache kept), then from a cleared cache.
        kept.append(timed(ours.stream(follow_messages, follow_sampling)))
        ours.llama.reset()
        cleared.append(timed(ours.stream(follow_messages, follow_sampling)))
    session.store.close()
    prompt_tokens = sum(ours.count_tokens(m["content"]) for m in messages)
    rate = median([t.rate for t in through])
    return [
        Figure("generation through the pipeline, with the citation grammar", rate, "tok/s",
               median([t.rate for t in with_grammar]), "bare llama-cpp-python", min_ratio=0.9,
               note=f"{median([t.pieces for t in through]):g} tokens, prompt {prompt_tokens} tokens"),
        Figure("generation with the citation grammar against none", median([t.rate for t in with_grammar]), "tok/s",
               median([t.rate for t in free]), "bare, no grammar"),
        Figure("model's time to first token of the answer", median([t.first for t in through]), "s",
               median([t.first for t in with_grammar]), "bare llama-cpp-python"),
        Figure("next question's time to first token, KV cache kept", median([t.first for t in kept]), "s",
               median([t.first for t in cleared]), "cache cleared"),
    ]


def _queries(count: int, seed: int = 3) -> list[str]:
    from assistant.measure.bench.synthetic import vocabulary

    rng = random.Random(seed)
    words = vocabulary()[:5000]
    return [" ".join(rng.sample(words, 3)) for _ in range(count)]


def search_latency(data_dir: Path, count: int, cache: Path) -> list[float]:
    """Seconds per `search` on an open, warm store (the chat's and a server's case)."""
    from assistant.core.settings import Settings
    from assistant.core.tuning import Tuning
    from assistant.retrieve.hybrid import search
    from assistant.store.data_dir import open_store

    store = open_store(Settings(data_dir=data_dir, seed_bundled=False, cache_dir=cache))
    tuning = Tuning()
    try:
        for query in _queries(3, seed=1):
            search(store, query, tuning, k=5)
        latencies = []
        for query in _queries(count):
            started = time.perf_counter()
            search(store, query, tuning, k=5)
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        store.close()


def warm_search(bench: Bench, data_dir: Path, label: str, reference: list[float] | None = None) -> list[Figure]:
    latencies = [s * 1000 for s in search_latency(data_dir, 20 if bench.quick else 50, bench.cache)]
    base = [s * 1000 for s in reference] if reference else None
    return [Figure(f"warm search p50, {label}", median(latencies), "ms", median(base) if base else None,
                   "311 papers" if base else "", max_value=30),
            Figure(f"warm search p95, {label}", percentile(latencies, 0.95), "ms",
                   percentile(base, 0.95) if base else None, "311 papers" if base else "", max_value=100)]
