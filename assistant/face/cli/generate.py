"""The commands that write grounded results: ask, summarise, digest (which quotes, so it loads no
model) and eval.

While the model writes, its draft streams to the terminal (dimmed); when it is done the draft
is replaced by the verified answer and its numbered sources. Rich and the session are imported
inside the commands, so that `--help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from assistant.core import cite
from assistant.core.errors import AssistantError
from assistant.core.limits import MAX_K_ASK, check_k, check_question
from assistant.core.settings import Settings
from assistant.core.tuning import Tuning
from assistant.face.cli.common import EXIT_NOT_COVERED, EXIT_OK, open_session

if TYPE_CHECKING:
    from assistant.session import Result, Session, Stage, Stream


def session_for(settings: Settings, tuning: Tuning | None = None) -> Session:
    from assistant.session import Session

    Session.check_model(settings)  # a wrong --model is reported before any indexing
    session = open_session(settings, tuning=tuning, warm=True)  # its first search waits less on a large collection
    session.model  # noqa: B018 - load the model before any work, for a prompt error
    return session


def note_waiting(stage: Stage) -> None:
    """Say on stderr why nothing comes for a while: another command (the chat, another `ask`)
    is writing, and this one takes its turn after it."""
    if stage.name == "waiting":
        from assistant.face.cli.output import err

        err().print("waiting for another assistant command to finish writing…", style="dim")


def show(stream: Stream[Result], as_json: bool, cite_format: str | None = None) -> int:
    """Stream the draft (terminal only), then print the verified result (and its cited sources
    in a bibliography format, when asked)."""
    from rich.live import Live
    from rich.text import Text

    from assistant.face.cli.output import out, print_json, print_result

    if as_json or not out().is_terminal:
        result = stream.result
    else:
        draft = Text(style="dim")
        with Live(draft, console=out(), transient=True, refresh_per_second=12) as live:
            for piece in stream:
                draft.append(piece)
                live.update(draft)
        result = stream.result
    shown = result.to_json()
    bibliography = cite.export(list(shown["sources"]), cite_format) if cite_format and shown.get("sources") else None
    if as_json:
        print_json({**shown, "bibliography": bibliography} if cite_format else shown)
    else:
        print_result(result)
        if bibliography:
            sys.stdout.write("\n" + bibliography)
    return EXIT_OK if result.status == "answered" else EXIT_NOT_COVERED


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    question = check_question(args.question)
    check_k(args.k, MAX_K_ASK)
    session = session_for(settings)
    only = session.limited_to(args.author, args.category)
    return show(session.ask(question, k=args.k, only=only, on_stage=note_waiting), args.json, args.cite_format)


def cmd_summarise(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.paper) == bool(args.topic):
        raise AssistantError("give a PAPER to summarise, or --topic QUERY (not both)")
    topic = check_question(args.topic) if args.topic else None
    session = session_for(settings)
    if topic:
        return show(session.summarise_topic(topic, on_stage=note_waiting), args.json)
    return show(session.summarise_paper(args.paper, on_stage=note_waiting), args.json)


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    session = open_session(settings)  # a digest quotes: no model to load
    return show(session.digest(args.page), args.json)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import RichProgress, print_eval_report, print_json
    from assistant.measure.evaluate import evaluate, load_questions

    tuning = Tuning().with_values(args.set)
    questions = load_questions(args.file)
    report = evaluate(session_for(settings, tuning), questions, RichProgress())
    print_json(report.to_json()) if args.json else print_eval_report(report)
    return EXIT_OK
