"""How command results look in a terminal: Rich tables, paper cards and progress bars.

Progress and notes go to stderr so that stdout stays clean for `--json` and pipes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from assistant.core import wording
from assistant.core.records import Paper
from assistant.core.safe_text import inert

if TYPE_CHECKING:
    from rich.progress import Progress

    from assistant.measure.evaluate import Report as EvalReport
    from assistant.session import FileReport, Removal, Result, SearchResult

def _console(stderr: bool) -> Console:
    """A console on the stream as it is now (a test may have replaced it). In a terminal Rich
    wraps (keeping indents); into pipes and logs, one line per message."""
    console = Console(stderr=stderr, highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


def out() -> Console:
    """Where results go: stdout."""
    return _console(stderr=False)


def err() -> Console:
    """Where progress, notes and footers go: stderr, so stdout stays clean for --json and pipes."""
    return _console(stderr=True)


_C1 = re.compile(r"[\x7f-\x9f]")


def print_json(data: object) -> None:
    """JSON escapes C0 controls itself; C1 controls (which terminals also obey) are escaped
    here, so that no text (a file name, say) can act on a terminal the JSON is shown in."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    sys.stdout.write(_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def shown(text: str) -> str:
    """Text from outside the catalogue (file names, error messages) made safe to print as markup."""
    return escape(inert(text))


class RichProgress:
    """Progress bars on stderr (only drawn when stderr is a terminal)."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task: int | None = None

    def start(self, description: str, total: int) -> None:
        from rich.progress import (  # not for search
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.stop()
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err(), transient=True, disable=not err().is_terminal,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total or None)
        if total == 0 and not err().is_terminal:
            err().print(description + "…")  # a wait: worth a line even where bars are not drawn

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, amount)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def meta_line(paper: Paper) -> str:
    """`2024-03-11 · 2 authors · 3 upvotes` (only what is known), worded as everywhere else."""
    return wording.meta_line(paper.to_json())


def print_reports(reports: list[FileReport], embedded: int, total_papers: int) -> None:
    for report in reports:
        if report.status == "failed":
            err().print(f"[red]✗[/] {shown(report.error or report.path)}")
            continue
        detail = "unchanged, skipped" if report.status == "unchanged" else (
            f"{report.layout}, {report.papers} papers ({report.new} new, {report.changed} changed)"
        )
        out().print(f"[green]✓[/] {shown(report.path)}: {detail}")
        for warning in report.warnings:
            err().print(f"  [yellow]warning:[/] {shown(warning)}")
    failed = sum(r.status == "failed" for r in reports)
    summary = f"{len(reports) - failed} file(s) ingested, {failed} failed; embedded {embedded} paper(s); {total_papers} papers in the collection"
    out().print(("[red]" if failed else "[bold]") + summary)
    if failed:
        err().print(f"[dim]Readable: {wording.READABLE_FORMATS}.[/]")


def print_removals(reports: list[Removal], total_papers: int) -> None:
    for report in reports:
        if report.error:
            err().print(f"[red]✗[/] {shown(report.target)}: {shown(report.error)}")
        elif report.kind == "file":
            kept = f"; {report.kept} kept, listed by another file" if report.kept else ""
            out().print(f"[green]✓[/] {shown(report.target)}: {wording.plural(report.removed, 'paper')} removed{kept}")
        else:
            out().print(f"[green]✓[/] {shown(report.target)}: removed")
    out().print(f"[bold]{total_papers} papers in the collection")


def _indented(markup: str) -> None:
    """Print indented by four columns: wrapped under the indent in a terminal, one line in a pipe."""
    out().print(Padding(markup, (0, 0, 0, 4)) if out().is_terminal else "    " + markup)


def print_search(result: SearchResult) -> None:
    if not result.hits:
        out().print("No papers match.")
        return
    if not result.covered:
        why = (f"best similarity {result.best_similarity:.2f} < {result.threshold:.2f}"
               if result.best_similarity < result.threshold else
               f"the best paper uses {result.term_coverage:.0%} of the query's key terms, "
               f"and {result.absent_share:.0%} of them appear in no paper")
        err().print(f"[yellow]Nothing in the collection closely matches this query ({why}). The closest papers are:[/]")
    for rank, hit in enumerate(result.hits, start=1):
        out().print(f"[bold]{rank:>2}. {escape(hit.paper.title)}[/]  [dim]{hit.paper.id}[/]")
        similarity = "keyword match only" if hit.similarity is None else f"similarity {hit.similarity:.2f}"
        _indented(f"[dim]{escape(meta_line(hit.paper))} · {similarity}[/]")
        # Passages are "title. sentences"; show the sentences, or the abstract's start when the
        # title itself was the best match.
        snippet = (hit.passage or "").removeprefix(hit.paper.title).removeprefix(". ").strip() or hit.paper.abstract
        _indented(f"{escape(snippet[:220])}{'…' if len(snippet) > 220 else ''}")


def print_papers(papers: list[Paper]) -> None:
    table = Table(show_lines=False, expand=False)
    table.add_column("id", style="dim", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("authors", justify="right")
    table.add_column("title", overflow="fold")
    for paper in papers:
        table.add_row(paper.id, paper.date or paper.date_raw or "", "" if paper.authors is None else str(paper.authors),
                      escape(paper.title))
    out().print(table)
    out().print(f"{len(papers)} papers")


def print_paper(paper: Paper) -> None:
    out().print(f"[bold]{escape(paper.title)}[/]")
    out().print(f"[dim]id {paper.id} · {escape(meta_line(paper))}[/]")
    by = wording.authors_line(paper.to_json())
    if by:
        out().print(escape(by))
    ids = wording.identifiers_line(paper.to_json())
    if ids:
        out().print(f"[dim]{escape(ids)}[/]")
    for alias in paper.aliases:
        out().print(f"[dim]also listed as: {escape(alias)}[/]")
    out().print(f"[dim]seen on: {escape(', '.join(paper.pages))}[/]")
    for link in paper.links:
        out().print(f"{link['kind']}: {escape(link['url'])}")
    if paper.url:
        out().print(f"url: {escape(paper.url)}")
    out().print()
    out().print(escape(paper.abstract))


def print_stats(stats: dict[str, object]) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in stats.items():
        if key == "coverage" and isinstance(value, dict):
            table.add_row("coverage", shown(coverage_line(value)))
        elif key != "sources":
            table.add_row(key.replace("_", " "), shown(str(value)))
    out().print(table)


def coverage_line(coverage: Mapping[str, Any]) -> str:
    """"similarity ≥ 0.41 to be covered, ≥ 0.56 whatever the wording (calibrated on 150 near
    misses of 3121 papers)": the thresholds, and where they come from."""
    t = coverage["thresholds"]
    line = (f"similarity ≥ {t['coverage_threshold']:.2f} to be covered (≥ {t['named_similarity']:.2f} when a paper "
            f"uses every distinctive word), ≥ {t['confident_similarity']:.2f} whatever the wording")
    if coverage.get("calibrated"):
        return line + (f" (calibrated on {coverage['probes']} near misses of this collection's "
                       f"{coverage['papers']} papers, median {coverage['near_miss_median']:.2f})")
    return line + " (fixed: the collection is too small to calibrate)"


def _source_line(source: Mapping[str, Any]) -> str:
    links = " · ".join(f"{link['kind']}: {link['url']}" for link in (source.get("links") or [])[:2])
    url = f" · {source['url']}" if source.get("url") else ""
    return f"[bold cyan]\\[{source['number']}][/] {escape(source['title'])} [dim]— {escape(wording.meta_line(source))}" \
        f"{escape(url)}" + (f" · {escape(links)}" if links else "") + f" · {source['id']}[/]"


def _refusal(result: Mapping[str, Any]) -> str:
    closest = [f"  • {escape(p['title'])} [dim]— {escape(wording.meta_line(p))} · {p['id']}[/]"
               for p in result.get("closest") or []]
    return "\n".join([f"[yellow]{escape(wording.not_covered(result))}[/]", *closest])


def _dropped(dropped: list[Mapping[str, Any]]) -> str:
    lines = [f"[dim]  ✗ {escape(wording.dropped_line(claim))}[/]" for claim in dropped]
    return "\n".join([f"\n[dim]{wording.REMOVED} ({len(dropped)}):[/]", *lines])


# A result in the terminal, as Rich markup: one part a line, sections and lists set off by a blank line.
TERMINAL = wording.Style(
    claim=lambda claim: escape(claim["text"]) + " [cyan]" + escape("".join(f"[{n}]" for n in claim["citations"])) + "[/]",
    section=lambda head, body: f"\n[bold]{escape(head)}[/]\n{body}" if head else body,
    refusal=_refusal,
    between="\n",
    title=lambda title: f"[bold]{escape(title)}[/]",
    quoted=lambda note: f"[dim]({note})[/]",
    sources=lambda sources: "\n".join(["\n[bold]Sources[/]", *map(_source_line, sources)]),
    dropped=_dropped,
)


def print_result(result: Result) -> None:
    """A verified answer or summary, its numbered sources, and what verification removed."""
    if result.standalone and result.status != "not_covered":
        err().print(f"[dim]Searched for: {escape(result.standalone)}[/]")
    out().print(wording.render(result.to_json(), TERMINAL))
    if result.status == "not_covered":
        return
    footer = f"{result.timings.get('total', 0.0):.1f} s"
    if result.model and result.tokens:  # a digest or a catalogue answer: no model wrote it
        speed = result.tokens / result.timings["generate"] if result.timings.get("generate") else 0.0
        footer += f" · {result.tokens} tokens at {speed:.0f}/s · {shown(result.model)}"
    err().print(f"[dim]{footer}[/]")


def print_eval_report(report: EvalReport) -> None:
    """The eval's table of questions, then its totals."""
    from rich.markup import escape
    from rich.table import Table

    table = Table("type", "question", "shape", "status", "cited", "facts", "model", "s")
    flag = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}
    for o in report.outcomes:
        cited = f"{o.coverage:.0%}" if o.coverage is not None else flag[o.gold_cited]
        table.add_row(o.question.type, escape(o.question.question[:60]), o.shape, o.status, cited,
                      flag[o.facts_found], str(o.generated_kept) if o.status == "answered" else "", f"{o.seconds:.1f}")
    out().print(table)
    changed = {k: v for k, v in report.tuning.items() if k != "coverage"}
    if changed:
        out().print("tuning changed: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    coverage = report.tuning.get("coverage")
    if isinstance(coverage, dict):
        out().print(f"coverage: {coverage_line(coverage)}")
    for name, value in report.totals().items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
        elif isinstance(value, float):
            shown = f"{value:.2f}" if "seconds" in name else f"{value:.1%}"
        else:
            shown = str(value)
        out().print(f"{name.replace('_', ' '):34} {shown}")
