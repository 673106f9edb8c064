"""Vector stores: the `VectorStore` protocol and Chroma (embedded, telemetry off).

Vectors are kept per passage, with the paper id in the metadata, so a paper's vectors can be
replaced or deleted as a unit when its abstract changes. Passage texts are not stored with
them: the catalogue rebuilds a passage from its id (`papers.passage_text`), and leaving the
texts out makes a write about twice as fast (Chroma indexes stored texts for full-text search).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.errors import StoreError, storage_failure
from assistant.offline import go_offline
from assistant.papers import Passage

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


ID_PAGE = 5000  # passage ids read or deleted per request


class ChromaStore:
    """Chroma `PersistentClient` in the data directory, cosine space, embeddings supplied by us
    (Chroma's own embedding function is disabled: it would try to download a model)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._collection: Collection | None = None

    @property
    def collection(self) -> Collection:
        if self._collection is None:
            go_offline()
            import chromadb
            from chromadb.config import Settings
            from chromadb.errors import ChromaError

            try:
                client = chromadb.PersistentClient(path=str(self.path), settings=Settings(anonymized_telemetry=False, allow_reset=True))
                self._collection = client.get_or_create_collection(
                    COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            except ChromaError as exc:
                if storage_failure(exc, self.path.parent) is not None:
                    raise
                raise StoreError(
                    f"the vector store {self.path} cannot be opened ({exc}). Your papers are in the catalogue and "
                    f"are not affected: move {self.path.name}/ aside (keep it until you are done) and run "
                    "`assistant reindex` to rebuild the vectors from the catalogue"
                ) from exc
        return self._collection

    def replace(self, paper_ids: list[str], passages: list[Passage], embeddings: list[list[float]]) -> None:
        """Drop the papers' old passages and add the new ones (upsert alone would leave stale
        windows behind when an abstract gets shorter)."""
        self.delete(paper_ids)
        if passages:
            self.collection.add(
                ids=[p.id for p in passages],
                embeddings=embeddings,  # type: ignore[arg-type]
                metadatas=[{"paper_id": p.paper_id} for p in passages],
            )

    def delete(self, paper_ids: list[str]) -> None:
        if paper_ids:
            self.collection.delete(where={"paper_id": {"$in": paper_ids}})

    def query(self, embedding: list[float], n: int, paper_ids: set[str] | None = None) -> list[VectorHit]:
        """The `n` nearest passages, optionally only among the given papers' passages."""
        total = self.count()
        if total == 0 or paper_ids == set():
            return []
        where = {"paper_id": {"$in": sorted(paper_ids)}} if paper_ids is not None else None
        result = self.collection.query(
            query_embeddings=[embedding], n_results=min(n, total), where=where,  # type: ignore[arg-type]
            include=["distances", "metadatas"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        return [
            VectorHit(pid, str(meta["paper_id"]), 1.0 - float(dist))
            for pid, dist, meta in zip(ids, distances, metadatas)
        ]

    def count(self) -> int:
        return int(self.collection.count())

    def ids(self) -> set[str]:
        """Every passage id in the collection (read in pages, for large collections)."""
        found: set[str] = set()
        while True:
            batch = self.collection.get(include=[], limit=ID_PAGE, offset=len(found))["ids"]
            found.update(batch)
            if len(batch) < ID_PAGE:
                return found

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), ID_PAGE):
            self.collection.delete(ids=ids[start : start + ID_PAGE])

    def reset(self) -> None:
        """Remove every vector (reindex): drop and recreate the collection."""
        client = self.collection._client  # noqa: SLF001 - chromadb exposes no public handle
        client.delete_collection(COLLECTION)
        self._collection = None
