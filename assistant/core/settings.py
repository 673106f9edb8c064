"""One `Settings` object, resolved as flags > environment (`ASSISTANT_*`) > config file > defaults.

It is built once at the edge (CLI, TUI, tests) and passed down; nothing reads it globally.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import AssistantError

APP_NAME = "assistant"
BUNDLED_EMBEDDER = "all-MiniLM-L6-v2"
# How the citation grammar is sent to a model server: by its kind, as llama.cpp's grammar,
# vLLM's structured_outputs or its older guided_grammar, or not at all.
GRAMMAR_STYLES = ("auto", "grammar", "structured_outputs", "guided_grammar", "none")


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def default_config_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where data lives and which models to use."""

    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    # The bundled embedder's name, or a path to a local sentence-transformers model folder.
    embedder: str = BUNDLED_EMBEDDER
    # What can be made again, shared by every data directory: the embedder exported for ONNX
    # Runtime (made on first use, ~10 s) and the lock that lets one command generate at a time.
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    # Embed passages at ingest with an int8 copy of the local embedder: ~1.4x the ingest rate on
    # a CPU, vectors at cosine ~0.993 to the exact ones (a few answers near the coverage
    # thresholds change; models.md). Questions are embedded exactly either way.
    embed_int8: bool = False
    # Ingest the bundled sample collection the first time a store is used.
    seed_bundled: bool = True
    # A GGUF file; None means the bundled SmolLM2-135M-Instruct.
    model: str | None = None
    # llama.cpp offload: layers to put on the GPU (-1 = all, 0 = CPU only); None = all of them
    # when llama-cpp-python was built for a GPU (CUDA, Metal, Vulkan...), else none.
    gpu_layers: int | None = None
    # CPU threads for generation; 0 = one per core.
    threads: int = 0
    # Context window in tokens; prompts are trimmed to fit it. The prompts take about 350
    # tokens (460 with five sources of five sentences) plus up to 160 for the answer, and
    # each 2,048 tokens of context hold 45 MB of KV cache with the bundled model.
    ctx: int = 2048
    # A folder of prompt templates that replaces the bundled ones.
    prompts_dir: Path | None = None
    # A Chroma server (http://HOST:PORT) for the vectors instead of the embedded store in
    # `data_dir`; the catalogue stays in `data_dir` either way.
    chroma_url: str | None = None
    # The server's collection for this data directory; None names it after the directory, so
    # several users' collections can share one server.
    collection: str | None = None
    # An OpenAI-compatible server (http://HOST:PORT/v1) to generate with instead of `model`.
    llm_url: str | None = None
    # The model to ask for there; None takes the first one the server lists.
    llm_model: str | None = None
    # How the citation grammar is sent: auto (by the server's kind), grammar (llama.cpp),
    # structured_outputs (vLLM), guided_grammar (older vLLM) or none (verification alone).
    llm_grammar: str = "auto"
    # Seconds to wait for the server to answer (or for the next piece of a streamed answer);
    # also for the embedding server to answer one batch.
    llm_timeout: int = 120
    # The server's API key, if it wants one (best given as ASSISTANT_LLM_API_KEY).
    llm_api_key: str | None = dataclasses.field(default=None, repr=False)
    # An OpenAI-compatible embeddings server (http://HOST:PORT/v1: Infinity, llama.cpp, vLLM,
    # TEI) that embeds passages and questions instead of `embedder`.
    embed_url: str | None = None
    # The embedding model to ask for there; None takes the first one the server lists. The
    # collection records the model, and refuses vectors of another.
    embed_model: str | None = None
    # The embedding server's API key, if it wants one (best given as ASSISTANT_EMBED_API_KEY).
    embed_api_key: str | None = dataclasses.field(default=None, repr=False)

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def vectors_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def turns_lock(self) -> Path:
        """The lock through which commands on this machine take turns to generate."""
        return self.cache_dir / "generating.lock"


def _convert(name: str, kind: object, value: object) -> object:
    kind = str(getattr(kind, "__name__", kind))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise AssistantError(f"setting {name}: expected true/false, got {value!r}")
    if kind.startswith("Path"):
        return Path(str(value)).expanduser()
    if kind in {"int", "int | None"}:
        try:
            return int(str(value))
        except ValueError as exc:
            raise AssistantError(f"setting {name}: expected a whole number, got {value!r}") from exc
    return str(value)


def _read_config_file(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AssistantError(f"config file {path}: {exc}") from exc


def load_settings(flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings; `flags` holds only options the user actually gave (None = not given)."""
    env = os.environ if env is None else env
    config_path = Path(env["ASSISTANT_CONFIG"]).expanduser() if env.get("ASSISTANT_CONFIG") else default_config_file()
    from_file = _read_config_file(config_path)
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = set(from_file) - set(fields)
    if unknown:
        raise AssistantError(f"config file {config_path}: unknown setting(s) {', '.join(sorted(unknown))}")
    values: dict[str, object] = {}
    for name, spec in fields.items():
        for source in (flags or {}, {name: env.get(f"ASSISTANT_{name.upper()}")}, from_file):
            value = source.get(name)
            if value is not None and value != "":
                values[name] = _convert(name, spec.type, value)
                break
    return Settings(**values)  # type: ignore[arg-type]
