"""Vector stores: the `VectorStore` protocol and Chroma (embedded, telemetry off).

Vectors are kept per passage, with the paper id in the metadata, so a paper's vectors can be
replaced or deleted as a unit when its abstract changes. Passage texts are not stored with
them: the catalogue rebuilds a passage from its id (`papers.passage_text`), and leaving the
texts out makes a write about twice as fast (Chroma indexes stored texts for full-text search).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from assistant.core.errors import StoreError, storage_failure
from assistant.core.offline import go_offline
from assistant.core.records import Passage, passage_paper

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

COLLECTION = "passages"


@dataclass(frozen=True)
class VectorHit:
    """One passage near a query vector."""

    passage_id: str
    paper_id: str
    similarity: float  # cosine similarity, 1 = same direction


class VectorStore(Protocol):
    def replace(self, paper_ids: list[str], passages: list[Passage], embeddings: list[list[float]]) -> None: ...

    def delete(self, paper_ids: list[str]) -> None: ...

    def query(self, embedding: list[float], n: int, paper_ids: set[str] | None = None) -> list[VectorHit]: ...

    def count(self) -> int: ...

    def ids(self) -> set[str]: ...

    def delete_ids(self, ids: list[str]) -> None: ...

    def reset(self) -> None: ...

    def warm(self, dim: int) -> None: ...


ID_PAGE = 5000  # passage ids read or deleted per request


def refuse_other_embedder(recorded: str | None, wanted: str, holder: str, otherwise: str) -> None:
    """The one refusal of vectors made by another embedder (two vector spaces never mix), for
    the catalogue's record and for a collection's own: `holder` names what holds them,
    `otherwise` the way out besides a reindex."""
    if recorded and recorded != wanted:
        raise StoreError(f"{holder} holds vectors of embedder {recorded!r}, not {wanted!r}; run `assistant reindex` "
                         f"to rebuild them with {wanted!r}, {otherwise}")


class ChromaStore:
    """Chroma in cosine space, with embeddings supplied by us (Chroma's own embedding function
    is disabled: it would try to download a model). Embedded in the data directory
    (`PersistentClient`), or on a Chroma server (`HttpClient`) when `url` is given.

    The collection records the embedder that wrote it, so vectors from two embedders are never
    mixed, also when several data directories share a server collection.
    """

    def __init__(self, path: Path, *, url: str | None = None, name: str = COLLECTION, embedder: str = "",
                 allow_new_embedder: bool = False) -> None:
        self.path = path
        self.url = url
        self.name = name
        self.embedder = embedder
        self.allow_new_embedder = allow_new_embedder
        self._collection: Collection | None = None
        self._warming: threading.Thread | None = None
        self._failure: Exception | None = None  # why the background open failed

    def warm(self, dim: int) -> None:
        """Start reading the collection's index in the background, so the first query finds it
        in memory. Chroma reads its whole HNSW index on a process's first query (0.7 GB and
        2.7 s at 100,000 papers); a command about to answer overlaps that with loading the
        embedder and the model. The first use of the collection waits for it. A thread that
        the interpreter waits for at exit: one stopped inside Chroma's native code could crash."""
        if self._collection is None and self._warming is None:
            self._warming = threading.Thread(target=self._warm, args=(dim,), name="warm-vectors")
            self._warming.start()

    def _warm(self, dim: int) -> None:
        try:
            collection = self.collection
        except Exception as exc:  # noqa: BLE001 - kept for the first real use, which reports it
            self._failure = exc  # Chroma cannot be asked twice: a failed open leaves its client cache broken
            return
        try:
            collection.query(query_embeddings=[[1.0] + [0.0] * (dim - 1)], n_results=1, include=[])
        except Exception:  # noqa: BLE001, S110 - the first real query meets the same failure and reports it
            pass

    @property
    def collection(self) -> Collection:
        warming = self._warming
        if warming is not None and warming is not threading.current_thread():
            warming.join()
            self._warming = None
        if self._failure is not None:
            raise self._failure
        if self._collection is None:
            go_offline()
            import chromadb
            from chromadb.config import Settings
            from chromadb.errors import ChromaError

            metadata = {"embedder": self.embedder} if self.embedder else None
            try:
                with self._guard():
                    client = self._client(chromadb, Settings(anonymized_telemetry=False, allow_reset=True))
                    collection = client.get_or_create_collection(
                        self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}, metadata=metadata
                    )
            except ChromaError as exc:
                if storage_failure(exc, self.path.parent) is not None:
                    raise
                raise StoreError(
                    f"the vector store {self.path} cannot be opened ({exc}). Your papers are in the catalogue and "
                    f"are not affected: move {self.path.name}/ aside (keep it until you are done) and run "
                    "`assistant reindex` to rebuild the vectors from the catalogue"
                ) from exc
            if self.embedder and not self.allow_new_embedder:
                refuse_other_embedder((collection.metadata or {}).get("embedder"), self.embedder,
                                      f"the collection {self.name!r} in {self.where}", "or use another --collection")
            self._collection = collection
        return self._collection

    @property
    def where(self) -> str:
        """The store as the user named it: the server's URL or the folder."""
        return f"the Chroma server at {self.url}" if self.url else str(self.path)

    def _client(self, chromadb: Any, settings: Any) -> Any:
        if not self.url:
            return chromadb.PersistentClient(path=str(self.path), settings=settings)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"--chroma-url {self.url!r} is not a server address: give http://HOST:PORT")
        try:
            return chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 8000),
                                       ssl=parts.scheme == "https", settings=settings)
        except ValueError as exc:  # chromadb's word for "nothing answered"
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: BaseException, more: str = "") -> StoreError:
        return StoreError(f"{self.where} cannot be reached ({exc or type(exc).__name__}); start it with "
                          f"`chroma run --path DIR --port PORT`, or check --chroma-url{'. ' + more if more else ''}")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A server that stops answering, or answers with an error, is one clear message
        naming its URL (the embedded store's own failures are handled where they happen)."""
        if not self.url:
            yield
            return
        import httpx
        from chromadb.errors import ChromaError

        try:
            yield
        except (httpx.HTTPError, ConnectionError) as exc:
            raise self._unreachable(exc, "Nothing is lost: what was not written is written by the next ingest") from exc
        except ChromaError as exc:
            raise StoreError(f"{self.where} answered with an error: {exc}") from exc

    def replace(self, paper_ids: list[str], passages: list[Passage], embeddings: list[list[float]]) -> None:
        """Drop the papers' old passages and add the new ones (upsert alone would leave stale
        windows behind when an abstract gets shorter)."""
        self.delete(paper_ids)
        if passages:
            with self._guard():
                self.collection.add(
                    ids=[p.id for p in passages],
                    embeddings=embeddings,  # type: ignore[arg-type]
                    metadatas=[{"paper_id": p.paper_id} for p in passages],
                )

    def delete(self, paper_ids: list[str]) -> None:
        if paper_ids:
            with self._guard():
                self.collection.delete(where={"paper_id": {"$in": paper_ids}})

    def query(self, embedding: list[float], n: int, paper_ids: set[str] | None = None) -> list[VectorHit]:
        """The `n` nearest passages (fewer when there are fewer), optionally only among the
        given papers' passages. Nothing is counted first: Chroma returns what there is, and a
        count took 52 ms at 400,000 passages, four times the query."""
        if paper_ids == set():
            return []
        where = {"paper_id": {"$in": sorted(paper_ids)}} if paper_ids is not None else None
        with self._guard():
            result = self.collection.query(
                query_embeddings=[embedding], n_results=n, where=where,  # type: ignore[arg-type]
                include=["distances"],  # the paper is in the passage's id: its metadata took half the query's time
            )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [VectorHit(pid, passage_paper(pid), 1.0 - float(dist)) for pid, dist in zip(ids, distances)]

    def count(self) -> int:
        with self._guard():
            return int(self.collection.count())

    def ids(self) -> set[str]:
        """Every passage id in the collection (read in pages, for large collections)."""
        found: set[str] = set()
        while True:
            with self._guard():
                batch = self.collection.get(include=[], limit=ID_PAGE, offset=len(found))["ids"]
            found.update(batch)
            if len(batch) < ID_PAGE:
                return found

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), ID_PAGE):
            with self._guard():
                self.collection.delete(ids=ids[start : start + ID_PAGE])

    def reset(self) -> None:
        """Remove every vector (reindex): drop the collection; it is made again, recording the
        current embedder, when next used."""
        collection = self.collection
        with self._guard():
            collection._client.delete_collection(self.name)  # noqa: SLF001 - chromadb exposes no public handle
        self._collection = None
