"""A light query-time encoder: runs a BERT-family sentence-transformers model with numpy.

Importing torch and sentence-transformers costs ~4 s per command on a laptop CPU, for one
short query. This reads the same weights (safetensors) and tokenizer (tokenizers) and computes
the same mean-pooled, normalised embedding in ~0.1 s; a test checks it against the real model.
Models it cannot reproduce exactly are reported as unsupported and the caller falls back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

BATCH = 32  # texts encoded together: one matrix product per layer instead of one per text


def _erf(x: np.ndarray) -> np.ndarray:
    """erf, vectorised (Abramowitz & Stegun 7.1.26, error < 1.5e-7: below float32's own rounding
    at these magnitudes), computed in place in float32. A Python-level math.erf per element
    cost 60% of answering time."""
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):  # Horner's rule
        poly += np.float32(coefficient)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(np.float32(1.0), poly, out=poly)
    return np.copysign(poly, x, out=poly)


GELU_ROWS = 16  # rows of the intermediate layer (16 x 1536 floats: 96 KB) per block


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, as BERT uses: x (1 + erf(x / sqrt 2)) / 2, in place, a block of rows at a
    time. The dozen elementwise passes are memory-bound: over blocks that stay in the CPU's
    cache they run 2-3x faster than over the whole array."""
    rows = x.reshape(-1, x.shape[-1])
    for start in range(0, len(rows), GELU_ROWS):
        block = rows[start : start + GELU_ROWS]
        gelu = _erf(block * np.float32(1 / math.sqrt(2.0)))
        gelu += np.float32(1.0)
        gelu *= block
        gelu *= np.float32(0.5)
        block[...] = gelu
    return x


class Unsupported(Exception):
    """This model folder is not a plain BERT + mean pooling + normalise model."""


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}") from exc


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def _map_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only views of the memory-mapped file. The
    format is an 8-byte header length, a JSON header of dtype/shape/offsets, then raw data.
    safetensors' own loader copies all 90 MB (0.1 s) before the first query; mapped pages
    are read by the first matrix products and shared between processes."""
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(size))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
        return {name: data[start:end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
                for name, info in header.items() if name != "__metadata__"
                for start, end in [info["data_offsets"]]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unsupported(f"cannot read {path.name} ({exc})") from exc


class NumpyBertEncoder:
    """Mean-pooled, L2-normalised BERT sentence embeddings computed with numpy."""

    def __init__(self, folder: Path) -> None:
        config = _read_json(folder / "config.json")
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        modules = [m.get("type", "") for m in json.loads((folder / "modules.json").read_text())] \
            if (folder / "modules.json").is_file() else []
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
                or config.get("position_embedding_type", "absolute") != "absolute":
            raise Unsupported("not a plain BERT model")
        if not pooling.get("pooling_mode_mean_tokens") or sum(bool(v) for k, v in pooling.items() if k.startswith("pooling_mode")) != 1:
            raise Unsupported("pooling is not plain mean pooling")
        if not any(m.endswith("Normalize") for m in modules):
            raise Unsupported("embeddings are not normalised")
        from tokenizers import Tokenizer

        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        max_len = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 512)) \
            if (folder / "sentence_bert_config.json").is_file() else 512
        # float32 already for this model: no copy (a copy doubled the weights' 90 MB at load)
        self.weights = {k: v.astype(np.float32, copy=False) for k, v in _map_safetensors(folder / "model.safetensors").items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)

    def _w(self, name: str) -> np.ndarray:
        return self.weights[name]

    def _dense(self, x: np.ndarray, prefix: str) -> np.ndarray:
        """A linear layer as one matrix product over all the batch's tokens: numpy runs a
        (batch, tokens, hidden) @ matrix product as one BLAS call per text, 1.8x slower."""
        out = x.reshape(-1, x.shape[-1]) @ self._w(prefix + ".weight").T
        out += self._w(prefix + ".bias")
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def _attention(self, x: np.ndarray, mask: np.ndarray, prefix: str) -> np.ndarray:
        batch, n, hidden = x.shape
        size = hidden // self.heads
        q, k, v = (self._dense(x, f"{prefix}.attention.self.{name}").reshape(batch, n, self.heads, size).transpose(0, 2, 1, 3)
                   for name in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + mask[:, None, None, :]
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        return (scores @ v).transpose(0, 2, 1, 3).reshape(batch, n, hidden)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One padded batch: padding is masked out of attention and of the mean, so each text's
        vector is what it would be alone."""
        encodings = [self.tokenizer.encode(text).ids for text in texts]
        longest = max(len(ids) for ids in encodings)
        ids = np.zeros((len(texts), longest), dtype=np.int64)
        present = np.zeros((len(texts), longest), dtype=np.float32)
        for row, tokens in enumerate(encodings):
            ids[row, : len(tokens)] = tokens
            present[row, : len(tokens)] = 1.0
        mask = (present - 1.0) * 1e9  # 0 where a token is, -1e9 where padding is
        w = self._w
        x = w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[:longest] \
            + w("embeddings.token_type_embeddings.weight")[0]
        x = _layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), self.eps)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"
            attended = self._dense(self._attention(x, mask, p), f"{p}.attention.output.dense")
            x = _layer_norm(attended + x, w(f"{p}.attention.output.LayerNorm.weight"), w(f"{p}.attention.output.LayerNorm.bias"), self.eps)
            inner = _gelu(self._dense(x, f"{p}.intermediate.dense"))
            x = _layer_norm(self._dense(inner, f"{p}.output.dense") + x, w(f"{p}.output.LayerNorm.weight"), w(f"{p}.output.LayerNorm.bias"), self.eps)
        pooled = (x * present[:, :, None]).sum(axis=1) / present.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str]) -> list[list[float]]:
        # Texts of similar length share a batch, so little of each batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            for index, vector in zip(chosen, self._encode([texts[i] for i in chosen])):
                vectors[index] = vector.tolist()
        return vectors
