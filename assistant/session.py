"""The one door: every operation a face (the CLI, the chat) offers, over one store and one
model, and the public types they need. The faces import this module and the core, nothing else.

Every generating operation returns a `Stream`: iterate it for the model's text as it is
generated; when the iteration ends, `.result` holds the verified, cited `Result`. Reading and
housekeeping operations (papers, search, ingest, stats, check, conversations) are plain
methods, so the faces never reach into the store themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from assistant.answer.ask import Context, Turn, ask
from assistant.answer.digest import digest
from assistant.answer.evidence import Source
from assistant.answer.result import Result, Stage
from assistant.answer.summarise import summarise_paper, summarise_topic
from assistant.core.dates import check_range
from assistant.core.errors import AssistantError
from assistant.core.progress import Progress
from assistant.core.records import Paper
from assistant.core.safe_text import inert
from assistant.core.settings import Settings
from assistant.core.tuning import Tuning
from assistant.core.wording import UNFINISHED
from assistant.ingest.pipeline import FileReport, ingest, ingest_samples, prepare
from assistant.ingest.remove import Removal, remove
from assistant.model.chat import ChatModel, ModelError, load_model, resolve_model_path
from assistant.retrieve.calibrate import Calibration, calibrated, recalibrate
from assistant.retrieve.hybrid import SearchResult, search
from assistant.store.check import CheckReport, check, repair
from assistant.store.conversations import Conversation, ConversationStore, SavedTurn
from assistant.store.data_dir import Store, collection_name, ensure_writable, open_store
from assistant.store.sync import reindex

# The public types a face may name, from this door only.
__all__ = ["CONVERSATIONS_FILE", "UNFINISHED", "ChatModel", "CheckReport", "Conversation",
           "ConversationStore", "FileReport", "ModelError", "Paper", "Removal", "Result", "SavedTurn", "SearchResult", "Session",
           "Source", "Stage", "StageListener", "Store", "Stream", "Turn"]

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
        self._calibrated: tuple[Tuning, Calibration | None] | None = None
        self.seeded = False  # whether opening indexed the bundled collection

    @staticmethod
    def check_data_dir(settings: Settings) -> None:
        """Refuse a data directory that cannot be written, before anything in it is opened."""
        ensure_writable(settings.data_dir)

    @staticmethod
    def conversations(settings: Settings) -> ConversationStore:
        """The saved conversations of the data directory (usable before the collection opens)."""
        return ConversationStore(settings.data_dir / CONVERSATIONS_FILE)

    @staticmethod
    def check_model(settings: Settings) -> None:
        """Refuse a missing or unusable --model before anything is indexed (a served model is
        checked when it is first used)."""
        if not settings.llm_url:
            resolve_model_path(settings.model)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, *, store: Store | None = None,
             model: ChatModel | None = None, tuning: Tuning | None = None, seed: bool = True,
             allow_new_embedder: bool = False, warm: bool = False) -> Session:
        """Open the data directory (or use `store`), indexing the bundled collection on first use
        and finishing an interrupted ingest, with `progress` told how far it is; `seeded` then
        says whether the bundled collection was indexed just now. Without `seed`, the store is
        opened as it is (check and reindex look at it before anything is added);
        `allow_new_embedder` is for reindex, which exists to switch embedders. With `warm` (a
        command about to answer), the vector index is read in the background from the start,
        while the rest opens and the embedder loads (see `ChromaStore.warm`)."""
        store = store or open_store(settings, allow_new_embedder=allow_new_embedder)
        if warm:
            store.warm_vectors()
        session = cls(settings, store, model, tuning)
        session.seeded = prepare(store, progress) if seed else False
        return session

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
                                         n_threads=self.settings.threads or None, n_gpu_layers=self.settings.gpu_layers,
                                         turns=self.settings.turns_lock)
        return self._model

    def load_model(self) -> str:
        """Load the model's weights now rather than on the first question; returns its name,
        with the server's address for a served one. Raises ModelError with what to do when the
        file is missing or not a usable GGUF, or the server cannot be used."""
        self.model.count_tokens("warm up")
        name = inert(self.model.name)  # a server's word, or a file's name: shown on the terminal
        return f"{name} on {urlsplit(self.settings.llm_url).netloc}" if self.settings.llm_url else name

    def sources(self) -> list[dict[str, object]]:
        """The files the collection was built from, with their layout, papers and time read."""
        return self.store.catalog.pages()

    def model_folder(self) -> Path:
        """Where to look for other GGUF files: the folder of the model file in use."""
        return resolve_model_path(self.settings.model).parent

    def use_model(self, path: str) -> str:
        """Answer with another GGUF file from now on: it is checked and loaded first, so a file
        that cannot be used leaves the model in use as it was (ModelError says why). Returns
        the new model's name."""
        settings = replace(self.settings, model=str(Path(path).expanduser()), llm_url=None)
        model = load_model(settings.model, n_ctx=settings.ctx, n_threads=settings.threads or None,
                           n_gpu_layers=settings.gpu_layers, turns=settings.turns_lock)
        model.count_tokens("warm up")
        self.settings, self._model = settings, model
        return inert(model.name)

    def _calibration(self) -> tuple[Tuning, Calibration | None]:
        if self._calibrated is None or (self._calibrated[1] is not None and self._calibrated[1].stale(self.store)):
            self._calibrated = calibrated(self.store, self.tuning)
        return self._calibrated

    @property
    def collection_tuning(self) -> Tuning:
        """The tuning with the coverage thresholds calibrated on this collection."""
        return self._calibration()[0]

    @property
    def calibration(self) -> Calibration | None:
        """How this collection's near misses score (None: too small to calibrate)."""
        return self._calibration()[1]

    @property
    def context(self) -> Context:
        return Context(self.store, self.model, self.settings.prompts_dir, self.collection_tuning)

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

    def papers(self, order: str = "date", limit: int | None = None) -> list[Paper]:
        """Papers of the collection, newest first (or by title), at most `limit`."""
        ids = self.store.catalog.all_ids(order)[:limit]
        found = self.store.catalog.papers(ids)
        return [found[i] for i in ids if i in found]

    def paper(self, paper_id: str) -> Paper | None:
        return self.store.catalog.papers([paper_id]).get(paper_id)

    def find(self, text: str) -> list[str]:
        """Ids of the papers an id, a title (any spelling seen) or a part of a title names."""
        return self.store.catalog.find(text)

    def resolve(self, paper: str) -> Paper:
        """The one paper named by id or (part of) its title; AssistantError lists the candidates
        when several match and says where to look when none does."""
        return self.store.catalog.resolve(paper)

    def limited_to(self, author: str | None = None, category: str | None = None) -> set[str] | None:
        """The ids of the papers by an author (matched as `Catalog.by_author` matches names)
        and/or in a category or keyword ("cs.RO", or "cs" for all of them); None for no limit.
        A limit no paper meets is an error, so that a filter never silently searches everything."""
        only: set[str] | None = None
        if author:
            only = set(self.store.catalog.by_author(author))
            if not only:
                raise AssistantError(f"no paper in the collection has an author named {author!r} (author names "
                                     "come from feeds, exports, Zotero, JSONL and CSV; saved pages give counts)")
        if category:
            found = self.store.catalog.in_category(category)
            if not found:
                raise AssistantError(f"no paper in the collection has the category or keyword {category!r} "
                                     "(categories come from arXiv feeds and listings, exports and JSONL/CSV)")
            only = found if only is None else only & found
            if not only:
                raise AssistantError(f"no paper by {author!r} has the category {category!r}")
        return only

    def search(self, query: str, *, k: int = 5, since: str | None = None, until: str | None = None,
               author: str | None = None, category: str | None = None) -> SearchResult:
        """The papers that best match `query`, published between the ISO dates given and, with
        `author` or `category`, limited to those papers; a range no paper falls in is an error
        that says what the dates run from and to."""
        only = self.limited_to(author, category)
        check_range(since, until)
        if (since or until) and not self.store.catalog.ids_in_range(since, until):
            first, last = self.store.catalog.date_range()
            known = f"the dated papers run from {first} to {last}" if first else "no paper in the collection has a date"
            raise AssistantError(f"no paper is dated {_range_words(since, until)}: {known}")
        return search(self.store, query, self.collection_tuning, k=k, since=since, until=until, only=only)

    def stats(self) -> dict[str, object]:
        """What the index holds and where it lives."""
        catalog, settings = self.store.catalog, self.settings
        first, last = catalog.date_range()
        return {
            "data_dir": str(settings.data_dir),
            "vectors": (f"{settings.chroma_url} collection {collection_name(settings)}" if settings.chroma_url
                        else str(settings.vectors_path)),
            **catalog.counts(),
            "passages": self.store.vectors.count(),
            "earliest_date": first,
            "latest_date": last,
            "embedder": catalog.get_meta("embedder"),
            "embedder_dim": int(catalog.get_meta("embedder_dim") or 0) or None,
            "sources": catalog.pages(),
            "coverage": self.coverage(),
        }

    def coverage(self) -> dict[str, object]:
        """The coverage thresholds in use and where they come from."""
        tuning, calibration = self._calibration()
        names = ("named_similarity", "coverage_threshold", "confident_similarity", "absent_ceiling")
        thresholds = {name: round(float(getattr(tuning, name)), 3) for name in names}
        if calibration is None:
            return {"calibrated": False, "thresholds": thresholds}
        return {"calibrated": True, "papers": calibration.papers, "probes": len(calibration.near_miss),
                "near_miss_median": round(calibration.quantile(0.5), 3), "thresholds": thresholds}

    # -- changing the collection -----------------------------------------------------------------
    def ingest(self, paths: Iterable[Path], progress: Progress | None = None, *,
               samples: bool = False) -> list[FileReport]:
        """Add files and folders to the collection (a bad file is reported, never raised), and
        the bundled sample pages with `samples`."""
        reports = ingest_samples(self.store, progress) if samples else []
        reports += ingest(self.store, paths, progress)
        if any(r.status in ("added", "updated") for r in reports):
            self._recalibrate(progress)
        return reports

    def remove(self, targets: Iterable[str], progress: Progress | None = None) -> list[Removal]:
        """Take out ingested files' papers (those no other file lists) and single papers (by id
        or title); a target that names nothing is reported, never raised."""
        reports = remove(self.store, targets, progress)
        if any(r.removed for r in reports):
            self._recalibrate(progress)
        return reports

    def _recalibrate(self, progress: Progress | None) -> None:
        """Coverage thresholds follow a collection that grew or shrank (see `recalibrate`)."""
        with self.store.writing(progress):
            calibration = recalibrate(self.store)
        self._calibrated = ((calibration.apply(self.tuning) if calibration else self.tuning), calibration)

    @property
    def embedder_name(self) -> str:
        return self.store.embedder.name

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild every vector with the current embedder; returns how many papers it embedded."""
        return reindex(self.store, progress)

    def check(self, progress: Progress | None = None, *, repair_it: bool = False) -> tuple[CheckReport, list[str]]:
        """Do the catalogue, the vectors and the saved conversations agree? Returns the report
        (after repair, with `repair_it`) and the problems found before any repair."""
        conversations = self.conversations(self.settings)
        try:
            with self.store.writing(progress):  # a writer at work would show as a passing disagreement
                report = check(self.store, conversations)
            problems = report.problems()
            if repair_it and not report.consistent:
                report = repair(self.store, progress, conversations)
            return report, problems
        finally:
            conversations.close()


def _range_words(since: str | None, until: str | None) -> str:
    if since and until:
        return f"between {since} and {until}"
    return f"on or after {since}" if since else f"on or before {until}"
