"""Answer quality against prompt size: an eval question file answered with less and with more
evidence than the default (papers × sentences per paper), with the median prompt in tokens.
Reading the prompt is most of the wait for the first token, so the evidence budget trades
speed against quality; this measures the trade."""

from __future__ import annotations

from pathlib import Path

from assistant.measure.bench.commands import Bench
from assistant.measure.bench.inprocess import Recorder
from assistant.measure.bench.measure import median
from assistant.measure.bench.report import Figure

EVIDENCE = ((3, 1), (3, 3), (5, 5))  # papers × sentences; 3 × 3 is the default (tuning.py)


def prompt_sizes(bench: Bench, questions_file: Path) -> list[Figure]:
    from assistant.core.settings import Settings
    from assistant.core.tuning import Tuning
    from assistant.measure.evaluate import evaluate, load_questions
    from assistant.session import Session

    questions = load_questions(questions_file)
    opened = Session.open(Settings(data_dir=bench.collection))
    recorder = Recorder(opened.model)
    figures: list[Figure] = []
    for papers, sentences in EVIDENCE:
        bench.announce(f"{len(questions)} questions of {questions_file.name}, evidence {papers} papers × {sentences} sentences")
        recorder.calls.clear()
        tuning = Tuning().with_values([f"max_sources={papers}", f"per_source={sentences}"])
        totals = evaluate(Session(opened.settings, opened.store, recorder, tuning), questions).totals()  # type: ignore[arg-type]
        tokens = median([sum(recorder.count_tokens(m["content"]) for m in messages) for messages, _ in recorder.calls])
        label = f"evidence {papers} × {sentences}"
        figures += [
            Figure(f"{label}: prompt", tokens, "tokens", note="median of the model calls"),
            Figure(f"{label}: fact recall", 100 * float(totals["fact_recall"] or 0), "%"),  # type: ignore[arg-type]
            Figure(f"{label}: citation precision", 100 * float(totals["citation_precision"] or 0), "%"),  # type: ignore[arg-type]
            Figure(f"{label}: time per question", float(totals["seconds_per_question"] or 0), "s"),  # type: ignore[arg-type]
        ]
    opened.store.close()
    return figures
