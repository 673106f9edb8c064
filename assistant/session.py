"""The Python API the CLI and the TUI use: a `Session` over one store and one model.

Every generating operation returns a `Stream`: iterate it for the model's text as it is
generated; when the iteration ends, `.result` holds the verified, cited `Result`. Reading
operations (papers, pages, a paper by id) are plain methods, so front ends never reach into
the store themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from assistant.answer.ask import Context, Turn, ask
from assistant.core.settings import Settings
from assistant.store.conversations import ConversationStore
from assistant.answer.result import Result, Stage
from assistant.ingest.pipeline import prepare
from assistant.core.safe_text import inert
from assistant.core.progress import Progress
from assistant.model.chat import ChatModel, load_model
from assistant.core.records import Paper
from assistant.store.data_dir import Store, ensure_writable, open_store
from assistant.answer.digest import digest
from assistant.answer.summarise import summarise_paper, summarise_topic
from assistant.core.tuning import Tuning

T = TypeVar("T")
CONVERSATIONS_FILE = "conversations.sqlite3"
StageListener = Callable[[Stage], None]


class Stream(Generic[T]):
    """Text pieces while the model writes, then the final result in `.result`. Stages
    (searching, writing, checking) go to `on_stage`, never into the text."""

    def __init__(self, generator: Generator[str | Stage, None, T], on_stage: StageListener | None = None) -> None:
        self._generator = generator
        self._on_stage = on_stage
        self._result: T | None = None

    def __iter__(self) -> Iterator[str]:
        while True:
            try:
                item = next(self._generator)
            except StopIteration as stop:
                self._result = stop.value
                return
            if isinstance(item, Stage):
                if self._on_stage is not None:
                    self._on_stage(item)
            else:
                yield item

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
    """Answers, summaries and the collection's papers over one store, with one model, loaded
    on first use."""

    def __init__(self, settings: Settings, store: Store, model: ChatModel | None = None,
                 tuning: Tuning | None = None) -> None:
        self.settings = settings
        self.store = store
        self.tuning = tuning or Tuning()
        self._model = model

    @staticmethod
    def check_data_dir(settings: Settings) -> None:
        """Refuse a data directory that cannot be written, before anything in it is opened."""
        ensure_writable(settings.data_dir)

    @staticmethod
    def conversations(settings: Settings) -> ConversationStore:
        """The saved conversations of the data directory (usable before the collection opens)."""
        return ConversationStore(settings.data_dir / CONVERSATIONS_FILE)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, *, store: Store | None = None,
             model: ChatModel | None = None, tuning: Tuning | None = None) -> Session:
        """Open the data directory (or use `store`), indexing the bundled collection on first use
        and finishing an interrupted ingest, with `progress` told how far it is."""
        store = store or open_store(settings)
        prepare(store, progress)
        return cls(settings, store, model, tuning)

    @property
    def model(self) -> ChatModel:
        if self._model is None:
            if self.settings.llm_url:
                from assistant.model.served import ServerModel

                self._model = ServerModel(self.settings.llm_url, self.settings.llm_model, n_ctx=self.settings.ctx,
                                          grammar=self.settings.llm_grammar, api_key=self.settings.llm_api_key,
                                          timeout=self.settings.llm_timeout)
            else:
                self._model = load_model(self.settings.model, n_ctx=self.settings.ctx,
                                         n_threads=self.settings.threads or None, n_gpu_layers=self.settings.gpu_layers)
        return self._model

    def load_model(self) -> str:
        """Load the model's weights now rather than on the first question; returns its name,
        with the server's address for a served one. Raises ModelError with what to do when the
        file is missing or not a usable GGUF, or the server cannot be used."""
        self.model.count_tokens("warm up")
        name = inert(self.model.name)  # a server's word, or a file's name: shown on the terminal
        return f"{name} on {urlsplit(self.settings.llm_url).netloc}" if self.settings.llm_url else name

    @property
    def context(self) -> Context:
        return Context(self.store, self.model, self.settings.prompts_dir, self.tuning)

    # -- generating ---------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int = 5, only: set[str] | None = None,
            retry: int = 0, on_stage: StageListener | None = None) -> Stream[Result]:
        """Answer `question`; `history` holds the earlier turns of the conversation; `only`
        limits the sources to those papers; `retry` > 0 asks for a differently worded answer."""
        context = replace(self.context, retry=retry)
        return Stream(ask(context, question, history, k=k, only=only), on_stage)

    def summarise_paper(self, paper: str, on_stage: StageListener | None = None) -> Stream[Result]:
        """A summary of one paper, named by id or (part of) its title."""
        return Stream(summarise_paper(self.context, paper), on_stage)

    def summarise_topic(self, topic: str, on_stage: StageListener | None = None) -> Stream[Result]:
        """What the collection says about a topic."""
        return Stream(summarise_topic(self.context, topic), on_stage)

    def digest(self, page: str, on_stage: StageListener | None = None) -> Stream[Result]:
        """A digest of one saved page, named by (part of) its file name."""
        return Stream(digest(self.store, page), on_stage)

    # -- reading ------------------------------------------------------------------------------
    def paper_count(self) -> int:
        return self.store.catalog.counts()["papers"]

    def papers(self, order: str = "date") -> list[Paper]:
        """Every paper of the collection, newest first (or in another catalogue order)."""
        ids = self.store.catalog.all_ids(order)
        found = self.store.catalog.papers(ids)
        return [found[i] for i in ids if i in found]

    def paper(self, paper_id: str) -> Paper | None:
        return self.store.catalog.papers([paper_id]).get(paper_id)

    def pages(self) -> list[dict[str, object]]:
        """The saved pages of the collection, for choosing a digest."""
        return self.store.catalog.pages()
