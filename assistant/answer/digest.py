"""A digest of one saved page: its papers grouped into themes, each paper summed up by the
sentence that best says what it is, quoted and cited.

The digest is extractive. Model-written introductions were tried (one per theme, then one
overview of the page) and the bundled model's sentences almost never survived verification
(one of 8 theme introductions over two pages, and that one only a title; none of 5 page
overviews), while writing them took 70–90% of the time: 23 s for the 44-paper page, against
under 1.5 s without them.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from assistant.answer import themes
from assistant.answer.evidence import Source
from assistant.answer.fill import evidence_claim
from assistant.answer.result import Result, Section, Stage
from assistant.answer.summarise import central_sentences
from assistant.core.errors import AssistantError
from assistant.store.data_dir import Store


def digest(store: Store, page: str) -> Generator[str | Stage, None, Result]:
    """The page named by (part of) its file name, as themes of papers, largest theme first."""
    started = time.perf_counter()
    pages = [p for p in store.catalog.pages() if page.casefold() in str(p["name"]).casefold()]
    if len(pages) != 1:
        names = ", ".join(str(p["name"]) for p in (pages or store.catalog.pages()))
        raise AssistantError(f"{'several' if pages else 'no'} pages match {page!r}; pages: {names}")
    yield Stage("grouping")
    ids = store.catalog.page_paper_ids(str(pages[0]["path"]))
    found = store.catalog.papers(ids)
    papers = [found[i] for i in ids if i in found]
    summaries = central_sentences(store.embedder, papers)
    sources = [Source(n, p, [s]) for n, (p, s) in enumerate(zip(papers, summaries), start=1)]
    # a title says what a paper is about in a few tokens, so embedding a page's titles is quick
    vectors = np.array(store.embedder.embed_queries([p.title for p in papers]), dtype=np.float64)
    groups = themes.group(vectors)
    sections = [Section(f"{name} ({len(group)} papers)",
                        [evidence_claim(sources[i], f"{sources[i].paper.title}: {sources[i].sentences[0]}") for i in group],
                        bullets=True)
                for group, name in zip(groups, themes.names([p.title for p in papers], groups))]
    return Result(kind="digest", query=str(pages[0]["name"]), status="answered", sections=sections, sources=sources,
                  timings={"total": time.perf_counter() - started})
