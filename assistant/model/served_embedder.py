"""Embeddings on an OpenAI-compatible server (`POST /v1/embeddings`: Infinity, llama.cpp's
`llama-server --embeddings`, llama-cpp-python's server, vLLM, TEI), for ingest and search alike.

The vector space is named after the model the server reports (`served:<model>`), never after
its address: the same model on another host reads the same collection, while another model,
or the local embedder, is refused by the store's usual embedder check. Every failure (refused
connection, timeout, an error status, an answer that is not embeddings) is a `ModelError`
naming the server and what failed; nothing is retried but one connection attempt.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from assistant.core.limits import embedded_once
from assistant.model.chat import ModelError
from assistant.model.served import shown_name

if TYPE_CHECKING:
    import httpx

# Texts per request. A GPU server batches them; a CPU one must still answer a request within the
# timeout: 64 passages of an arXiv abstract took 117 s on llama-cpp-python's server with the
# bundled SmolLM2 on 2 busy cores, 32 stay well inside the default 120 s.
BATCH = 32
RETRY_AFTER_S = 1.0  # a server restarting (or a dropped keep-alive connection) gets one more try
PROBE = "dimension probe"


class ServedEmbedder:
    """`Embedder` over an OpenAI-compatible `/embeddings` endpoint at `url` (`http://HOST:PORT/v1`).

    `model` is the name to ask for; None takes the first the server lists, which is asked once
    here, since the store checks `name` as soon as it opens."""

    def __init__(self, url: str, model: str | None = None, *, api_key: str | None = None,
                 timeout: float = 120.0, batch_size: int = BATCH) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.timeout = timeout
        self.batch_size = batch_size
        self._httpx = httpx
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)
        self.model = model or self._first_model()
        self.name = f"served:{shown_name(self.model)}"
        self._dim: int | None = None
        self._pooled: bool | None = None  # whether the server pools: known from its first answer
        # Search-time texts recur within a question and across a conversation: each is sent once.
        self._known: dict[str, list[float]] = {}

    @property
    def dim(self) -> int:
        """The length of the server's vectors: its first answer's, or a probe's."""
        if self._dim is None:
            self._dim = len(self._embed_batch([PROBE])[0])
        return self._dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, `batch_size` per request once the server is known to pool.

        A server that answers with a vector per token (llama-cpp-python's, for a model without
        pooling of its own) gets one text per request: its 0.3 releases read the vectors of every
        text after the first in a request from the wrong place (`Llama.embed` steps by tokens,
        not by tokens × width), so a title embedded beside others scored 0.02 against itself."""
        vectors: list[list[float]] = []
        while len(vectors) < len(texts):
            size = self.batch_size if self._pooled else 1
            vectors += self._embed_batch(texts[len(vectors) : len(vectors) + size])
        return vectors

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return embedded_once(self._known, texts, self.embed)

    # -- the server -----------------------------------------------------------------------------
    def _first_model(self) -> str:
        listed = self._json("GET", "/models", None).get("data")
        if not isinstance(listed, list):
            raise self._garbage("its model list has no `data`")
        ids = [item.get("id") for item in listed if isinstance(item, dict)]
        if not ids or not isinstance(ids[0], str) or not ids[0]:
            raise ModelError(f"the embedding server at {self.url} lists no model: name one with --embed-model")
        return ids[0]

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        body = self._json("POST", "/embeddings", {"input": texts, "model": self.model})
        data = body.get("data")
        if not isinstance(data, list) or len(data) != len(texts):
            got = len(data) if isinstance(data, list) else "no"
            raise self._garbage(f"{got} embeddings for {len(texts)} text(s)")
        try:
            ordered = sorted(data, key=lambda item: int(item["index"]))
            indexes = [int(item["index"]) for item in ordered]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._garbage("an embedding without its index") from exc
        if indexes != list(range(len(texts))):
            raise self._garbage(f"embeddings numbered {indexes[:5]} for {len(texts)} text(s)")
        return [self._unit(item.get("embedding")) for item in ordered]

    def _unit(self, embedding: object) -> list[float]:
        """One embedding as a unit vector (the vector store compares by cosine). A vector per
        token, which llama-cpp-python's server returns for a model without pooling of its own
        (a chat model's GGUF), is averaged first: llama.cpp's `--pooling mean` does the same."""
        import numpy as np

        try:
            vector = np.asarray(embedding, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise self._garbage("an embedding that is not a list of numbers") from exc
        if self._pooled is None:
            self._pooled = vector.ndim == 1
        if vector.ndim == 2 and vector.shape[0] > 0:
            vector = vector.mean(axis=0)
        if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
            raise self._garbage(f"an embedding of shape {vector.shape} that is not one vector of numbers")
        if self._dim is None:
            self._dim = int(vector.size)
        elif vector.size != self._dim:
            raise ModelError(f"the embedding server at {self.url} returned a vector of {vector.size} dimensions after "
                             f"ones of {self._dim}: has its model changed? (check --embed-model)")
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            raise self._garbage("an all-zero embedding")
        return (vector / norm).tolist()  # type: ignore[no-any-return]

    def _json(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        response = self._send(method, path, payload)
        where = f"the embedding server at {self.url}"
        if response.status_code in (401, 403):
            raise ModelError(f"{where} refused the API key (set ASSISTANT_EMBED_API_KEY)")
        if response.status_code == 404:
            what = f"no model {self.model!r} or no embeddings endpoint" if payload else "no model list"
            raise ModelError(f"{where} has {what} (check --embed-model, and that --embed-url ends in /v1)")
        if response.status_code != 200:
            raise ModelError(f"{where} answered {response.status_code} to {method} {path}: {_short(response.text)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise self._garbage(f"{_short(response.text, 80)!r}, which is not JSON") from exc
        if not isinstance(body, dict):
            raise self._garbage("JSON that is not an object")
        return body

    def _send(self, method: str, path: str, payload: dict[str, Any] | None) -> httpx.Response:
        httpx = self._httpx
        try:
            return self._http.request(method, self.url + path, json=payload)
        except (httpx.NetworkError, httpx.RemoteProtocolError):
            time.sleep(RETRY_AFTER_S)  # the one retry: see RETRY_AFTER_S
        except httpx.HTTPError as exc:
            raise self._failure(exc) from exc
        try:
            return self._http.request(method, self.url + path, json=payload)
        except httpx.HTTPError as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> ModelError:
        where = f"the embedding server at {self.url}"
        if isinstance(exc, self._httpx.TimeoutException):
            return ModelError(f"{where} did not answer within {self.timeout:.0f} s (--llm-timeout sets the wait)")
        cause = _short(str(exc) or type(exc).__name__)
        if isinstance(exc, (self._httpx.NetworkError, self._httpx.RemoteProtocolError)):
            return ModelError(f"{where} cannot be reached ({cause}); start it (see the README's \"Scaling out\") "
                              "or check --embed-url")
        return ModelError(f"{where} failed ({cause})")

    def _garbage(self, what: str) -> ModelError:
        return ModelError(f"the embedding server at {self.url} answered with {what}, not embeddings "
                          "(is --embed-url an OpenAI-compatible embeddings server?)")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
