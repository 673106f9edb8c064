"""Writing with the model: the citation grammar, fitting evidence into the context window, and
streaming the model's text (made inert) with the stages a face shows."""

from __future__ import annotations

import time
from collections.abc import Generator

from assistant.answer.evidence import Source
from assistant.answer.prompts import Prompt
from assistant.answer.result import Stage
from assistant.core.errors import AssistantError
from assistant.core.records import split_sentences
from assistant.core.safe_text import inert
from assistant.model.chat import ChatModel, Sampling, Waiting

MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message


def citation_grammar(sentences: int, numbers: list[int]) -> str:
    """GBNF: 1..`sentences` sentences, each ending with the citation of a given source.

    Small models drop citations, or invent source numbers, when free to; the grammar makes a
    valid citation part of every sentence's shape. Whether the cited source really supports
    the sentence is left to verification.
    """
    cites = " | ".join(f'"{n}"' for n in numbers)
    return "\n".join([
        f'root ::= sentence (" " sentence){{0,{max(sentences - 1, 0)}}}',
        r'sentence ::= [A-Z0-9"] [^\[\]\n]{8,300} " [" cite "]" "."?',
        f"cite ::= {cites}",
    ])


def fit_sources(model: ChatModel, prompt: Prompt, sources: list[Source], values: dict[str, str],
                max_tokens: int) -> tuple[list[dict[str, str]], list[Source]]:
    """Fill the prompt, dropping the least important evidence until it fits `n_ctx`.

    Sources are ranked, and within a source sentences are in text order; the last source's
    sentences go first, then whole sources, never the first source's first sentence.
    """
    kept = [Source(s.number, s.paper, list(s.sentences), s.similarity) for s in sources]
    budget = model.n_ctx - max_tokens
    while True:
        messages = prompt.messages(sources="\n".join(s.block() for s in kept), **values)
        used = sum(model.count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)
        if used <= budget:
            return messages, kept
        last = kept[-1]
        if len(last.sentences) > 1:
            kept[-1] = Source(last.number, last.paper, last.sentences[:-1], last.similarity)
        elif len(kept) > 1:
            kept.pop()
        else:
            raise AssistantError(
                f"the prompt needs {used} tokens but the context window leaves {budget}; use a larger --ctx or a shorter question"
            )


def generate(model: ChatModel, messages: list[dict[str, str]], sampling: Sampling, timings: dict[str, float], *,
             activity: str = "writing", checked: bool = True) -> Generator[str | Stage, None, tuple[str, int]]:
    """Stream the model's pieces; returns (full text, number of pieces). Time spent is added
    to `timings["generate"]`, so several generations in one result add up; `timings["first_token"]`
    is how long the first of them waited for its first piece. Stages announce
    the writing, a wait for another command's turn to write, and, when verification follows
    (`checked`), how many sentences it checks."""
    started = time.perf_counter()
    pieces: list[str] = []
    yield Stage(activity)
    for raw in model.stream(messages, sampling):
        if isinstance(raw, Waiting):  # another command on this machine is writing: say so (the next piece says it goes on)
            yield Stage("waiting")
            continue
        if "first_token" not in timings:  # the model's wait before it writes (loading, reading the prompt)
            timings["first_token"] = time.perf_counter() - started
        piece = inert(raw)  # a model can write control characters too; none reach a terminal
        pieces.append(piece)
        yield piece
    timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - started
    text = "".join(pieces)
    if checked:
        yield Stage("checking", len(split_sentences(text)))
    return text, len(pieces)
