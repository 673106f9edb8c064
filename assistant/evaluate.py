"""`assistant eval`: answer a file of questions and measure retrieval, facts, citations,
refusals and speed.

Citation support is judged here by a check independent of the verifier (exact word and
number overlap with the cited abstract), so the verifier cannot grade its own homework.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evidence import Source
from assistant.grounded import Result
from assistant.papers import content_words
from assistant.session import Session
from assistant.verify import numbers_in

TYPES = ("fact", "multi", "metadata", "unanswerable")
STRICT_OVERLAP = 0.7  # share of a sentence's content words that must occur in the cited paper


@dataclass(frozen=True)
class Question:
    question: str
    type: str
    papers: list[str]
    facts: list[str]


@dataclass
class Outcome:
    """How one question went."""

    question: Question
    status: str
    answer: str
    seconds: float
    retrieved: bool | None = None  # an expected paper was among the sources (answerable only)
    facts_found: bool | None = None
    citations: int = 0
    right_citations: int = 0
    number_violations: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"question": self.question.question, "type": self.question.type, "status": self.status,
                "answer": self.answer, "seconds": round(self.seconds, 2), "retrieved": self.retrieved,
                "facts_found": self.facts_found, "citations": self.citations,
                "right_citations": self.right_citations, "number_violations": self.number_violations,
                "notes": self.notes}


@dataclass
class Report:
    outcomes: list[Outcome]

    def _rate(self, values: list[bool]) -> float | None:
        return sum(values) / len(values) if values else None

    def totals(self) -> dict[str, object]:
        answerable = [o for o in self.outcomes if o.question.type != "unanswerable"]
        refusable = [o for o in self.outcomes if o.question.type == "unanswerable"]
        citations = sum(o.citations for o in answerable)
        seconds = [o.seconds for o in self.outcomes]
        return {
            "questions": len(self.outcomes),
            "retrieval_hit_rate": self._rate([bool(o.retrieved) for o in answerable]),
            "fact_recall": self._rate([bool(o.facts_found) for o in answerable if o.question.facts]),
            "citation_precision": sum(o.right_citations for o in answerable) / citations if citations else None,
            "citations": citations,
            "refusal_accuracy": self._rate([o.status == "not_covered" for o in refusable]),
            "false_refusals": sum(o.status == "not_covered" for o in answerable),
            "sentences_with_unsourced_numbers": sum(o.number_violations for o in self.outcomes),
            "seconds_per_question": sum(seconds) / len(seconds) if seconds else None,
            "max_seconds": max(seconds, default=None),
        }

    def to_json(self) -> dict[str, object]:
        return {"totals": self.totals(), "questions": [o.to_json() for o in self.outcomes]}


def load_questions(path: Path) -> list[Question]:
    """JSONL: {"question", "type": fact|multi|metadata|unanswerable, "papers": [titles], "facts": [strings]}."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = Question(str(row["question"]), str(row["type"]), list(row.get("papers", [])), list(row.get("facts", [])))
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}: line {number}: expected question, type, papers, facts ({exc})") from exc
        if question.type not in TYPES:
            raise AssistantError(f"{path}: line {number}: type must be one of {', '.join(TYPES)}")
        questions.append(question)
    if not questions:
        raise AssistantError(f"{path}: no questions")
    return questions


def strictly_supported(text: str, source: Source) -> bool:
    """Every number of the sentence, and most of its words, occur in the cited paper."""
    body = " ".join(source.all_sentences())
    words = {w[:5] for w in content_words(text)}
    overlap = len(words & {w[:5] for w in content_words(body)}) / len(words) if words else 0.0
    return not (numbers_in(text) - numbers_in(body)) and overlap >= STRICT_OVERLAP


def score(session: Session, question: Question, result: Result, seconds: float) -> Outcome:
    outcome = Outcome(question, result.status, result.text, seconds)
    if question.type == "unanswerable":
        if result.status != "not_covered":
            outcome.notes.append("answered a question the collection cannot answer")
        return outcome
    expected = {pid for title in question.papers for pid in session.store.catalog.find(title)[:1]}
    outcome.retrieved = bool(expected & {s.paper.id for s in result.sources})
    text = result.text.casefold()
    outcome.facts_found = all(fact.casefold() in text for fact in question.facts)
    by_number = {s.number: s for s in result.sources}
    for claim in result.claims:
        for number in claim.citations:
            outcome.citations += 1
            source = by_number[number]
            right = source.paper.id in expected and strictly_supported(claim.text, source)
            outcome.right_citations += right
            if not right:
                outcome.notes.append(f"[{number}] {source.paper.title[:50]}: {claim.text[:80]}")
        if numbers_in(claim.text) - set().union(*(numbers_in(" ".join(by_number[n].all_sentences())) for n in claim.citations)):
            outcome.number_violations += 1
    return outcome


def evaluate(session: Session, questions: list[Question]) -> Report:
    from assistant.output import RichProgress

    progress = RichProgress()
    progress.start("Evaluating", len(questions))
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        result = session.ask(question.question).result
        outcomes.append(score(session, question, result, time.perf_counter() - started))
        progress.advance()
    progress.stop()
    return Report(outcomes)


def print_report(report: Report) -> None:
    from rich.markup import escape
    from rich.table import Table

    from assistant.output import out

    table = Table("type", "question", "status", "retrieved", "facts", "citations", "s")
    for o in report.outcomes:
        flag = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}
        table.add_row(o.question.type, escape(o.question.question[:60]), o.status, flag[o.retrieved], flag[o.facts_found],
                      f"{o.right_citations}/{o.citations}" if o.citations else "", f"{o.seconds:.1f}")
    out.print(table)
    for name, value in report.totals().items():
        shown = f"{value:.1%}" if isinstance(value, float) and name not in {"seconds_per_question", "max_seconds"} else (
            f"{value:.2f}" if isinstance(value, float) else str(value))
        out.print(f"{name.replace('_', ' '):34} {shown}")
