"""Commands on one machine take turns to generate: while another process holds the turn, a
model waits before computing; a stream that is read no further never keeps the turn. And a
model goes onto the GPU by default when llama.cpp was built for one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.model.chat import LlamaCppModel, Sampling, Waiting

MESSAGES = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture
def turned(real_model: LlamaCppModel, tmp_path: Path) -> LlamaCppModel:
    """The session's loaded model, sharing the turn lock at `tmp_path / turn.lock`."""
    model = LlamaCppModel(real_model.path, n_ctx=real_model.n_ctx, n_gpu_layers=0, turns=tmp_path / "turn.lock")
    model._llama = real_model.llama  # noqa: SLF001 - the same weights, loaded once for the suite
    return model


def test_a_model_waits_while_another_command_has_the_turn_and_says_so(turned: LlamaCppModel, tmp_path: Path) -> None:
    other = FileLock(tmp_path / "turn.lock", thread_local=False)  # another process's hold, as flock sees it
    other.acquire()
    pieces: list[object] = []
    reader = threading.Thread(target=lambda: pieces.extend(turned.stream(MESSAGES, Sampling(max_tokens=8))))
    reader.start()
    reader.join(timeout=2.0)
    assert reader.is_alive() and pieces == [Waiting()]  # waiting, nothing computed, and it said so once
    other.release()
    reader.join(timeout=120)
    assert not reader.is_alive()
    assert pieces[0] == Waiting() and pieces[1:] and all(isinstance(p, str) for p in pieces[1:])


def test_a_free_turn_is_taken_without_a_word(turned: LlamaCppModel) -> None:
    assert all(isinstance(piece, str) for piece in turned.stream(MESSAGES, Sampling(max_tokens=8)))


def test_a_stream_read_no_further_does_not_keep_the_turn(turned: LlamaCppModel, tmp_path: Path) -> None:
    stream = turned.stream(MESSAGES, Sampling(max_tokens=32))
    assert next(stream)  # the answer has begun, and the stream is kept but not read (a cancelled answer)
    other = FileLock(tmp_path / "turn.lock", thread_local=False)
    other.acquire(timeout=2.0)  # raises Timeout if the stream still held the turn
    other.release()
    stream.close()


def test_gpu_layers_default_to_all_on_a_gpu_build_and_none_on_a_cpu_build(real_model: LlamaCppModel,
                                                                           tmp_path: Path) -> None:
    from llama_cpp import llama_supports_gpu_offload

    from assistant.core.settings import load_settings

    config = {"ASSISTANT_CONFIG": str(tmp_path / "none.toml")}
    assert load_settings(env=config).gpu_layers is None  # not given: decided when the model loads
    assert load_settings(env={**config, "ASSISTANT_GPU_LAYERS": "0"}).gpu_layers == 0  # 0 still forces the CPU
    model = LlamaCppModel(real_model.path, n_ctx=512)
    model.count_tokens("load")
    assert model.n_gpu_layers == (-1 if llama_supports_gpu_offload() else 0)
