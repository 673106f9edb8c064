"""Shared machinery of every grounded output (answers, summaries, digests): the result types,
the citation grammar, prompt budgeting, generation, and "verify, then fill from evidence".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.model.embedder import Embedder
from assistant.core.errors import AssistantError
from assistant.answer.evidence import Source, cosine_matrix
from assistant.core.safe_text import inert
from assistant.model.chat import ChatModel, Sampling
from assistant.core.records import Paper, split_sentences
from assistant.answer.prompts import Prompt
from assistant.core.tuning import Tuning
from assistant.answer.verify import Claim, verify

MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message


@dataclass(frozen=True)
class Stage:
    """Where a pipeline is, yielded between the text pieces so a front end can say so:
    "searching", "grouping" (a digest), "writing", "checking" (with the number of sentences
    to check)."""

    name: str
    count: int = 0


@dataclass(frozen=True)
class Section:
    """A titled group of sentences (an answer has one untitled section)."""

    heading: str | None
    claims: list[Claim]
    bullets: bool = False  # one claim per line (findings, digest entries) instead of prose

    def to_json(self) -> dict[str, object]:
        return {"heading": self.heading, "bullets": self.bullets, "sentences": [c.to_json() for c in self.claims]}

    def body(self, render: Callable[[Claim], str]) -> str:
        if self.bullets:
            return "\n".join(f"- {render(claim)}" for claim in self.claims)
        return " ".join(render(claim) for claim in self.claims)


@dataclass(frozen=True)
class Result:
    """A grounded output: sections of verified, cited sentences and the sources they cite.
    Built once, when the pipeline knows everything it holds."""

    kind: str  # answer | paper | topic | digest
    query: str
    status: str  # answered | not_covered
    sections: list[Section] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    dropped: list[Claim] = field(default_factory=list)
    closest: list[Paper] = field(default_factory=list)
    generated: str = ""
    model: str = ""
    standalone: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    tokens: int = 0
    shape: str = ""  # how an answer was planned: fact | list | comparison | metadata
    filters: dict[str, str] = field(default_factory=dict)  # a date range read from the question

    @property
    def extractive(self) -> bool:
        """The model wrote something, but every sentence shown is quoted evidence."""
        return self.status == "answered" and bool(self.generated.strip()) and all(
            c.origin != "model" for c in self.claims)

    @property
    def claims(self) -> list[Claim]:
        return [claim for section in self.sections for claim in section.claims]

    @property
    def text(self) -> str:
        """The output as Markdown-ish plain text with [n] citations."""
        if self.status == "not_covered":
            return "The collection does not cover this."
        parts = []
        for section in self.sections:
            body = section.body(Claim.render)
            parts.append(f"{section.heading}\n{body}" if section.heading else body)
        return "\n\n".join(parts)

    def cited_sources(self) -> list[Source]:
        used = {n for claim in self.claims for n in claim.citations}
        return [source for source in self.sources if source.number in used]

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "query": self.query, "standalone_query": self.standalone, "status": self.status,
            "answer": self.text, "sections": [s.to_json() for s in self.sections],
            "sources": [s.to_json() for s in self.cited_sources()],
            "dropped": [c.to_json() for c in self.dropped],
            "closest": [p.to_json() for p in self.closest], "extractive": self.extractive,
            "shape": self.shape, "filters": self.filters,
            "generated": self.generated, "model": self.model,
            "timings": {k: round(v, 3) for k, v in self.timings.items()}, "tokens": self.tokens,
        }


def citation_grammar(sentences: int, numbers: list[int]) -> str:
    """GBNF: 1..`sentences` sentences, each ending with the citation of a given source.

    Small models drop citations, or invent source numbers, when free to; the grammar makes a
    valid citation part of every sentence's shape. Whether the cited source really supports
    the sentence is left to verification.
    """
    cites = " | ".join(f'"{n}"' for n in numbers)
    return "\n".join([
        f'root ::= sentence (" " sentence){{0,{max(sentences - 1, 0)}}}',
        r'sentence ::= [A-Z0-9"] [^\[\]\n]{8,300} " [" cite "]" "."?',
        f"cite ::= {cites}",
    ])


def renumber(result: Result) -> Result:
    """The result with its cited sources numbered 1, 2, ... in order of first citation
    (uncited ones follow)."""
    order: list[int] = []
    for claim in result.claims:
        order.extend(n for n in claim.citations if n not in order)
    order.extend(s.number for s in result.sources if s.number not in order)
    mapping = {old: new for new, old in enumerate(order, start=1)}

    def moved(claim: Claim) -> Claim:
        return replace(claim, citations=tuple(mapping.get(n, n) for n in claim.citations),
                       corrected_from=tuple(mapping.get(n, n) for n in claim.corrected_from))

    return replace(
        result,
        sections=[replace(section, claims=[moved(c) for c in section.claims]) for section in result.sections],
        dropped=[moved(c) for c in result.dropped],
        sources=sorted((replace(s, number=mapping[s.number]) for s in result.sources), key=lambda s: s.number),
    )


def fit_sources(model: ChatModel, prompt: Prompt, sources: list[Source], values: dict[str, str],
                max_tokens: int) -> tuple[list[dict[str, str]], list[Source]]:
    """Fill the prompt, dropping the least important evidence until it fits `n_ctx`.

    Sources are ranked, and within a source sentences are in text order; the last source's
    sentences go first, then whole sources, never the first source's first sentence.
    """
    kept = [Source(s.number, s.paper, list(s.sentences), s.similarity) for s in sources]
    budget = model.n_ctx - max_tokens
    while True:
        messages = prompt.messages(sources="\n".join(s.block() for s in kept), **values)
        used = sum(model.count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)
        if used <= budget:
            return messages, kept
        last = kept[-1]
        if len(last.sentences) > 1:
            kept[-1] = Source(last.number, last.paper, last.sentences[:-1], last.similarity)
        elif len(kept) > 1:
            kept.pop()
        else:
            raise AssistantError(
                f"the prompt needs {used} tokens but the context window leaves {budget}; use a larger --ctx or a shorter question"
            )


def generate(model: ChatModel, messages: list[dict[str, str]], sampling: Sampling, timings: dict[str, float], *,
             activity: str = "writing", checked: bool = True) -> Generator[str | Stage, None, tuple[str, int]]:
    """Stream the model's pieces; returns (full text, number of pieces). Time spent is added
    to `timings["generate"]`, so several generations in one result add up; `timings["first_token"]`
    is how long the first of them waited for its first piece. Stages announce
    the writing and, when verification follows (`checked`), how many sentences it checks."""
    started = time.perf_counter()
    pieces: list[str] = []
    yield Stage(activity)
    for raw in model.stream(messages, sampling):
        if "first_token" not in timings:  # the model's wait before it writes (loading, reading the prompt)
            timings["first_token"] = time.perf_counter() - started
        piece = inert(raw)  # a model can write control characters too; none reach a terminal
        pieces.append(piece)
        yield piece
    timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - started
    text = "".join(pieces)
    if checked:
        yield Stage("checking", len(split_sentences(text)))
    return text, len(pieces)


def evidence_claim(source: Source, sentence: str, origin: str = "evidence") -> Claim:
    """A sentence quoted from a source (or stated from its catalogue record): supported by
    construction."""
    return Claim(sentence, (source.number,), True, 1.0, origin=origin)


def verify_then_fill(embedder: Embedder, tuning: Tuning, generated: str, sources: list[Source], *, question: str = "",
                     required: Sequence[tuple[Source, str]] = (), spare: Sequence[tuple[Source, str]] = (),
                     min_claims: int = 0, max_claims: int = 99,
                     one_per_source: bool = False) -> tuple[list[Claim], list[Claim]]:
    """The one step every grounded output goes through: verify what the model wrote, then
    fill from the evidence what the kept sentences do not already say.

    `required` evidence is added unless a kept sentence states it; `spare` evidence only when
    no generated sentence was kept, while there are fewer than `min_claims` claims (so an
    answer whose generated sentences all failed still says more than one quote). With
    `one_per_source`, evidence from a source that a kept sentence already cites is skipped.
    Returns (claims to show, dropped claims).
    """
    checked = verify(embedder, generated, sources, tuning, question)
    claims = [c for c in checked if c.supported]
    dropped = [c for c in checked if not c.supported]
    said = [c.text for c in claims]
    candidates = [(pair, True) for pair in required] + [(pair, False) for pair in spare]
    if not candidates:
        return claims, dropped
    texts = [sentence for (_, sentence), _ in candidates]
    closeness = cosine_matrix(embedder, texts, said).max(axis=1) if said else np.zeros(len(texts))
    written = bool(claims)
    for ((source, sentence), needed), close in zip(candidates, closeness):
        if len(claims) >= max_claims or (not needed and (written or len(claims) >= min_claims)):
            continue
        if one_per_source and any(source.number in c.citations for c in claims):
            continue
        if close < tuning.covered_similarity and all(c.text != sentence for c in claims):
            claims.append(evidence_claim(source, sentence))
    return claims, dropped
