"""Keeping the vectors in step with the catalogue, which is the source of truth: embed what is
marked pending, delete what is marked gone, follow the vectors to another store, rebuild all.

Ingest, `check --repair` and `reindex` all end here, so this is the one place that decides
which papers need embedding (the catalogue's `embedded_hash` differs from its `content_hash`).
"""

from __future__ import annotations

from assistant.core.progress import NoProgress, Progress
from assistant.core.records import make_passages
from assistant.store.data_dir import DIM_KEY, EMBEDDER_KEY, Store, vectors_location

VECTORS_KEY = "vectors_at"  # where the catalogue's papers were embedded (see `_follow_vectors`)
# Papers embedded, written and marked done at a time. An interruption loses at most one
# chunk's embedding; bigger writes are cheaper per passage (one Chroma add of ~1,000 passages
# costs a third less than eight of ~125).
EMBED_CHUNK = 256


def sync_vectors(store: Store, progress: Progress | None = None) -> int:
    """Make the vector store match the catalogue; returns how many papers were embedded.

    Loads the embedder only when there is something to embed, so unchanged re-ingests stay fast.
    """
    progress = progress or NoProgress()
    _follow_vectors(store)
    deletes = store.catalog.pending_vector_deletes()
    if deletes:
        store.vectors.delete(deletes)
        store.catalog.clear_vector_deletes(deletes)
    pending = store.catalog.pending_embeddings()
    if not pending:
        return 0
    store.check_dimension()
    progress.start("Embedding papers", len(pending))
    for chunk_start in range(0, len(pending), EMBED_CHUNK):
        chunk = pending[chunk_start : chunk_start + EMBED_CHUNK]
        passages = {pid: make_passages(pid, title, abstract) for pid, title, abstract, _ in chunk}
        texts = [p.text for pid in passages for p in passages[pid]]
        vectors = store.embedder.embed(texts)
        store.vectors.replace(list(passages), [p for pid in passages for p in passages[pid]], vectors)
        store.catalog.mark_embedded([(pid, digest) for pid, _, _, digest in chunk])
        progress.advance(len(chunk))
    progress.stop()
    return len(pending)


def _follow_vectors(store: Store) -> None:
    """The catalogue's marks of which papers are embedded hold for one vector store. When the
    settings point at another (a Chroma server, another collection), every paper is embedded
    again there, once that store answers: a mistyped URL is an error, not a re-embedding."""
    location = vectors_location(store.settings)
    recorded = store.catalog.get_meta(VECTORS_KEY)
    if recorded == location:
        return
    if recorded is not None:
        store.vectors.count()  # raises a clear error when the new store cannot be reached
        store.catalog.forget_embeddings()
    store.catalog.set_meta(VECTORS_KEY, location)


def reindex(store: Store, progress: Progress | None = None) -> int:
    """Rebuild every vector (and the keyword index) with the store's current embedder."""
    with store.writing(progress):
        store.catalog.forget_embeddings()
        store.catalog.rebuild_fts()
        store.catalog.set_meta(EMBEDDER_KEY, store.embedder.name)
        store.catalog.delete_meta(DIM_KEY)
        store.vectors.reset()
        return sync_vectors(store, progress)
