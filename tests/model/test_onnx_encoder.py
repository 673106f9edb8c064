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


def _passages() -> list[str]:
    """Forty passages of many lengths: several batches, so they run in parallel."""
    words = "robot policy grasp vision transformer depth camera reward planner language model token".split()
    return [" ".join(words[(i * 7 + j) % len(words)] for j in range(3 + 9 * (i % 9))) + f" ({i})." for i in range(40)]


def test_passages_are_exact_by_default_in_order(tmp_path: Path) -> None:
    encoder = OnnxEncoder(bundled_encoder_path(), tmp_path)
    texts = _passages() + TEXTS  # several batches, run in parallel
    alone = np.asarray([encoder.embed([text])[0] for text in texts])
    assert np.allclose(encoder.embed_many(texts), alone, atol=1e-5)
    assert [p.name.endswith(".int8.onnx") for p in (tmp_path / "encoders").iterdir()] == [False]


def test_embed_int8_puts_passages_through_the_int8_graph_in_order(tmp_path: Path) -> None:
    from assistant.core.settings import load_settings
    from assistant.model.embedder import make_embedder

    settings = load_settings(env={"ASSISTANT_CONFIG": str(tmp_path / "none.toml"), "ASSISTANT_EMBED_INT8": "1",
                                  "ASSISTANT_CACHE_DIR": str(tmp_path)})
    embedder = make_embedder(settings)
    assert isinstance(embedder, LocalEmbedder) and embedder.int8
    encoder = embedder.runtime
    assert isinstance(encoder, OnnxEncoder)
    texts = _passages() + TEXTS
    exact = np.asarray(encoder.embed(texts))
    quick = np.asarray(encoder.embed_many(texts))
    assert quick.shape == exact.shape
    assert np.allclose(np.linalg.norm(quick, axis=1), 1.0, atol=1e-4)
    # each row is its own text's vector (a row out of order would sit far lower)
    assert _cosines(quick, exact).min() >= 0.97
    assert not np.allclose(quick, exact, atol=1e-4)  # it is the other graph
    # the questions find the same passage either way
    questions = np.asarray(encoder.embed(["robot grasp planner", "language model token", "depth camera vision"]))
    assert ((questions @ quick.T).argmax(axis=1) == (questions @ exact.T).argmax(axis=1)).all()
    made = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "encoders").iterdir()}
    assert sorted(name.endswith(".int8.onnx") for name in made) == [False, True]
    OnnxEncoder(bundled_encoder_path(), tmp_path, int8=True).embed_many(texts[:2])
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "encoders").iterdir()} == made


def test_a_graph_it_cannot_quantise_stores_exact_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime.quantization

    def refuse(source: str, target: str, **options: object) -> None:
        Path(target).write_bytes(b"half a graph")
        raise ValueError("an operator it does not know")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", refuse)
    encoder = OnnxEncoder(bundled_encoder_path(), tmp_path, int8=True)
    texts = _passages()
    assert np.allclose(encoder.embed_many(texts), encoder.embed(texts), atol=1e-5)
    assert [p.name.endswith(".onnx") for p in (tmp_path / "encoders").iterdir()] == [True]  # no partial file left
