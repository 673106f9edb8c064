"""Summaries: one paper (TL;DR + key findings), a topic across papers, and a digest of one
saved page grouped by theme. Same rules as answers: every sentence cites a source and is
verified; what the model cannot say faithfully is quoted from the abstracts instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator

import numpy as np

from assistant.answer import Context, ranked_evidence
from assistant.errors import AssistantError
from assistant.evidence import Source, choose, cosine_matrix, select_sources
from assistant.grounded import (Result, Section, Stage, citation_grammar, evidence_claim, fit_sources, generate, renumber,
                                verify_then_fill)
from assistant.llm import Sampling
from assistant.papers import Paper, split_sentences
from assistant.retrieve import search

TOPIC_K = 8  # papers retrieved for a topic summary
TOPIC_SOURCES = 4  # of which at most this many are shown to the model, two sentences each
# Sentences that report results rather than motivation: they carry the "key findings".
_NUMBER = re.compile(r"\d")
_FINDING = re.compile(
    r"\b(show|shows|showed|find|finds|found|demonstrate|demonstrates|achiev\w*|outperform\w*|improv\w*|reveal\w*|"
    r"result\w*|suggest\w*|confirm\w*|reduc\w*|increas\w*)\b", re.IGNORECASE)
_CONTRIBUTION = re.compile(r"\b(we|this paper|this work)\s+(propose|introduce|present|develop|study|investigate|show)",
                           re.IGNORECASE)


def central_sentence(ctx: Context, paper: Paper) -> str:
    """The sentence that best says what the paper is: a contribution statement if there is one,
    else the sentence closest in meaning to the title."""
    sentences = split_sentences(paper.abstract)
    stated = [s for s in sentences if _CONTRIBUTION.search(s)]
    if stated:
        return stated[0]
    closeness = cosine_matrix(ctx.store.embedder, [paper.title], sentences)[0]
    return sentences[int(np.argmax(closeness))]


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
                                     required=[(source, central_sentence(ctx, paper))], max_claims=2)
    said = {c.text for c in tldr}
    findings = [evidence_claim(source, s) for s in key_findings(source.sentences, ctx.tuning.max_findings)
                if s not in said]
    timings["total"] = time.perf_counter() - started
    return Result(kind="paper", query=paper.title, status="answered",
                  sections=[Section("TL;DR", tldr), Section("Key findings", findings, bullets=True)],
                  sources=[source], dropped=dropped, generated=generated,
                  model=ctx.model.name, timings=timings, tokens=tokens)


def summarise_topic(ctx: Context, topic: str) -> Generator[str | Stage, None, Result]:
    """What the collection says about a topic: verified sentences, then one quoted sentence
    for every source the generated text left out."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    t = ctx.tuning
    yield Stage("searching")
    result = search(ctx.store, topic, t, k=TOPIC_K)
    if not result.covered:
        return Result(kind="topic", query=topic, status="not_covered", closest=[h.paper for h in result.hits],
                      model=ctx.model.name, timings={"total": time.perf_counter() - started})
    sources = select_sources(ctx.store.embedder, topic, result, t, max_sources=TOPIC_SOURCES, per_source=2,
                             cutoff=t.relative_cutoff)
    sampling = Sampling(max_tokens=220, grammar=citation_grammar(4, [s.number for s in sources]))
    messages, sources = fit_sources(ctx.model, ctx.prompt("summarise_topic"), sources, {"topic": topic}, sampling.max_tokens)
    generated, tokens = yield from generate(ctx.model, messages, sampling, timings)
    ranked = ranked_evidence(ctx, topic, sources)
    best_per_source = [next(pair for pair in ranked if pair[0].number == s.number) for s in sources]
    claims, dropped = verify_then_fill(ctx.store.embedder, t, generated, sources, question=topic,
                                       required=best_per_source, one_per_source=True)
    timings["total"] = time.perf_counter() - started
    return renumber(Result(kind="topic", query=topic, status="answered", sections=[Section(None, claims)],
                           sources=sources, dropped=dropped, generated=generated, model=ctx.model.name,
                           timings=timings, tokens=tokens))


def _themes(ctx: Context, sources: list[Source]) -> list[list[int]]:
    """Group papers by meaning (k-means on title + central sentence), largest group first."""
    if len(sources) < 4:
        return [list(range(len(sources)))]
    from sklearn.cluster import KMeans

    vectors = np.array(ctx.store.embedder.embed_queries([f"{s.paper.title}. {s.sentences[0]}" for s in sources]))
    count = int(min(8, max(2, round((len(sources) / 3) ** 0.5))))
    labels = KMeans(n_clusters=count, n_init=10, random_state=0).fit_predict(vectors)
    groups = [[i for i, label in enumerate(labels) if label == group] for group in range(count)]
    return sorted((g for g in groups if g), key=len, reverse=True)


def _theme_names(papers: list[Paper], groups: list[list[int]]) -> list[str]:
    """For each group, the words that set it apart from the rest of the page (TF-IDF over
    the page's titles, fitted once)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1)
    matrix = vectorizer.fit_transform([p.title for p in papers])
    terms = vectorizer.get_feature_names_out()
    names = []
    for group in groups:
        weights = np.asarray(matrix[group].mean(axis=0)).ravel()
        chosen: list[str] = []
        for index in np.argsort(-weights):
            term = str(terms[index])
            if not any(term in c or c in term for c in chosen):
                chosen.append(term)
            if len(chosen) == 3:
                break
        names.append(", ".join(chosen).capitalize() if chosen else "Other papers")
    return names


def digest(ctx: Context, page: str) -> Generator[str | Stage, None, Result]:
    """A digest of one saved page: papers grouped into themes, each theme introduced by the
    model (verified) and each paper summed up by its central sentence."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    pages = [p for p in ctx.store.catalog.pages() if page.casefold() in str(p["name"]).casefold()]
    if len(pages) != 1:
        names = ", ".join(str(p["name"]) for p in (pages or ctx.store.catalog.pages()))
        raise AssistantError(f"{'several' if pages else 'no'} pages match {page!r}; pages: {names}")
    ids = ctx.store.catalog.page_paper_ids(str(pages[0]["path"]))
    found = ctx.store.catalog.papers(ids)
    papers = [found[i] for i in ids if i in found]
    sources = [Source(n, p, [central_sentence(ctx, p)]) for n, p in enumerate(papers, start=1)]
    sections, dropped, generated_all, tokens_all = [], [], [], 0
    groups = _themes(ctx, sources)
    for group, theme in zip(groups, _theme_names(papers, groups)):
        members = [sources[i] for i in group]
        sampling = Sampling(max_tokens=100, grammar=citation_grammar(2, [s.number for s in members]))
        intro_sources = [choose(ctx.store.embedder, theme, s.paper, s.number, 1, ctx.tuning) for s in members[:6]]
        messages, intro_sources = fit_sources(ctx.model, ctx.prompt("digest"), intro_sources, {"theme": theme},
                                              sampling.max_tokens)
        generated, tokens = yield from generate(ctx.model, messages, sampling, timings)
        intro, lost = verify_then_fill(ctx.store.embedder, ctx.tuning, generated, intro_sources, question=theme,
                                       max_claims=2)
        claims = intro + [evidence_claim(s, f"{s.paper.title}: {s.sentences[0]}") for s in members]
        sections.append(Section(f"{theme} ({len(members)} papers)", claims, bullets=True))
        dropped += lost
        generated_all.append(generated)
        tokens_all += tokens
    timings["total"] = time.perf_counter() - started
    return Result(kind="digest", query=str(pages[0]["name"]), status="answered", sections=sections, sources=sources,
                  dropped=dropped, generated="\n".join(generated_all), model=ctx.model.name, timings=timings,
                  tokens=tokens_all)
