"""Opening a data directory: the catalogue, the vector store and the embedder that built it.

The store records which embedder made its vectors; opening it with another one fails with a
message that says how to rebuild, instead of silently mixing two vector spaces.

One process writes to a data directory at a time. SQLite serialises its own transactions, but
an ingest is many of them plus Chroma writes, and its duplicate check must see the papers the
previous writer added; so writers hold an OS file lock (`writer.lock`) for their whole run.
Readers take no lock: SQLite's WAL gives them a consistent snapshot while a writer works.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.core.errors import StoreError
from assistant.core.progress import NoProgress, Progress
from assistant.core.settings import Settings
from assistant.model.embedder import Embedder, make_embedder
from assistant.store.catalogue import Catalog
from assistant.store.vectors import COLLECTION, ChromaStore, VectorStore, refuse_other_embedder

EMBEDDER_KEY = "embedder"
DIM_KEY = "embedder_dim"
WRITER_LOCK = "writer.lock"
LOCK_POLL_S = 0.5  # how often a waiting writer looks again (and lets the chat stop it on quit)


@dataclass
class Store:
    """Everything one data directory holds, plus the embedder used to read and write it."""

    settings: Settings
    catalog: Catalog
    vectors: VectorStore
    embedder: Embedder
    _lock: FileLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # one lock object per store: re-entrant, so seeding inside a first-use ingest is fine
        self._lock = FileLock(self.settings.data_dir / WRITER_LOCK)

    @contextmanager
    def writing(self, progress: Progress | None = None) -> Iterator[None]:
        """Hold the writer lock for the block, waiting for another writer first if there is
        one, and saying so through `progress` (the wait can be long: a whole ingest)."""
        if not self._try_lock():
            progress = progress or NoProgress()
            progress.start(f"Waiting for another assistant command to finish writing to {self.settings.data_dir}", 0)
            try:
                while not self._try_lock(LOCK_POLL_S):
                    progress.advance(0)  # the chat's progress stops a wait here once it has quit
            finally:
                progress.stop()
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def writing_if_free(self) -> Iterator[bool]:
        """Hold the writer lock for the block if no other process holds it (yields whether it
        does): finishing someone else's work is left to them."""
        held = self._try_lock()
        try:
            yield held
        finally:
            if held:
                self._lock.release()

    def _try_lock(self, timeout: float = 0) -> bool:
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            return False
        return True

    def warm_vectors(self) -> None:
        """Start reading the vector index in the background (see `ChromaStore.warm`); nothing
        to read in a store that holds no vectors yet."""
        dim = self.catalog.get_meta(DIM_KEY)
        if dim:
            self.vectors.warm(int(dim))

    def check_dimension(self) -> None:
        """Record the embedder's dimension on first use; refuse a store of another dimension."""
        dim = self.embedder.dim
        stored = self.catalog.get_meta(DIM_KEY)
        if stored is None:
            self.catalog.set_meta(DIM_KEY, str(dim))
        elif int(stored) != dim:
            raise StoreError(
                f"the vectors in {self.settings.data_dir} have {stored} dimensions but embedder "
                f"{self.embedder.name!r} makes {dim}; run `assistant reindex` to rebuild them"
            )

    def close(self) -> None:
        self.catalog.close()


def ensure_writable(data_dir: Path) -> None:
    """Refuse, before anything is opened, a data directory that cannot be written: SQLite
    would otherwise fail half-way with a raw error. The user's files are left as they are."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
        locked = [p.name for p in data_dir.glob("*.sqlite3") if not os.access(p, os.W_OK)]
        if locked:
            raise PermissionError(f"{', '.join(locked)} cannot be written")
    except OSError as exc:
        raise StoreError(
            f"cannot write to the data directory {data_dir} ({exc.strerror or exc}). assistant keeps its index and "
            "conversations there: make it writable, or choose another directory with --data-dir or "
            "ASSISTANT_DATA_DIR. Nothing in it was changed."
        ) from exc


def open_store(settings: Settings, *, embedder: Embedder | None = None, vectors: VectorStore | None = None,
               allow_new_embedder: bool = False) -> Store:
    """Open (creating if needed) the store in `settings.data_dir`.

    `allow_new_embedder` is for reindex, which exists to switch embedders.
    """
    ensure_writable(settings.data_dir)
    catalog = Catalog(settings.catalog_path)
    embedder = embedder or make_embedder(settings)
    stored = catalog.get_meta(EMBEDDER_KEY)
    if stored is None:
        catalog.set_meta(EMBEDDER_KEY, embedder.name)
    elif not allow_new_embedder:
        try:
            refuse_other_embedder(stored, embedder.name, f"the store in {settings.data_dir}", "or set the embedder back")
        except StoreError:
            catalog.close()
            raise
    vectors = vectors or ChromaStore(settings.vectors_path, url=settings.chroma_url, name=collection_name(settings),
                                     embedder=embedder.name, allow_new_embedder=allow_new_embedder)
    return Store(settings, catalog, vectors, embedder)


def vectors_location(settings: Settings) -> str:
    """Where the vectors live, as recorded in the catalogue: the server (or "embedded") and
    the collection."""
    return f"{settings.chroma_url or 'embedded'} {collection_name(settings)}"


def collection_name(settings: Settings) -> str:
    """The vectors' collection: "passages" in the embedded store; on a server, the
    `collection` setting, else one named after the data directory (its folder name and a hash
    of its full path), so that every user and data directory gets its own."""
    if settings.collection:
        return settings.collection
    if not settings.chroma_url:
        return COLLECTION
    path = str(settings.data_dir.expanduser().resolve())
    folder = re.sub(r"[^A-Za-z0-9._-]+", "-", settings.data_dir.name).strip("-._")[:40]
    return f"assistant-{folder or 'data'}-{hashlib.sha256(path.encode()).hexdigest()[:10]}"
