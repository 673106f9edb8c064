"""`assistant eval`: answer a file of questions and measure retrieval, facts, citations,
refusals and speed.

Citation support is judged here by a check independent of the verifier (exact word and
number overlap with the cited abstract), so the verifier cannot grade its own homework.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core.errors import AssistantError
from assistant.core.progress import NoProgress, Progress
from assistant.core.records import content_words, numbers_in
from assistant.session import Result, Session, Source

TYPES = ("fact", "comparison", "multi", "metadata", "unanswerable")
STRICT_OVERLAP = 0.7  # share of a sentence's content words that must occur in the cited paper
# The eval's own test for garbled sentences, written apart from the verifier's so that the
# verifier cannot pass its own exam: a sentence is garbled when it ends on a word that cannot
# end a sentence or breaks off mid-word ("RL-to-."), leaves a bracket or quote open, or has a
# word that is neither English nor in the cited paper or the question.
_ENDINGS = frozenset("the a an of to by with for from and or than is are was were approximately about as at "
                     "in on into that which such its their".split())
_ALPHA = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Question:
    question: str
    type: str
    papers: list[str]
    facts: list[str]
    related: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """How one question went."""

    question: Question
    status: str
    answer: str
    seconds: float
    shape: str = ""
    retrieved: bool | None = None  # an expected paper was among the sources (answerable only)
    gold_cited: bool | None = None  # an expected paper was cited
    coverage: float | None = None  # multi: the share of the expected papers cited
    facts_found: bool | None = None
    citations: int = 0
    right_citations: int = 0
    number_violations: int = 0
    garbled: int = 0
    generated_kept: int = 0  # model-written sentences shown
    dropped: list[str] = field(default_factory=list)  # why each dropped sentence was dropped
    sentences: list[dict[str, object]] = field(default_factory=list)  # what was shown, with each one's origin
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"question": self.question.question, "type": self.question.type, "shape": self.shape,
                "status": self.status, "answer": self.answer, "seconds": round(self.seconds, 2),
                "retrieved": self.retrieved, "gold_cited": self.gold_cited, "coverage": self.coverage,
                "facts_found": self.facts_found, "citations": self.citations, "right_citations": self.right_citations,
                "number_violations": self.number_violations, "garbled": self.garbled,
                "generated_kept": self.generated_kept, "dropped": self.dropped, "notes": self.notes,
                "sentences": self.sentences}


def _reason_kind(reason: str) -> str:
    """A drop reason without its particulars ("the number 4000 is ..." -> "number not in source")."""
    for key, label in (("number", "number not in source"), ("not supported", "not supported"),
                       ("restates", "restates the question"), ("blends", "blends two papers"),
                       ("broken word", "broken word"), ("complete sentence", "fragment"),
                       ("too short", "fragment"), ("cites", "bad citation")):
        if key in reason:
            return label
    return reason


@dataclass
class Report:
    outcomes: list[Outcome]
    tuning: dict[str, object] = field(default_factory=dict)

    def _rate(self, values: list[bool]) -> float | None:
        return sum(values) / len(values) if values else None

    def totals(self) -> dict[str, object]:
        answerable = [o for o in self.outcomes if o.question.type != "unanswerable"]
        refusable = [o for o in self.outcomes if o.question.type == "unanswerable"]
        answered = [o for o in answerable if o.status == "answered"]
        generating = [o for o in answered if o.shape != "metadata"]
        citations = sum(o.citations for o in answerable)
        seconds = sorted(o.seconds for o in self.outcomes)
        reasons = Counter(_reason_kind(r) for o in self.outcomes for r in o.dropped)
        multi = [o.coverage or 0.0 for o in answerable if o.question.type == "multi"]
        return {
            "questions": len(self.outcomes),
            "retrieval_hit_rate": self._rate([bool(o.retrieved) for o in answerable]),
            "gold_paper_cited": self._rate([bool(o.gold_cited) for o in answerable]),
            "fact_recall": self._rate([bool(o.facts_found) for o in answerable if o.question.facts]),
            "multi_paper_coverage": sum(multi) / len(multi) if multi else None,
            "citation_precision": sum(o.right_citations for o in answerable) / citations if citations else None,
            "citations": citations,
            "refusal_accuracy": self._rate([o.status == "not_covered" for o in refusable]),
            "false_refusals": sum(o.status == "not_covered" for o in answerable),
            "sentences_with_unsourced_numbers": sum(o.number_violations for o in self.outcomes),
            "garbled_sentences": sum(o.garbled for o in self.outcomes),
            "answers_with_generated_sentence": self._rate([o.generated_kept > 0 for o in generating]),
            "answers_only_quotes": self._rate([o.generated_kept == 0 for o in generating]),
            "dropped_sentences": sum(reasons.values()),
            "drop_reasons": dict(reasons.most_common()),
            "seconds_per_question": sum(seconds) / len(seconds) if seconds else None,
            "median_seconds": seconds[len(seconds) // 2] if seconds else None,
            "max_seconds": max(seconds, default=None),
        }

    def to_json(self) -> dict[str, object]:
        return {"totals": self.totals(), "tuning": self.tuning, "questions": [o.to_json() for o in self.outcomes]}


def load_questions(path: Path) -> list[Question]:
    """JSONL: {"question", "type", "papers": [titles], "facts": [strings], "related": [titles]}."""
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
            question = Question(str(row["question"]), str(row["type"]), list(row.get("papers", [])),
                                list(row.get("facts", [])), list(row.get("related", [])))
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


def is_garbled(text: str, sources: list[Source], question: str) -> bool:
    """The eval's own garbled-sentence test (see `_ENDINGS`)."""
    from wordfreq import zipf_frequency

    words = _ALPHA.findall(text)
    tokens = re.findall(r"\w+", text)  # "by 7.7%." ends on a number, not on "by"
    if not words or tokens[-1].casefold() in _ENDINGS or re.search(r"\w-(\W|$)", text):
        return True
    if text.count("(") != text.count(")") or text.count("[") != text.count("]") or text.count('"') % 2:
        return True
    known = {w.casefold() for s in sources for w in _ALPHA.findall(" ".join(s.all_sentences()))}
    known |= {w.casefold() for w in _ALPHA.findall(question)}
    return any(w.casefold() not in known and zipf_frequency(w.casefold(), "en") == 0 for w in words)


def score(session: Session, question: Question, result: Result, seconds: float) -> Outcome:
    outcome = Outcome(question, result.status, result.text, seconds, shape=result.shape,
                      sentences=[claim.to_json() for claim in result.claims])
    outcome.dropped = [c.reason or "" for c in result.dropped]
    if question.type == "unanswerable":
        if result.status != "not_covered":
            outcome.notes.append("answered a question the collection cannot answer")
        return outcome
    def ids(titles: list[str]) -> set[str]:
        return {pid for title in titles for pid in session.find(title)[:1]}

    expected, related = ids(question.papers), ids(question.related)
    cited = {s.paper.id for s in result.cited_sources()}
    outcome.retrieved = bool(expected & {s.paper.id for s in result.sources})
    outcome.gold_cited = bool(expected & cited)
    if question.type == "multi":
        outcome.coverage = len(expected & cited) / len(expected) if expected else None
    text = result.text.casefold()
    outcome.facts_found = all(fact.casefold() in text for fact in question.facts)
    by_number = {s.number: s for s in result.sources}
    for claim in result.claims:
        sources = [by_number[n] for n in claim.citations]
        for source in sources:
            outcome.citations += 1
            right = source.paper.id in expected | related and strictly_supported(claim.text, source)
            outcome.right_citations += right
            if not right:
                outcome.notes.append(f"[{source.number}] {source.paper.title[:50]}: {claim.text[:80]}")
        about_collection = claim.origin == "catalogue" and not sources  # "5 papers in the collection list X"
        if not about_collection and numbers_in(claim.text) - set().union(*(numbers_in(" ".join(s.all_sentences()))
                                                                            for s in sources)):
            outcome.number_violations += 1
        if claim.origin == "model":
            outcome.generated_kept += 1
            outcome.garbled += is_garbled(claim.text, sources, question.question)
    return outcome


def evaluate(session: Session, questions: list[Question], progress: Progress | None = None) -> Report:
    """Answer every question and score it; `progress` is told how far it is."""
    progress = progress or NoProgress()
    progress.start("Evaluating", len(questions))
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        result = session.ask(question.question).result
        outcomes.append(score(session, question, result, time.perf_counter() - started))
        progress.advance()
    progress.stop()
    return Report(outcomes, {**session.tuning.changed(), "coverage": session.coverage()})
