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

_ERF = np.vectorize(math.erf, otypes=[np.float32])


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
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        max_len = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 512)) \
            if (folder / "sentence_bert_config.json").is_file() else 512
        self.weights = {k: v.astype(np.float32) for k, v in load_file(str(folder / "model.safetensors")).items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)

    def _w(self, name: str) -> np.ndarray:
        return self.weights[name]

    def _dense(self, x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ self._w(prefix + ".weight").T + self._w(prefix + ".bias")

    def _attention(self, x: np.ndarray, prefix: str) -> np.ndarray:
        n, hidden = x.shape
        size = hidden // self.heads
        q, k, v = (self._dense(x, f"{prefix}.attention.self.{name}").reshape(n, self.heads, size).transpose(1, 0, 2)
                   for name in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        return (scores @ v).transpose(1, 0, 2).reshape(n, hidden)

    def _encode(self, text: str) -> np.ndarray:
        ids = np.array(self.tokenizer.encode(text).ids)
        w = self._w
        x = w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[: len(ids)] \
            + w("embeddings.token_type_embeddings.weight")[0]
        x = _layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), self.eps)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"
            attended = self._dense(self._attention(x, p), f"{p}.attention.output.dense")
            x = _layer_norm(attended + x, w(f"{p}.attention.output.LayerNorm.weight"), w(f"{p}.attention.output.LayerNorm.bias"), self.eps)
            inner = self._dense(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + _ERF(inner / math.sqrt(2.0)))  # exact GELU, as BERT uses
            x = _layer_norm(self._dense(inner, f"{p}.output.dense") + x, w(f"{p}.output.LayerNorm.weight"), w(f"{p}.output.LayerNorm.bias"), self.eps)
        pooled = x.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._encode(text).tolist() for text in texts]
