"""The local embedder on ONNX Runtime: the same vectors as sentence-transformers on torch, for
the bundled model and for the other poolings it reproduces; exported once; anything else is
run by sentence-transformers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.model.embedder import LocalEmbedder, bundled_encoder_path
from assistant.model.onnx_encoder import OnnxEncoder, Unsupported

TEXTS = ["What is the reversal curse?", "Modèles génératifs — ünïcode, 3.5% of 12 tokens", "word " * 400,
         "x", "Vision-language-action models for robot manipulation. We train a policy on 970k episodes."]


def _torch_vectors(folder: Path, texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), local_files_only=True)
    return np.asarray(model.encode(texts, normalize_embeddings=False))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _variant(tmp_path: Path, pooling: str, normalise: bool = True) -> Path:
    """The bundled model's folder with another pooling (links to the same weights)."""
    source = bundled_encoder_path()
    folder = tmp_path / f"minilm-{pooling}"
    folder.mkdir()
    for item in source.iterdir():
        if item.name not in {"1_Pooling", "modules.json"}:
            (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").mkdir()
    config = json.loads((source / "1_Pooling" / "config.json").read_text())
    config.update({key: False for key in config if key.startswith("pooling_mode")})
    config[f"pooling_mode_{pooling}"] = True
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    modules = [m for m in json.loads((source / "modules.json").read_text()) if normalise or "Normalize" not in m["type"]]
    (folder / "modules.json").write_text(json.dumps(modules))
    return folder


def test_bundled_vectors_agree_with_sentence_transformers(tmp_path: Path) -> None:
    encoder = OnnxEncoder(bundled_encoder_path(), tmp_path)
    ours = np.asarray(encoder.embed(TEXTS))
    theirs = _torch_vectors(bundled_encoder_path(), TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), encoder.dim)
    assert _cosines(ours, theirs).min() >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # batched with texts of other lengths, a text gets the vector it gets alone
    assert np.allclose(encoder.embed([TEXTS[2]])[0], ours[2], atol=1e-5)


@pytest.mark.parametrize(("pooling", "normalise"), [("cls_token", True), ("max_tokens", False)])
def test_other_poolings_agree_with_sentence_transformers(tmp_path: Path, pooling: str, normalise: bool) -> None:
    folder = _variant(tmp_path, pooling, normalise)
    ours = np.asarray(OnnxEncoder(folder, tmp_path / "cache").embed(TEXTS))
    theirs = _torch_vectors(folder, TEXTS)
    assert _cosines(ours, theirs).min() >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), np.linalg.norm(theirs, axis=1), rtol=1e-3)


def test_exported_once_into_the_cache(tmp_path: Path) -> None:
    OnnxEncoder(bundled_encoder_path(), tmp_path)
    [made] = list((tmp_path / "encoders").iterdir())
    stamp = made.stat().st_mtime_ns
    again = LocalEmbedder(cache_dir=tmp_path)
    again.embed_queries(["a query"])
    assert isinstance(again.runtime, OnnxEncoder)
    assert [p.name for p in (tmp_path / "encoders").iterdir()] == [made.name]
    assert made.stat().st_mtime_ns == stamp


def test_a_pooling_it_cannot_reproduce_runs_on_sentence_transformers(tmp_path: Path) -> None:
    folder = _variant(tmp_path, "lasttoken")
    with pytest.raises(Unsupported):
        OnnxEncoder(folder, tmp_path / "cache")
    embedder = LocalEmbedder(str(folder), cache_dir=tmp_path / "cache")
    vectors = np.asarray(embedder.embed(TEXTS[:2]))
    assert not isinstance(embedder.runtime, OnnxEncoder)
    assert vectors.shape == (2, embedder.dim)
    theirs = _torch_vectors(folder, TEXTS[:2])
    assert np.allclose(vectors, theirs / np.linalg.norm(theirs, axis=1, keepdims=True), atol=1e-5)
