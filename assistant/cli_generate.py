"""The commands that use the language model: ask, summarise, digest, eval.

While the model writes, its draft streams to the terminal (dimmed); when it is done the draft
is replaced by the verified answer and its numbered sources.
"""

from __future__ import annotations

import argparse

from rich.live import Live
from rich.text import Text

from assistant.cli import EXIT_NOT_COVERED, EXIT_OK, open_ready
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.grounded import Result
from assistant.output import out, print_json, print_result
from assistant.session import Session, Stream
from assistant.tuning import Tuning


def session_for(settings: Settings, tuning: Tuning | None = None) -> Session:
    session = Session(settings, open_ready(settings), tuning=tuning)
    session.model  # noqa: B018 - check the model file before any work, for a prompt error
    return session


def show(stream: Stream[Result], as_json: bool) -> int:
    """Stream the draft (terminal only), then print the verified result."""
    if as_json or not out.is_terminal:
        result = stream.result
    else:
        draft = Text(style="dim")
        with Live(draft, console=out, transient=True, refresh_per_second=12) as live:
            for piece in stream:
                draft.append(piece)
                live.update(draft)
        result = stream.result
    if as_json:
        print_json(result.to_json())
    else:
        print_result(result)
    return EXIT_OK if result.status == "answered" else EXIT_NOT_COVERED


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.question.strip():
        raise AssistantError("the question is empty")
    session = session_for(settings)
    return show(session.ask(args.question, k=args.k), args.json)


def cmd_summarise(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.paper) == bool(args.topic):
        raise AssistantError("give a PAPER to summarise, or --topic QUERY (not both)")
    session = session_for(settings)
    if args.topic:
        return show(session.summarise_topic(args.topic), args.json)
    return show(session.summarise_paper(args.paper), args.json)


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    session = session_for(settings)
    return show(session.digest(args.page), args.json)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluate import evaluate, load_questions, print_report

    tuning = Tuning().with_values(args.set)
    questions = load_questions(args.file)
    report = evaluate(session_for(settings, tuning), questions)
    print_json(report.to_json()) if args.json else print_report(report)
    return EXIT_OK
