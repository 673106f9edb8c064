"""How command results look in a terminal: Rich tables, paper cards and progress bars.

Progress and notes go to stderr so that stdout stays clean for `--json` and pipes.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from assistant.core import wording as present
from assistant.core.safe_text import inert
from assistant.core.records import Paper

if TYPE_CHECKING:
    from rich.progress import Progress

    from assistant.answer.result import Result
    from assistant.ingest.pipeline import FileReport
    from assistant.retrieve.hybrid import SearchResult

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
# In a terminal Rich wraps (keeping indents); into pipes and logs, one line per message.
out.soft_wrap = not out.is_terminal
err.soft_wrap = not err.is_terminal


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
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # not for search

        self.stop()
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=not err.is_terminal,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total or None)
        if total == 0 and not err.is_terminal:
            err.print(description + "…")  # a wait: worth a line even where bars are not drawn

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, amount)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def meta_line(paper: Paper) -> str:
    """`2024-03-11 · 2 authors · 3 upvotes` (only what is known), worded as everywhere else."""
    return present.meta_line(paper.to_json())


def print_reports(reports: list[FileReport], embedded: int, total_papers: int) -> None:
    for report in reports:
        if report.status == "failed":
            err.print(f"[red]✗[/] {shown(report.error or report.path)}")
            continue
        detail = "unchanged, skipped" if report.status == "unchanged" else (
            f"{report.layout}, {report.papers} papers ({report.new} new, {report.changed} changed)"
        )
        out.print(f"[green]✓[/] {shown(report.path)}: {detail}")
        for warning in report.warnings:
            err.print(f"  [yellow]warning:[/] {shown(warning)}")
    failed = sum(r.status == "failed" for r in reports)
    summary = f"{len(reports) - failed} file(s) ingested, {failed} failed; embedded {embedded} paper(s); {total_papers} papers in the collection"
    out.print(("[red]" if failed else "[bold]") + summary)


def _indented(markup: str) -> None:
    """Print indented by four columns: wrapped under the indent in a terminal, one line in a pipe."""
    out.print(Padding(markup, (0, 0, 0, 4)) if out.is_terminal else "    " + markup)


def print_search(result: SearchResult) -> None:
    if not result.hits:
        out.print("No papers match.")
        return
    if not result.covered:
        why = (f"best similarity {result.best_similarity:.2f} < {result.threshold:.2f}"
               if result.best_similarity < result.threshold else
               f"the best paper uses {result.term_coverage:.0%} of the query's key terms, "
               f"and {result.absent_share:.0%} of them appear in no paper")
        err.print(f"[yellow]Nothing in the collection closely matches this query ({why}). The closest papers are:[/]")
    for rank, hit in enumerate(result.hits, start=1):
        out.print(f"[bold]{rank:>2}. {escape(hit.paper.title)}[/]  [dim]{hit.paper.id}[/]")
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
    out.print(table)
    out.print(f"{len(papers)} papers")


def print_paper(paper: Paper) -> None:
    out.print(f"[bold]{escape(paper.title)}[/]")
    out.print(f"[dim]id {paper.id} · {escape(meta_line(paper))}[/]")
    for alias in paper.aliases:
        out.print(f"[dim]also listed as: {escape(alias)}[/]")
    out.print(f"[dim]seen on: {escape(', '.join(paper.pages))}[/]")
    for link in paper.links:
        out.print(f"{link['kind']}: {escape(link['url'])}")
    if paper.url:
        out.print(f"url: {escape(paper.url)}")
    out.print()
    out.print(escape(paper.abstract))


def print_stats(stats: dict[str, object]) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in stats.items():
        if key != "sources":
            table.add_row(key.replace("_", " "), shown(str(value)))
    out.print(table)


def _source_line(number: int, paper: Paper) -> str:
    links = " · ".join(f"{link['kind']}: {link['url']}" for link in paper.links[:2])
    url = f" · {paper.url}" if paper.url else ""
    return f"[bold cyan]\\[{number}][/] {escape(paper.title)} [dim]— {escape(meta_line(paper))}{escape(url)}" + (
        f" · {escape(links)}" if links else "") + f" · {paper.id}[/]"


def print_result(result: Result) -> None:
    """A verified answer or summary, its numbered sources, and what verification removed."""
    data = result.to_json()
    if result.status == "not_covered":
        out.print(f"[yellow]{escape(present.not_covered(data))}[/]")
        for paper in result.closest:
            out.print(f"  • {escape(paper.title)} [dim]— {escape(meta_line(paper))} · {paper.id}[/]")
        return
    if result.standalone:
        err.print(f"[dim]Searched for: {escape(result.standalone)}[/]")
    title = present.heading(data)
    if title:
        out.print(f"[bold]{escape(title)}[/]")
    for section in data["sections"]:  # type: ignore[union-attr]
        if section["heading"]:
            out.print(f"\n[bold]{escape(section['heading'])}[/]")
        out.print(present.section_body(
            section, lambda claim: escape(claim["text"]) + " [cyan]" + escape("".join(f"[{n}]" for n in claim["citations"])) + "[/]"
        ))
    if result.extractive:
        out.print(f"[dim]({present.QUOTED})[/]")
    out.print("\n[bold]Sources[/]")
    for source in result.cited_sources():
        out.print(_source_line(source.number, source.paper))
    if result.dropped:
        out.print(f"\n[dim]{present.REMOVED} ({len(result.dropped)}):[/]")
        for claim in data["dropped"]:  # type: ignore[union-attr]
            out.print(f"[dim]  ✗ {escape(present.dropped_line(claim))}[/]")
    footer = f"{result.timings.get('total', 0.0):.1f} s"
    if result.model:  # a digest quotes: no model wrote it
        speed = result.tokens / result.timings["generate"] if result.timings.get("generate") else 0.0
        footer += f" · {result.tokens} tokens at {speed:.0f}/s · {shown(result.model)}"
    err.print(f"[dim]{footer}[/]")
