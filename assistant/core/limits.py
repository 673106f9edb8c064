"""What a question and a result count may be: checked once, worded once, for the CLI and the chat.

A question longer than `MAX_QUESTION_CHARS` cannot leave room for the sources in the model's
context, and a pasted page is not a question. An answer uses a handful of sources, so `ask -k`
stops at `MAX_K_ASK`; a search lists at most `MAX_K_SEARCH` papers, past which `papers` is the
better tool.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.core.errors import AssistantError

MAX_QUESTION_CHARS = 2000
MAX_K_ASK = 20
MAX_K_SEARCH = 200
# Search-time vectors an embedder keeps before its memo starts again: a conversation's
# questions and their evidence sentences (about 50 a question). 2,000 × 384 dimensions is
# about 25 MB as Python floats (32 bytes each); a served model 1,024 wide, about 65 MB.
KNOWN_TEXTS = 2_000


def embedded_once(known: dict[str, list[float]], texts: list[str],
                  embed: Callable[[list[str]], list[list[float]]]) -> list[list[float]]:
    """Vectors for `texts` from the memo `known`, embedding (once each, in one call) only the
    texts it lacks; past `KNOWN_TEXTS` the memo starts again rather than grow."""
    new = list(dict.fromkeys(text for text in texts if text not in known))
    if new:
        if len(known) + len(new) > KNOWN_TEXTS:
            known.clear()
        known.update(zip(new, embed(new)))
    return [known[text] for text in texts]


def check_question(text: str) -> str:
    """The question without surrounding space; refuses an empty or an overlong one."""
    question = text.strip()
    if not question:
        raise AssistantError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise AssistantError(
            f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,} "
            "(the model's context must hold the sources too). To work from a longer text, save it as a page "
            "and `assistant ingest` it, or search for a few of its key phrases"
        )
    return question


def check_k(k: int, most: int) -> int:
    """`-k` between 1 and `most`, with a message naming the range."""
    if not 1 <= k <= most:
        raise AssistantError(f"-k must be between 1 and {most} (got {k})")
    return k
