"""The `assistant` command line: parsing, dispatch, and the one place where errors become
messages and exit codes. Heavy libraries are imported inside the commands so `--help` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant import __version__
from assistant.core import cite, wording
from assistant.core.errors import AssistantError, user_error
from assistant.core.limits import MAX_K_ASK, MAX_K_SEARCH, check_k, check_question
from assistant.core.safe_text import inert
from assistant.core.settings import GRAMMAR_STYLES, Settings, load_settings
from assistant.face.cli import generate
from assistant.face.cli.common import EXIT_ERROR, EXIT_OK, open_session

DESCRIPTION = """\
A local research assistant over paper abstracts. It indexes saved pages of paper listings
(and arXiv feeds, BibTeX/RIS/CSL-JSON exports, a Zotero library, JSONL/CSV), finds the papers
that answer a question, and writes answers and summaries in which every sentence cites the
paper it comes from. Fully offline.
A sample collection of five saved pages is indexed on first use, unless that use is `ingest`."""

EPILOG = """\
examples:
  assistant                      (the terminal chat)
  assistant ask "What is the reversal curse?"
  assistant -q "How much faster is ProxyThinker than earlier decoding-time methods?"
  assistant summarise "reversal curse"
  assistant summarise --topic "world models"
  assistant search "why do language models fail to reverse facts"
  assistant search "world models" --since 2024 -k 10
  assistant ingest ~/saved-pages/ papers.jsonl
  assistant show "reversal curse"
  assistant stats --json

exit status: 0 done, 1 error, 2 usage error, 3 the collection does not cover the question.

settings: flags > environment (each flag as ASSISTANT_DATA_DIR, ASSISTANT_EMBED_URL...; and ASSISTANT_EMBEDDER,
ASSISTANT_CACHE_DIR, ASSISTANT_SEED_BUNDLED, ASSISTANT_LLM_API_KEY, ASSISTANT_EMBED_API_KEY) > config file
(ASSISTANT_CONFIG, default: the user config dir's assistant/config.toml) > defaults."""


def _common() -> argparse.ArgumentParser:
    """Options accepted both before and after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="where the index lives (default: the platform's user data dir)")
    vectors = common.add_argument_group("vector options (where they are kept, what embeds them)")
    vectors.add_argument("--chroma-url", default=argparse.SUPPRESS, metavar="URL",
                         help="keep the vectors on a Chroma server (http://HOST:PORT, started with `chroma run`) "
                              "instead of in the data dir; the catalogue stays in the data dir")
    vectors.add_argument("--collection", default=argparse.SUPPRESS, metavar="NAME",
                         help="the collection on the Chroma server (default: named after the data dir)")
    vectors.add_argument("--embed-url", default=argparse.SUPPRESS, metavar="URL",
                         help="embed passages and questions on an OpenAI-compatible server (http://HOST:PORT/v1: "
                              "llama.cpp, Infinity, vLLM, TEI; key in ASSISTANT_EMBED_API_KEY) instead of locally")
    vectors.add_argument("--embed-model", default=argparse.SUPPRESS, metavar="NAME",
                         help="the embedding model to ask for on that server (default: the first it lists)")
    vectors.add_argument("--embed-int8", action="store_true", default=argparse.SUPPRESS,
                         help="embed passages at ingest with an int8 copy of the local embedder: an ingest about 1.4x as "
                              "fast on a CPU, vectors at cosine ~0.993 to the exact ones, so a few answers near the coverage "
                              "thresholds change (see models.md); questions are always embedded exactly")
    model = common.add_argument_group("model options (ask, summarise, eval)")
    model.add_argument("--model", default=argparse.SUPPRESS, metavar="PATH.gguf",
                       help="GGUF model file (default: the bundled SmolLM2-135M-Instruct)")
    model.add_argument("--gpu-layers", type=int, default=argparse.SUPPRESS, metavar="N",
                       help="layers to offload to the GPU, -1 = all, 0 = CPU only (default: all when llama-cpp-python "
                            "was built for a GPU, else 0)")
    model.add_argument("--threads", type=int, default=argparse.SUPPRESS, metavar="N",
                       help="CPU threads for generation (default: one per core)")
    model.add_argument("--ctx", type=int, default=argparse.SUPPRESS, metavar="TOKENS",
                       help="context window in tokens (default 2048)")
    model.add_argument("--prompts-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                       help="folder of prompt templates replacing the bundled ones")
    model.add_argument("--llm-url", default=argparse.SUPPRESS, metavar="URL",
                       help="generate on an OpenAI-compatible server (http://HOST:PORT/v1: llama.cpp, vLLM or a "
                            "hosted API; key in ASSISTANT_LLM_API_KEY) instead of with --model")
    model.add_argument("--llm-model", default=argparse.SUPPRESS, metavar="NAME",
                       help="the model to ask for on that server (default: the first it lists)")
    model.add_argument("--llm-grammar", default=argparse.SUPPRESS,
                       choices=GRAMMAR_STYLES,
                       help="how the citation grammar is sent: by the server's kind (auto, the default), as "
                            "llama.cpp's grammar, vLLM's structured_outputs or older guided_grammar, or not at all")
    model.add_argument("--llm-timeout", type=int, default=argparse.SUPPRESS, metavar="SECONDS",
                       help="how long to wait for the server, or the embedding server (default 120)")
    return common


def command_parser(commands: argparse._SubParsersAction, name: str, help_: str,
                   common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=help_, description=help_, parents=[common])


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="assistant", description=DESCRIPTION, epilog=EPILOG, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument("-q", "--ask", metavar="QUESTION", help="ask one question (same as the ask command)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="with --ask: machine-readable answer")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    command_parser(commands, "chat", "open the terminal chat (also what `assistant` alone does)", common)

    ask = command_parser(commands, "ask", "answer a question from the collection, citing the papers", common)
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("-k", type=int, default=5, metavar="N", help=f"papers to retrieve before choosing sources (default 5, at most {MAX_K_ASK})")
    ask.add_argument("--json", action="store_true", help="print answer, per-sentence citations, sources and timings as JSON")
    ask.add_argument("--author", metavar="NAME", help="answer only from papers by this author")
    ask.add_argument("--category", metavar="CAT", help="answer only from papers in this category or keyword")
    ask.add_argument("--cite-format", choices=cite.FORMATS, metavar="{bibtex,csl-json,ris}",
                     help="after the answer, print its cited sources in this bibliography format")
    ask.add_argument("--bibtex", dest="cite_format", action="store_const", const="bibtex",
                     help="the same as --cite-format bibtex")

    summarise = command_parser(commands, "summarise", "summarise a paper (TL;DR and key findings) or a topic", common)
    summarise.add_argument("paper", nargs="?", metavar="PAPER", help="a paper id, or its title or part of it")
    summarise.add_argument("--topic", metavar="QUERY", help="summarise what the collection says about a topic instead")
    summarise.add_argument("--json", action="store_true", help="print the summary as JSON")

    digest = command_parser(commands, "digest", "a digest of one saved page, grouped by theme", common)
    digest.add_argument("page", metavar="PAGE", help="the page's file name (or part of it), as listed by `stats`")
    digest.add_argument("--json", action="store_true", help="print the digest as JSON")

    evaluate = command_parser(commands, "eval", "measure answer quality on a question file", common)
    evaluate.add_argument("file", type=Path, metavar="FILE", help="JSONL questions (see README: Evaluation)")
    evaluate.add_argument("--json", action="store_true", help="print per-question details and totals as JSON")
    evaluate.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          help="change one tuning value for this run (repeatable), e.g. --set list_max_papers=6; "
                               "the names are the fields of assistant/core/tuning.py")

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        return command_parser(commands, name, help_, common)

    ingest = command("ingest", "add papers from saved listing pages, arXiv feeds, BibTeX/RIS/CSL-JSON exports, "
                               "JSONL or CSV files (or folders of them) to the index")
    ingest.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help=f"files or folders to read: {wording.READABLE_FORMATS}")
    ingest.add_argument("--samples", action="store_true",
                        help="also index the bundled sample collection (311 papers; a data directory whose first "
                             "command is ingest holds only your papers)")
    ingest.add_argument("--json", action="store_true", help="print a machine-readable report")

    remove_ = command("remove", "take papers out of the index: an ingested file's (unless another file lists them), "
                                "or single papers")
    remove_.add_argument("targets", nargs="+", metavar="FILE-or-ID",
                         help="an ingested file or folder (its path, or its name as `stats` lists it), or a paper id "
                              "or title")
    remove_.add_argument("--json", action="store_true", help="print a machine-readable report")

    search = command("search", "find the papers that best match a question or topic")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("-k", type=int, default=5, metavar="N", help=f"number of papers to show (default 5, at most {MAX_K_SEARCH})")
    search.add_argument("--since", metavar="DATE", help="only papers published on or after DATE (2024, 'Mar 2024', 2024-03-15)")
    search.add_argument("--until", metavar="DATE", help="only papers published on or before DATE")
    search.add_argument("--author", metavar="NAME", help="only papers by this author ('Abbeel', 'P. Abbeel', "
                                                         "'Pieter Abbeel')")
    search.add_argument("--category", metavar="CAT", help="only papers in this arXiv category or keyword "
                                                          "('cs.RO'; 'cs' for all of cs.*)")
    search.add_argument("--json", action="store_true", help="print machine-readable results")

    papers = command("papers", "list the papers in the collection")
    papers.add_argument("--sort", choices=["date", "title"], default="date", help="newest first (default) or by title")
    papers.add_argument("--limit", type=int, metavar="N", help="show at most N papers")
    papers.add_argument("--json", action="store_true", help="print machine-readable records")
    papers.add_argument("--format", choices=cite.FORMATS, metavar="{bibtex,csl-json,ris}",
                        help="print the papers as a bibliography to import elsewhere (BibTeX, CSL-JSON or RIS)")

    cite_ = command("cite", "print papers as BibTeX (or CSL-JSON, RIS) to paste into a bibliography")
    cite_.add_argument("papers", nargs="+", metavar="ID-or-TITLE", help="paper ids, or titles or parts of them")
    cite_.add_argument("--format", choices=cite.FORMATS, default="bibtex", metavar="{bibtex,csl-json,ris}",
                       help="the bibliography format (default: bibtex)")

    show = command("show", "show one paper: metadata, links and full abstract")
    show.add_argument("paper", metavar="ID-or-TITLE", help="a paper id, or its title or part of it")
    show.add_argument("--json", action="store_true", help="print the machine-readable record")

    stats = command("stats", "show what the index holds and where it lives")
    stats.add_argument("--json", action="store_true", help="print machine-readable statistics")

    command("reindex", "rebuild all vectors (needed after changing the embedder)")

    check = command("check", "verify that the catalogue and the vectors agree exactly (and repair them)")
    check.add_argument("--repair", action="store_true",
                       help="drop stray vectors, re-embed papers whose vectors are missing, rebuild the keyword index")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")

    bench = command("bench", "measure speed on this machine against the bare libraries and the `llm` command, in temporary data directories with default settings")
    bench.add_argument("--quick", action="store_true", help="2 rounds and a 150-paper ingest instead of 1,000 (about 3-4 minutes)")
    bench.add_argument("--rounds", type=int, metavar="N", help="runs of each timed command (default 5, or 2 with --quick)")
    bench.add_argument("--scale", type=int, action="append", default=[], metavar="PAPERS",
                       help="also measure a synthetic collection of this many papers (repeatable; 10000 takes "
                            "about 20 minutes on 2 cores)")
    bench.add_argument("--scale-only", action="store_true", help="measure only the --scale collections")
    bench.add_argument("--stand-in-vectors", action="store_true",
                       help="build the --scale collections without embedding them: each passage's vector is the mean of "
                            "its words' vectors (for sizes too large to embed here; search and ask still run for real)")
    bench.add_argument("--prompt-sizes", type=Path, metavar="QUESTIONS.jsonl",
                       help="also answer an eval question file with 3×1, 3×3 (the default) and 5×5 papers × sentences "
                            "of evidence: quality against prompt tokens (three evals' time)")
    bench.add_argument("--out", type=Path, default=Path("bench.json"), metavar="FILE",
                       help="where to write the figures as JSON (default: bench.json)")
    return parser


SETTING_FLAGS = ("data_dir", "model", "gpu_layers", "threads", "ctx", "prompts_dir", "chroma_url", "collection",
                 "llm_url", "llm_model", "llm_grammar", "llm_timeout", "embed_url", "embed_model", "embed_int8")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings({name: getattr(args, name, None) for name in SETTING_FLAGS})


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import RichProgress, print_json, print_reports

    if not args.paths and not args.samples:
        raise AssistantError("give the files or folders to ingest (or --samples for the bundled sample collection)")
    # ingest into a new data directory adds only what it is given: no sample papers mixed in
    session = open_session(settings, seed=False)
    reports = session.ingest(args.paths, RichProgress(), samples=args.samples)
    total = session.paper_count()
    if args.json:
        print_json({"files": [r.to_json() for r in reports], "papers": total})
    else:
        embedded = sum(r.new + r.changed for r in reports)
        print_reports(reports, embedded, total)
    return EXIT_ERROR if any(r.status == "failed" for r in reports) else EXIT_OK


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import RichProgress, print_json, print_removals

    session = open_session(settings, seed=False)
    reports = session.remove(args.targets, RichProgress())
    total = session.paper_count()
    if args.json:
        print_json({"removed": [r.to_json() for r in reports], "papers": total})
    else:
        print_removals(reports, total)
    return EXIT_ERROR if any(r.error for r in reports) else EXIT_OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import print_json, print_search

    query = check_question(args.query)
    check_k(args.k, MAX_K_SEARCH)
    since, until = _bounds(args.since, args.until)
    result = open_session(settings).search(query, k=args.k, since=since, until=until, author=args.author,
                                           category=args.category)
    print_json(result.to_json()) if args.json else print_search(result)
    return EXIT_OK


def _bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """--since and --until as ISO dates, a range no paper can match refused before the collection
    opens (date parsing is imported only when they are given)."""
    if not since and not until:
        return None, None
    from assistant.core.dates import check_range, parse_bound

    bounds = (parse_bound(since) if since else None), (parse_bound(until, end=True) if until else None)
    check_range(*bounds)
    return bounds


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import print_json, print_papers

    papers = open_session(settings).papers(args.sort, args.limit)
    if args.format:
        sys.stdout.write(cite.export([p.to_json() for p in papers], args.format))
    elif args.json:
        print_json({"count": len(papers), "papers": [p.to_json() for p in papers]})
    else:
        print_papers(papers)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import print_json, print_paper

    paper = open_session(settings).resolve(args.paper)
    print_json(paper.to_json()) if args.json else print_paper(paper)
    return EXIT_OK


def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    session = open_session(settings)
    papers = {paper.id: paper for paper in (session.resolve(text) for text in args.papers)}  # each once
    sys.stdout.write(cite.export([paper.to_json() for paper in papers.values()], args.format))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import print_json, print_stats

    stats = open_session(settings).stats()
    print_json(stats) if args.json else print_stats(stats)
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import RichProgress, out

    session = open_session(settings, seed=False, allow_new_embedder=True)
    count = session.reindex(RichProgress())
    out().print(f"Re-embedded {count} papers with {session.embedder_name}.")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.cli.output import RichProgress, out, print_json

    report, problems = open_session(settings, seed=False).check(RichProgress(), repair_it=args.repair)
    if args.json:
        print_json(report.to_json() | ({"repaired": problems} if args.repair else {}))
    else:
        for line in problems:
            out().print(f"{'[green]repaired:[/]' if args.repair and report.consistent else '[red]✗[/]'} {line}")
        verdict = "consistent" if report.consistent else "NOT consistent (run `assistant check --repair`)"
        out().print(f"{report.papers} papers, {report.passages} passages: {verdict}")
        unfinished = f", {report.unfinished_answers} answer(s) left unfinished by a crash (kept, marked as such)" \
            if report.unfinished_answers else ""
        out().print(f"{report.conversations} saved conversation(s){unfinished}")
    return EXIT_OK if report.consistent else EXIT_ERROR


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.face.tui.app import run

    run(settings)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Measured in its own temporary data directories with default settings: the user's
    collection and settings are neither used nor touched."""
    from assistant.measure.bench import run_bench

    if args.rounds is not None and args.rounds < 1:
        raise AssistantError("--rounds must be at least 1")
    if any(n < 1 for n in args.scale):
        raise AssistantError("--scale takes a number of papers, at least 1")
    if args.scale_only and not args.scale:
        raise AssistantError("--scale-only needs at least one --scale PAPERS")
    if args.prompt_sizes is not None and not args.prompt_sizes.is_file():
        raise AssistantError(f"--prompt-sizes: no such question file: {args.prompt_sizes}")
    return run_bench(quick=args.quick, rounds=args.rounds, scales=args.scale, out=args.out, scale_only=args.scale_only,
                     stand_in_vectors=args.stand_in_vectors,
                     prompt_questions=args.prompt_sizes)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "ingest": cmd_ingest, "search": cmd_search, "papers": cmd_papers, "show": cmd_show, "cite": cmd_cite,
    "remove": cmd_remove,
    "stats": cmd_stats, "reindex": cmd_reindex, "check": cmd_check, "chat": cmd_chat,
    "ask": generate.cmd_ask, "summarise": generate.cmd_summarise, "digest": generate.cmd_digest,
    "eval": generate.cmd_eval, "bench": cmd_bench,
}


def _fail(exc: Exception) -> int:
    sys.stderr.write(f"error: {inert(str(exc))}\n")  # messages may quote file names
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ask is not None:
        if args.command is not None:
            parser.error("give either --ask QUESTION or a command, not both")
        args.command, args.question, args.k = "ask", args.ask, 5
        args.json, args.cite_format, args.author, args.category = getattr(args, "json", False), None, None, None
    if args.command is None:
        args.command = "chat"
    try:
        settings = _settings(args)
    except AssistantError as exc:
        return _fail(exc)
    try:
        return COMMANDS[args.command](args, settings)
    except Exception as exc:
        failure = user_error(exc, settings.data_dir)
        if failure is None:
            raise
        return _fail(failure)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; run the same command again to finish\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
