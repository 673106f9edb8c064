"""Compute the bundled embedder's vectors for every passage of the bundled collection and
write them to assistant/data/bundled-vectors.npz, which first use reads instead of embedding.

Run it after changing the bundled pages, the passage split or the bundled embedder (a test
fails until then):  python scripts/ship-bundled-vectors.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from assistant.core.settings import Settings
from assistant.ingest.pipeline import bundled_pages, ingest
from assistant.model.embedder import SHIPPED_VECTORS, LocalEmbedder, text_key
from assistant.store.data_dir import open_store

TARGET = Path(__file__).resolve().parent.parent / "assistant" / "data" / SHIPPED_VECTORS


class Computing(LocalEmbedder):
    """The bundled embedder, computing every vector (never reading the shipped ones)."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.runtime.embed(texts)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Settings(data_dir=Path(folder), seed_bundled=False), embedder=Computing())
        ingest(store, bundled_pages(), bundled=True)
        stored = store.vectors.collection.get(include=["documents", "embeddings"])  # type: ignore[attr-defined]
        store.close()
    keys = np.array([text_key(text) for text in stored["documents"]])
    vectors = np.asarray(stored["embeddings"], dtype=np.float32)
    np.savez_compressed(TARGET, keys=keys, vectors=vectors)
    print(f"{len(keys)} passages, {vectors.shape[1]} dimensions: {TARGET} ({TARGET.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
