"""Summaries: one paper (TL;DR + key findings) and a topic across papers. Same rules as
answers: every sentence cites a source and is verified; what the model cannot say faithfully
is quoted from the abstracts instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator

import numpy as np

from assistant.answer.ask import Context, list_body
from assistant.answer.evidence import Source, cosine_matrix
from assistant.answer.fill import evidence_claim, verify_then_fill
from assistant.answer.generate import citation_grammar, fit_sources, generate
from assistant.answer.plan import Plan
from assistant.answer.result import Result, Section, Stage, renumber
from assistant.core.records import Paper, split_sentences, stems
from assistant.model.chat import Sampling
from assistant.model.embedder import Embedder
from assistant.retrieve.hybrid import search

# Sentences that report results rather than motivation: they carry the "key findings".
_NUMBER = re.compile(r"\d")
_FINDING = re.compile(
    r"\b(show|shows|showed|find|finds|found|demonstrate|demonstrates|achiev\w*|outperform\w*|improv\w*|reveal\w*|"
    r"result\w*|suggest\w*|confirm\w*|reduc\w*|increas\w*)\b", re.IGNORECASE)
_CONTRIBUTION = re.compile(r"\b(we|this paper|this work)\s+(propose|introduce|present|develop|study|investigate|show)",
                           re.IGNORECASE)


def central_sentences(embedder: Embedder, papers: list[Paper]) -> list[str]:
    """For each paper, the sentence that best says what it is: a contribution statement if
    there is one, else the sentence sharing the most words with the title, and among equals
    the one closest in meaning to the title. Only those ties are embedded, in one call for all
    the papers, so a page of papers costs a fraction of a second."""
    chosen: dict[int, str] = {}
    ties: dict[int, list[str]] = {}
    for i, paper in enumerate(papers):
        sentences = split_sentences(paper.abstract) or [paper.title]
        stated = next((s for s in sentences if _CONTRIBUTION.search(s)), None)
        if stated is not None:
            chosen[i] = stated
            continue
        title = stems(paper.title)
        overlap = [len(title & stems(s)) for s in sentences]
        best = [s for s, n in zip(sentences, overlap) if n == max(overlap)]
        if len(best) == 1:
            chosen[i] = best[0]
        else:
            ties[i] = best
    embedder.embed_queries([t for i, best in ties.items() for t in [papers[i].title, *best]])  # one batch, cached
    for i, best in ties.items():
        chosen[i] = best[int(np.argmax(cosine_matrix(embedder, [papers[i].title], best)[0]))]
    return [chosen[i] for i in range(len(papers))]


def key_findings(sentences: list[str], limit: int) -> list[str]:
    """The sentences that report results, numbers first, in the order the abstract gives them;
    without any, the closing sentences (which usually state the outcome)."""
    def weight(index: int) -> float:
        # A number next to a result verb is a finding; a year or model size in the motivation
        # is not. Later sentences break ties: abstracts report results after the setup.
        result = bool(_FINDING.search(sentences[index]))
        number = bool(_NUMBER.search(sentences[index]))
        return 2 * (result and number) + result + 0.5 * number + index / (10 * len(sentences)) if result or number else 0.0

    candidates = [i for i in range(len(sentences)) if weight(i) >= 1] or [i for i in range(len(sentences)) if weight(i)]
    ranked = sorted(candidates, key=lambda i: -weight(i))
    chosen = sorted(ranked[:limit]) or list(range(max(len(sentences) - 2, 0), len(sentences)))
    return [sentences[i] for i in chosen]


def summarise_paper(ctx: Context, query: str) -> Generator[str | Stage, None, Result]:
    """TL;DR (generated and verified, or the central sentence) and key findings (quoted)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    paper = ctx.store.catalog.resolve(query)
    source = Source(1, paper, split_sentences(paper.abstract))
    sampling = Sampling(max_tokens=120, grammar=citation_grammar(2, [1]))
    messages, _ = fit_sources(ctx.model, ctx.prompt("summarise_paper"), [source], {}, sampling.max_tokens)
    generated, tokens = yield from generate(ctx.model, messages, sampling, timings)
    tldr, dropped = verify_then_fill(ctx.store.embedder, ctx.tuning, generated, [source], question=paper.title,
                                     required=[(source, central_sentences(ctx.store.embedder, [paper])[0])], max_claims=2)
    said = {c.text for c in tldr}
    findings = [evidence_claim(source, s) for s in key_findings(source.sentences, ctx.tuning.max_findings)
                if s not in said]
    timings["total"] = time.perf_counter() - started
    return Result(kind="paper", query=paper.title, status="answered",
                  sections=[Section("TL;DR", tldr), Section("Key findings", findings, bullets=True)],
                  sources=[source], dropped=dropped, generated=generated,
                  model=ctx.model.name, timings=timings, tokens=tokens)


def summarise_topic(ctx: Context, topic: str) -> Generator[str | Stage, None, Result]:
    """What the collection says about a topic, as a list answer says it: one cited line for
    every paper above the relevance cut (up to `list_max_papers`), under a verified overview
    sentence when the model writes one. (Asked for four sources of two sentences each, the
    model wrote garbled German on "speculative decoding" and one quoted sentence was left.)"""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    yield Stage("searching")
    result = search(ctx.store, topic, ctx.tuning, k=ctx.tuning.topic_papers)
    if not result.covered:
        return Result(kind="topic", query=topic, status="not_covered", closest=[h.paper for h in result.hits],
                      model=ctx.model.name, timings={"total": time.perf_counter() - started})
    sections, sources, dropped, generated, tokens = yield from list_body(ctx, Plan("list", topic), result, timings)
    timings["total"] = time.perf_counter() - started
    return renumber(Result(kind="topic", query=topic, status="answered", sections=sections, sources=sources,
                           dropped=dropped, generated=generated, model=ctx.model.name, timings=timings, tokens=tokens))
