"""Loading on AMX CPUs: the CPU's flags are read from /proc/cpuinfo, and on such a CPU the model
is loaded with llama.cpp's plain CPU buffers (the AMX ones crash many virtual machines)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assistant.model import llama_load


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/cpuinfo")
@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8", True),
    ("fpu sse avx2 avx512f avx512_vnni", False),
])
def test_amx_is_read_from_the_cpu_flags(tmp_path: Path, flags: str, expected: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: some cpu\nflags\t\t: {flags}\n\n", encoding="utf-8")
    assert llama_load.has_amx.__wrapped__(cpuinfo) is expected


def test_a_missing_cpuinfo_means_no_amx(tmp_path: Path) -> None:
    assert llama_load.has_amx.__wrapped__(tmp_path / "absent") is False


def test_on_an_amx_cpu_the_model_loads_with_plain_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    import llama_cpp.llama as module

    seen: list[bool] = []

    def make(**kwargs: object) -> str:
        seen.append(module.llama_cpp.llama_model_default_params().use_extra_bufts)
        return "loaded"

    monkeypatch.setattr(llama_load, "has_amx", lambda: True)
    assert llama_load.load(make, model_path="m.gguf") == "loaded"
    monkeypatch.setattr(llama_load, "has_amx", lambda: False)
    llama_load.load(make, model_path="m.gguf")
    assert seen == [False, module.llama_cpp.llama_model_default_params().use_extra_bufts]
    assert module.llama_cpp.llama_model_default_params().use_extra_bufts is True  # restored after loading
