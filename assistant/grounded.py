"""Shared machinery of every grounded output (answers, summaries, digests): the result types,
the citation grammar, prompt budgeting, generation, and "verify, then fill from evidence".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

from assistant.embed import Embedder
from assistant.errors import AssistantError
from assistant.evidence import Source, cosine_matrix
from assistant.llm import ChatModel, Sampling
from assistant.papers import Paper
from assistant.prompts import Prompt
from assistant.verify import Claim, verify

COVERED_SIMILARITY = 0.8  # an answer sentence this close to an evidence sentence already states it
MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message


@dataclass
class Section:
    """A titled group of sentences (an answer has one untitled section)."""

    heading: str | None
    claims: list[Claim]
    bullets: bool = False  # one claim per line (findings, digest entries) instead of prose

    def to_json(self) -> dict[str, object]:
        return {"heading": self.heading, "sentences": [c.to_json() for c in self.claims]}

    def body(self, render: Callable[[Claim], str]) -> str:
        if self.bullets:
            return "\n".join(f"- {render(claim)}" for claim in self.claims)
        return " ".join(render(claim) for claim in self.claims)


@dataclass
class Result:
    """A grounded output: sections of verified, cited sentences and the sources they cite."""

    kind: str  # answer | paper | topic | digest
    query: str
    status: str  # answered | not_covered
    sections: list[Section] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    dropped: list[Claim] = field(default_factory=list)
    closest: list[Paper] = field(default_factory=list)
    generated: str = ""
    extractive: bool = False
    model: str = ""
    standalone: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    tokens: int = 0

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


def renumber(result: Result) -> None:
    """Number the cited sources 1, 2, ... in order of first citation (uncited ones follow)."""
    order: list[int] = []
    for claim in result.claims:
        order.extend(n for n in claim.citations if n not in order)
    order.extend(s.number for s in result.sources if s.number not in order)
    mapping = {old: new for new, old in enumerate(order, start=1)}

    def moved(claim: Claim) -> Claim:
        return replace(claim, citations=tuple(mapping.get(n, n) for n in claim.citations),
                       corrected_from=tuple(mapping.get(n, n) for n in claim.corrected_from))

    for section in result.sections:
        section.claims = [moved(c) for c in section.claims]
    result.dropped = [moved(c) for c in result.dropped]
    result.sources = sorted((replace(s, number=mapping[s.number]) for s in result.sources), key=lambda s: s.number)


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


def generate(model: ChatModel, messages: list[dict[str, str]], sampling: Sampling,
             timings: dict[str, float]) -> Generator[str, None, tuple[str, int]]:
    """Stream the model's pieces; returns (full text, number of pieces). Time spent is added
    to `timings["generate"]`, so several generations in one result add up."""
    started = time.perf_counter()
    pieces: list[str] = []
    for piece in model.stream(messages, sampling):
        pieces.append(piece)
        yield piece
    timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - started
    return "".join(pieces), len(pieces)


def evidence_claim(source: Source, sentence: str) -> Claim:
    """A sentence quoted from a source: supported by construction."""
    return Claim(sentence, (source.number,), True, 1.0, origin="evidence")


def keep_and_fill(embedder: Embedder, generated: str, sources: list[Source], fill: list[tuple[Source, str]],
                  max_claims: int) -> tuple[list[Claim], list[Claim]]:
    """Verify the generated text; then add the evidence sentences in `fill` (most important
    first) that no kept sentence already states, up to `max_claims`.

    Returns (claims to show, dropped claims).
    """
    checked = verify(embedder, generated, sources)
    kept = [c for c in checked if c.supported]
    dropped = [c for c in checked if not c.supported]
    claims = list(kept)
    if fill:
        said = [c.text for c in kept]
        closeness = cosine_matrix(embedder, [s for _, s in fill], said).max(axis=1) if said else [0.0] * len(fill)
        for (source, sentence), close in zip(fill, closeness):
            if len(claims) >= max_claims and claims:
                break
            if close < COVERED_SIMILARITY and all(c.text != sentence for c in claims):
                claims.append(evidence_claim(source, sentence))
    return claims, dropped
