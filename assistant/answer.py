"""Asking: rewrite a follow-up, retrieve, pick evidence, generate, verify, fall back, refuse.

Each pipeline is a generator: it yields the model's text pieces as they stream and returns
the verified `Result`, so the CLI and the TUI can show progress and then the checked answer.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.evidence import Source, rank_sentences, select_sources
from assistant.grounded import (Result, Section, citation_grammar, evidence_claim, fit_sources, generate, keep_and_fill,
                                renumber)
from assistant.llm import ChatModel, Sampling
from assistant.papers import content_words
from assistant.prompts import Prompt, load_prompt
from assistant.retrieve import search
from assistant.store import Store

ANSWER_SENTENCES = 3
MAX_SHOWN = 4
REWRITE_TOKENS = 60
SOURCE_WEIGHT = 0.5


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str


@dataclass(frozen=True)
class Context:
    """What a pipeline needs: the store, the model and where the prompts are."""

    store: Store
    model: ChatModel
    prompts_dir: Path | None = None

    def prompt(self, name: str) -> Prompt:
        return load_prompt(name, self.prompts_dir)


def ranked_evidence(ctx: Context, query: str, sources: list[Source]) -> list[tuple[Source, str]]:
    """Every evidence sentence of every source, best answer to the query first; a sentence of
    a more relevant paper wins over an equally good sentence of a less relevant one."""
    pairs = [(source, sentence) for source in sources for sentence in source.sentences]
    scores = rank_sentences(ctx.store.embedder, query, [sentence for _, sentence in pairs])
    weighted = [score + SOURCE_WEIGHT * (pair[0].similarity or 0.0) for score, pair in zip(scores, pairs)]
    return [pair for _, pair in sorted(zip(weighted, pairs), key=lambda item: -item[0])]


def standalone_question(ctx: Context, question: str, history: Sequence[Turn]) -> Generator[str, None, str]:
    """Rewrite a follow-up into a question that retrieval can use on its own.

    A small model's rewrite is only trusted if it keeps some of the follow-up's words;
    otherwise the previous question and the follow-up are searched together.
    """
    if not history:
        return question
    transcript = "\n".join(f"User: {t.question}\nAssistant: {t.answer}" for t in history[-3:])
    messages = ctx.prompt("rewrite").messages(history=transcript, question=question)
    timings: dict[str, float] = {}
    text, _ = yield from generate(ctx.model, messages, Sampling(max_tokens=REWRITE_TOKENS, temperature=0.0), timings)
    rewritten = text.strip().splitlines()[0].strip() if text.strip() else ""
    if rewritten and len(rewritten) < 300 and set(content_words(rewritten)) & set(content_words(question)):
        return rewritten
    return f"{history[-1].question} {question}"


def ask(ctx: Context, question: str, history: Sequence[Turn] = (), *, k: int = 5,
        only: set[str] | None = None) -> Generator[str, None, Result]:
    """Answer a question from the collection (or only from the papers in `only`) with verified
    citations, or say it is not covered."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    query = yield from standalone_question(ctx, question, history)
    timings["rewrite"] = time.perf_counter() - started
    lookup = query
    if only:  # "this paper" means the scoped paper: name it, so retrieval can match it
        titles = "; ".join(p.title for p in ctx.store.catalog.papers(sorted(only)).values())
        lookup = f"{titles}: {query}"
    result = search(ctx.store, lookup, k=k, only=only)
    timings["retrieve"] = time.perf_counter() - started - timings["rewrite"]
    base = Result(kind="answer", query=question, status="not_covered", model=ctx.model.name,
                  standalone=query if query != question else None, timings=timings)
    if not result.covered:
        base.closest = [hit.paper for hit in result.hits]
        timings["total"] = time.perf_counter() - started
        return base
    sources = select_sources(ctx.store.embedder, query, result)
    sampling = Sampling(max_tokens=160, grammar=citation_grammar(ANSWER_SENTENCES, [s.number for s in sources]))
    messages, sources = fit_sources(ctx.model, ctx.prompt("answer"), sources, {"question": query}, sampling.max_tokens)
    generated, tokens = yield from generate(ctx.model, messages, sampling, timings)
    checking = time.perf_counter()
    ranked = ranked_evidence(ctx, query, sources)
    claims, dropped = keep_and_fill(ctx.store.embedder, generated, sources, ranked[:1], MAX_SHOWN)
    extractive = all(c.origin == "evidence" for c in claims)
    if extractive:  # nothing generated survived: answer from the evidence itself
        quoted = ranked[:2]
        claims = [evidence_claim(source, sentence) for i, (source, sentence) in enumerate(quoted)
                  if sentence not in [text for _, text in quoted[:i]]]
    timings["verify"] = time.perf_counter() - checking
    timings["total"] = time.perf_counter() - started
    base.status = "answered"
    base.sections = [Section(None, claims)]
    base.sources, base.dropped, base.generated, base.extractive, base.tokens = sources, dropped, generated, extractive, tokens
    renumber(base)
    return base
