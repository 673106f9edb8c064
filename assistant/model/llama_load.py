"""Loading a GGUF model with llama.cpp on every x86 CPU, including those with Intel AMX.

On a CPU with AMX (Xeon Sapphire Rapids and later, common in cloud virtual machines), a
llama.cpp built for the machine repacks the weights into an AMX buffer whose matrix multiply
crashes the whole process (a segmentation fault, no Python error) on the first token in many
virtual machines. llama.cpp's `use_extra_bufts = false` keeps the weights in plain CPU buffers,
which work everywhere. llama-cpp-python's `Llama` has no argument for it, so on such a CPU the
default model parameters it starts from are adjusted while it loads; everywhere else nothing
changes (the extra buffers speed up some quantisations on other CPUs).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_CPUINFO = Path("/proc/cpuinfo")
_LOADING = threading.Lock()  # the swap below must not interleave between two loads


@lru_cache(maxsize=1)
def has_amx(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the CPU advertises AMX (Linux: an `amx_*` flag in /proc/cpuinfo)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("flags"):
                    return any(flag.startswith("amx_") for flag in line.split(":", 1)[-1].split())
    except OSError:
        return False
    return False


def _plain(default: Callable[[], Any]) -> Callable[[], Any]:
    def plain() -> Any:
        params = default()
        params.use_extra_bufts = False
        return params

    return plain


@contextmanager
def _plain_buffers() -> Iterator[None]:
    import llama_cpp.llama as module

    default = module.llama_cpp.llama_model_default_params
    module.llama_cpp.llama_model_default_params = _plain(default)
    try:
        yield
    finally:
        module.llama_cpp.llama_model_default_params = default


def load(make: Callable[..., T], **kwargs: Any) -> T:
    """`make(**kwargs)` (a `Llama` class), with plain CPU buffers on an AMX CPU."""
    if not has_amx():
        return make(**kwargs)
    with _LOADING, _plain_buffers():
        return make(**kwargs)


def plain_buffers_for_this_process() -> None:
    """For a process that only serves a model (`python -m assistant.model.llama_load`, below):
    every model it loads gets plain CPU buffers on an AMX CPU."""
    if has_amx():
        import llama_cpp.llama as module

        module.llama_cpp.llama_model_default_params = _plain(module.llama_cpp.llama_model_default_params)


if __name__ == "__main__":
    # `python -m assistant.model.llama_load ARGS`: `python -m llama_cpp.server ARGS`, safe on AMX CPUs.
    import runpy

    plain_buffers_for_this_process()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
