"""Generation on an OpenAI-compatible server (llama.cpp's `llama-server`, llama-cpp-python's
`python -m llama_cpp.server`, vLLM, or a hosted service), through the `openai` client.

The answer pipeline is the same as with the in-process model: the text streams in pieces and
is verified afterwards. The citation grammar travels with the request where the server takes
one (`grammar` for llama.cpp servers; `structured_outputs` for recent vLLM, `guided_grammar`
for older); elsewhere verification alone guards the output. Every failure (refused
connection, timeout, an error status, a stream that stops half-way) is a `ModelError` naming
the server, so a half-written answer is never verified and shown as an answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any, TypeVar

from assistant.core.settings import GRAMMAR_STYLES
from assistant.model.chat import ModelError, Sampling

T = TypeVar("T")

# How the citation grammar is sent, by setting; "auto" picks by the server's `owned_by`.
_STYLE_BY_OWNER = {"llamacpp": "grammar", "me": "grammar", "vllm": "structured_outputs"}
# Sampling fields beyond the OpenAI API, by server family (a hosted API may refuse unknown ones).
_PENALTY_FIELD = {"grammar": "repeat_penalty", "structured_outputs": "repetition_penalty",
                  "guided_grammar": "repetition_penalty"}
CHARS_PER_TOKEN = 3  # the estimate when the server cannot count: English runs at about 4


class ServerModel:
    """A chat model on a server: `ChatModel` over the OpenAI chat-completions API."""

    def __init__(self, url: str, model: str | None = None, *, n_ctx: int = 2048, grammar: str = "auto",
                 api_key: str | None = None, timeout: float = 120.0) -> None:
        import httpx
        import openai

        if grammar not in GRAMMAR_STYLES:
            raise ModelError(f"llm_grammar must be one of {', '.join(GRAMMAR_STYLES)}, not {grammar!r}")
        self.url = url.rstrip("/")
        self.served = model or ""  # the model's name on the server, sent with each request
        self.n_ctx = n_ctx
        self.timeout = timeout
        self._openai = openai
        self._client = openai.OpenAI(base_url=self.url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)
        self._http = httpx.Client(timeout=timeout)
        listed = self._call(lambda: list(self._client.models.list().data))
        if model is None and not listed:
            raise ModelError(f"the model server at {self.url} lists no model: name one with --llm-model")
        self.served = model or listed[0].id
        self.name = shown_name(self.served)
        # the server's kind, from the model asked for or else the first listed (a llama.cpp
        # server answers for its one model whatever name is asked for)
        chosen = next((m for m in listed if m.id == self.served), listed[0] if listed else None)
        owner = str(getattr(chosen, "owned_by", "") or "")
        self.grammar_style = _STYLE_BY_OWNER.get(owner, "none") if grammar == "auto" else grammar
        self._counter: Callable[[str], int] | None = None

    # -- errors -----------------------------------------------------------------------------
    def _failure(self, exc: BaseException, during: str = "") -> ModelError:
        openai = self._openai
        where = f"the model server at {self.url}"
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"{where} did not answer within {self.timeout:.0f} s{during}")
        if isinstance(exc, openai.AuthenticationError):
            return ModelError(f"{where} refused the API key (set ASSISTANT_LLM_API_KEY){during}")
        if isinstance(exc, openai.NotFoundError):
            what = f"model {self.served!r}" if self.served else "model list"
            return ModelError(f"{where} has no {what} or no chat endpoint "
                              f"(check --llm-model, and that --llm-url ends in /v1){during}")
        if isinstance(exc, openai.APIStatusError):
            return ModelError(f"{where} answered {exc.status_code}: {_short(exc.message)}{during}")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return ModelError(f"{where} cannot be reached ({_short(str(cause) or type(cause).__name__)}){during}; "
                              "start it (see the README's \"Scaling out\") or check --llm-url")
        return ModelError(f"{where} failed ({_short(str(exc) or type(exc).__name__)}){during}")

    def _known(self, exc: BaseException) -> bool:
        """Errors of the network and the server, not bugs of ours."""
        return isinstance(exc, (self._openai.APIError, OSError)) or type(exc).__module__.split(".")[0].startswith("httpx")

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except Exception as exc:
            if self._known(exc):
                raise self._failure(exc) from exc
            raise

    # -- ChatModel ----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """The server's own count where it has a tokenize endpoint (llama.cpp servers, vLLM),
        else a deliberately high estimate, so that prompts are trimmed too much rather than
        overflowing the server's context."""
        if self._counter is None:
            self._counter = self._find_counter()
        return self._counter(text)

    def _find_counter(self) -> Callable[[str], int]:
        root = self.url.removesuffix("/v1")
        candidates: list[tuple[str, Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], int]]] = [
            (f"{root}/tokenize", lambda text: {"content": text}, lambda got: len(got["tokens"])),  # llama-server
            (f"{root}/extras/tokenize", lambda text: {"input": text}, lambda got: len(got["tokens"])),  # llama_cpp.server
            (f"{root}/tokenize", lambda text: {"model": self.served, "prompt": text}, lambda got: int(got["count"])),  # vLLM
        ]
        for endpoint, body, count in candidates:
            try:
                response = self._http.post(endpoint, json=body("probe"))
                if response.status_code == 200 and count(response.json()) > 0:
                    return lambda text, endpoint=endpoint, body=body, count=count: self._count_at(endpoint, body, count, text)
            except Exception as exc:  # noqa: BLE001 - a probe: any failure means "not this endpoint"
                if not self._known(exc) and not isinstance(exc, (KeyError, TypeError, ValueError)):
                    raise
        return estimate_tokens

    def _count_at(self, endpoint: str, body: Callable[[str], dict[str, Any]], count: Callable[[dict[str, Any]], int],
                  text: str) -> int:
        def request() -> int:
            response = self._http.post(endpoint, json=body(text))
            response.raise_for_status()
            return count(response.json())

        try:
            return request()
        except Exception as exc:
            if self._known(exc):
                raise ModelError(f"the model server at {self.url} could not count tokens ({_short(str(exc))})") from exc
            raise

    def stream(self, messages: list[dict[str, str]], sampling: Sampling) -> Iterator[str]:
        extra: dict[str, object] = {}
        if sampling.grammar and self.grammar_style == "grammar":
            extra["grammar"] = sampling.grammar
        elif sampling.grammar and self.grammar_style == "structured_outputs":
            extra["structured_outputs"] = {"grammar": sampling.grammar}
        elif sampling.grammar and self.grammar_style == "guided_grammar":
            extra["guided_grammar"] = sampling.grammar
        if self.grammar_style in _PENALTY_FIELD:
            extra[_PENALTY_FIELD[self.grammar_style]] = sampling.repeat_penalty
        chunks = self._call(lambda: self._client.chat.completions.create(
            model=self.served, messages=messages, stream=True, max_tokens=sampling.max_tokens,  # type: ignore[arg-type]
            temperature=sampling.temperature, top_p=sampling.top_p, seed=sampling.seed, extra_body=extra or None))
        finished = False
        try:
            for chunk in chunks:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.delta and choice.delta.content:
                    yield choice.delta.content
                finished = finished or choice.finish_reason is not None
        except Exception as exc:
            if self._known(exc):
                raise self._failure(exc, during=" in the middle of the answer; what it had written was not kept") from exc
            raise
        finally:
            chunks.close()
        if not finished:
            raise ModelError(f"the model server at {self.url} ended the answer without finishing it; "
                             "what it had written was not kept")


def shown_name(served: str) -> str:
    """The name to show for a served model: llama.cpp servers name theirs by the path of its
    file on the server, of which only the file's name means anything here."""
    return PurePosixPath(served).name if served.startswith("/") or served.endswith(".gguf") else served


def estimate_tokens(text: str) -> int:
    """More tokens than English text usually has: about one per three characters."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
