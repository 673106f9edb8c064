"""The Python API the CLI and the TUI use: a `Session` over one store and one model.

Every operation returns a `Stream`: iterate it for the model's text as it is generated; when
the iteration ends, `.result` holds the verified, cited `Result`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Generic, TypeVar

from assistant.answer import Context, Turn, ask
from assistant.config import Settings
from assistant.grounded import Result
from assistant.llm import ChatModel, load_model
from assistant.store import Store
from assistant.tuning import Tuning

T = TypeVar("T")


class Stream(Generic[T]):
    """Text pieces while the model writes, then the final result in `.result`."""

    def __init__(self, generator: Generator[str, None, T]) -> None:
        self._generator = generator
        self._result: T | None = None

    def __iter__(self) -> Iterator[str]:
        self._result = yield from self._generator

    def close(self) -> None:
        """Stop generating (the model stops at the next piece); there will be no result."""
        self._generator.close()

    @property
    def result(self) -> T:
        """The result; consumes what is left of the stream if it was not iterated."""
        if self._result is None:
            for _ in self:
                pass
        assert self._result is not None
        return self._result


class Session:
    """Answers and summaries over one store, with one model, loaded on first use."""

    def __init__(self, settings: Settings, store: Store, model: ChatModel | None = None,
                 tuning: Tuning | None = None) -> None:
        self.settings = settings
        self.store = store
        self.tuning = tuning or Tuning()
        self._model = model

    @property
    def model(self) -> ChatModel:
        if self._model is None:
            self._model = load_model(self.settings.model, n_ctx=self.settings.ctx,
                                     n_threads=self.settings.threads or None, n_gpu_layers=self.settings.gpu_layers)
        return self._model

    @property
    def context(self) -> Context:
        return Context(self.store, self.model, self.settings.prompts_dir, self.tuning)

    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int = 5,
            only: set[str] | None = None) -> Stream[Result]:
        """Answer `question`; `history` holds the earlier turns of the conversation; `only`
        limits the sources to those papers."""
        return Stream(ask(self.context, question, history, k=k, only=only))

    def run(self, pipeline: Callable[..., Generator[str, None, Result]], *args: object) -> Stream[Result]:
        """Run another grounded pipeline (summaries, digests) in this session."""
        return Stream(pipeline(self.context, *args))
