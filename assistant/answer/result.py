"""What every grounded output (answer, summary, digest) becomes: a `Result` of sections of
verified, cited sentences and the sources they cite, and the `Stage`s a pipeline announces
on the way. The faces draw it (see `assistant.core.wording`); conversations save its JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from assistant.answer.evidence import Source
from assistant.answer.verify import Claim
from assistant.core import wording
from assistant.core.records import Paper


@dataclass(frozen=True)
class Stage:
    """Where a pipeline is, yielded between the text pieces so a front end can say so:
    "searching", "grouping" (a digest), "writing", "waiting" (for another command on this
    machine to finish writing), "checking" (with the number of sentences to check)."""

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
        """The output as plain text with [n] citations (the JSON's "answer")."""
        return self._plain([section.to_json() for section in self.sections])

    def _plain(self, sections: list[dict[str, object]]) -> str:
        return wording.render({"status": self.status, "sections": sections}, wording.PLAIN)

    def cited_sources(self) -> list[Source]:
        used = {n for claim in self.claims for n in claim.citations}
        return [source for source in self.sources if source.number in used]

    def to_json(self) -> dict[str, object]:
        sections = [s.to_json() for s in self.sections]
        return {
            "kind": self.kind, "query": self.query, "standalone_query": self.standalone, "status": self.status,
            "answer": self._plain(sections), "sections": sections,
            "sources": [s.to_json() for s in self.cited_sources()],
            "dropped": [c.to_json() for c in self.dropped],
            "closest": [p.to_json() for p in self.closest], "extractive": self.extractive,
            "shape": self.shape, "filters": self.filters,
            "generated": self.generated, "model": self.model,
            "timings": {k: round(v, 3) for k, v in self.timings.items()}, "tokens": self.tokens,
        }


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
