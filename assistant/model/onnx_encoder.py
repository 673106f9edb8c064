"""The local embedder's runtime: a sentence-transformers model folder run by ONNX Runtime.

The folder's transformer is exported to ONNX once (torch and transformers, about 10 s on two
cores) into a cache shared by every data directory; each later command loads the cached graph
in ~0.2 s without importing torch (4 s). Tokenising (tokenizers), pooling and normalising are
the folder's own settings, applied as sentence-transformers applies them, so the vectors agree
with the model's to cosine 0.9999 (a test checks it). A folder whose modules it cannot
reproduce (a Dense layer, last-token pooling) is `Unsupported`, and the caller runs it with
sentence-transformers instead.

With `int8`, passages to store go through a copy of the graph whose matrix products are int8
(dynamic quantisation, one scale per weight column; made once, beside the export): 1.6-1.7x
the float graph's passages/s on two cores (a whole ingest 1.4x), with vectors at cosine 0.993
mean / 0.987 min to the exact ones (1,391 arXiv passages). That is close, not equal: a few
answers near the coverage thresholds change (`models.md`), so it is the user's choice
(`--embed-int8`), and questions are always embedded exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.core.offline import go_offline

if TYPE_CHECKING:
    import onnxruntime

EXPORT_FORMAT = 1  # bump when the exported graph changes, so old cached files are not used
# Texts encoded together. Sorted by length, a batch is mostly real tokens; on two cores 8 ran
# 36.8 passages/s, 16 ran 34.9 and 32 ran 33.2 (1,391 arXiv passages).
BATCH = 8
# The Pooling module's settings that `_pool` reproduces, as sentence-transformers names them.
POOLING = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean", "pooling_mode_max_tokens": "max"}
PLAIN_MODULES = {"Transformer", "Pooling", "Normalize"}


class Unsupported(Exception):
    """This model folder is not a transformer + plain pooling (+ normalise) model."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}") from exc


class OnnxEncoder:
    """Sentence embeddings of one model folder, computed by ONNX Runtime."""

    def __init__(self, folder: Path, cache_dir: Path, *, int8: bool = False) -> None:
        modules = _read_json(folder / "modules.json") if (folder / "modules.json").is_file() else []
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or not set(kinds) <= PLAIN_MODULES:
            raise Unsupported(f"modules {kinds} are not a transformer with plain pooling")
        pooling_folder = next(m.get("path", "1_Pooling") for m in modules if str(m.get("type", "")).endswith("Pooling"))
        pooling = _read_json(folder / pooling_folder / "config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if len(modes) != 1 or modes[0] not in POOLING:
            raise Unsupported(f"pooling {modes} is not one of {sorted(POOLING)}")
        self.pooling = POOLING[modes[0]]
        self.normalise = "Normalize" in kinds
        config = _read_json(folder / "config.json")
        self.dim = int(config.get("hidden_size", 0)) or int(pooling.get("word_embedding_dimension", 0))
        bert = _read_json(folder / "sentence_bert_config.json") if (folder / "sentence_bert_config.json").is_file() else {}
        from tokenizers import Tokenizer

        if not (folder / "tokenizer.json").is_file():
            raise Unsupported("no tokenizer.json")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the folder's file may pad every text to a fixed length
        self.tokenizer.enable_truncation(int(bert.get("max_seq_length", 512)))
        self.folder, self.cache_dir, self.int8 = folder, cache_dir, int8
        self.session = _session(exported(folder, cache_dir), threads=0)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self._quick: onnxruntime.InferenceSession | None = None  # the int8 graph, loaded by the first `embed_many`

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Exact vectors, one per text, in order, each batch on every core."""
        return self._run(self.session, texts, parallel=False)

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages to store: exact ones, or with `int8` the int8 graph's (see the
        module's docstring; exact where the model cannot be quantised), on a session of its
        own that runs one batch per core at a time, 5-25% more passages/s than one batch at a
        time on every core (for the float graph it made no difference, and cost memory)."""
        if not self.int8:
            return self.embed(texts)
        if self._quick is None:
            try:
                self._quick = _session(quantised(self.folder, self.cache_dir), threads=1)
            except Unsupported:
                self.int8 = False  # the exact graph serves
                return self.embed(texts)
        return self._run(self._quick, texts, parallel=True)

    def _run(self, session: onnxruntime.InferenceSession, texts: list[str], parallel: bool) -> list[list[float]]:
        """One vector per text, in order. Texts of similar length share a batch; `parallel`
        runs one batch per core at a time (ONNX Runtime releases the GIL while it computes)."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]

        def encode(chosen: list[int]) -> np.ndarray:
            rows = [encodings[i].ids for i in chosen]
            longest = max(len(ids) for ids in rows)
            ids = np.zeros((len(rows), longest), dtype=np.int64)
            mask = np.zeros((len(rows), longest), dtype=np.int64)
            for row, tokens in enumerate(rows):
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            return self._pool(session.run(None, feed)[0], mask)

        vectors: list[list[float]] = [[] for _ in texts]
        workers = min(cores(), len(batches)) if parallel else 1
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                pooled = list(pool.map(encode, batches))
        else:
            pooled = [encode(chosen) for chosen in batches]
        for chosen, rows in zip(batches, pooled):
            for index, vector in zip(chosen, rows):
                vectors[index] = vector.tolist()
        return vectors

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The Pooling and Normalize modules: padding never counts (masked out of the mean and
        the max), so each text's vector is what it would be alone."""
        present = mask[:, :, None].astype(hidden.dtype)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "max":
            pooled = np.where(present > 0, hidden, -1e9).max(axis=1)
        else:
            pooled = (hidden * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1e-9)
        if self.normalise:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """A CPU session of `path`; `threads` 0 computes each call on every core, 1 on the
    calling thread."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its graph-optimisation notes are not the user's business
    options.enable_cpu_mem_arena = False  # batches differ in shape: an arena kept the largest (16 MB less at peak)
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def exported(folder: Path, cache_dir: Path) -> Path:
    """The folder's transformer as an ONNX file in `cache_dir`, exported on first need. Keyed
    by the folder and its weights' size and time, so an updated model is exported again."""
    weights = sorted(p for p in folder.iterdir() if p.suffix in {".safetensors", ".bin"}) if folder.is_dir() else []
    if not weights:
        raise Unsupported("no weights file")
    stamp = [str(folder.resolve()), EXPORT_FORMAT] + [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights]
    key = hashlib.sha1(json.dumps(stamp).encode()).hexdigest()[:16]
    target = cache_dir / "encoders" / f"{folder.name}-{key}.onnx"
    if not target.is_file():
        _export(folder, target)
    return target


def quantised(folder: Path, cache_dir: Path) -> Path:
    """The exported graph with int8 matrix products (dynamic quantisation, one scale per
    weight column: per-tensor scales put vectors at cosine 0.94 to the float ones, per-channel
    at 0.993), made on first need beside the export; `Unsupported` if it cannot be made."""
    source = exported(folder, cache_dir)
    target = source.with_suffix(".int8.onnx")
    if target.is_file():
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _quiet_root_logger():  # it logs advice to pre-process the graph first, which this graph needs not
            quantize_dynamic(str(source), str(partial), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"])
        os.replace(partial, target)
    except Exception as exc:  # noqa: BLE001 - a graph the quantiser cannot handle: the float one serves
        raise Unsupported(f"cannot quantise ({exc})") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Drop the root logger's records below ERROR while the block runs."""
    root = logging.getLogger()

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    root.addFilter(errors_only)
    try:
        yield
    finally:
        root.removeFilter(errors_only)


def _export(folder: Path, target: Path) -> None:
    """Trace the transformer (eager attention: the fused kernels do not trace) to `target`,
    written under a temporary name and renamed, so a second process exporting at the same
    time, or an interrupted export, never leaves a half-written file."""
    go_offline()
    try:
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
    except Exception as exc:  # noqa: BLE001 - any load failure means: run it the other way
        raise Unsupported(f"cannot load the transformer for export ({exc})") from exc

    class Hidden(torch.nn.Module):
        """The transformer's last hidden state from ids and mask (token types default to 0)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "texts", 1: "tokens"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python-side shape checks
            torch.onnx.export(Hidden(), (sample, sample), str(partial), input_names=["input_ids", "attention_mask"],
                              output_names=["hidden"], opset_version=17, dynamo=False,
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes})
        os.replace(partial, target)
    except Exception as exc:  # noqa: BLE001 - an architecture the exporter cannot trace
        raise Unsupported(f"cannot export to ONNX ({exc})") from exc
    finally:
        partial.unlink(missing_ok=True)
