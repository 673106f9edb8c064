"""Grammar-constrained sampling at the cost of free sampling, for llama.cpp.

llama-cpp-python applies a grammar to every token of the vocabulary (49,152 for SmolLM2)
before top-k, at every step: the citation grammar halved generation speed (41 against 77
tokens/s here). Nearly every token the model picks is one the grammar allows, so this does
what llama.cpp's own `common_sampler` does: sample without the grammar, check the one token
picked, and only when the grammar rejects it, constrain the whole vocabulary and sample
again. The output obeys the grammar exactly as before.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar
    from llama_cpp._internals import LlamaContext, LlamaSampler


class GrammarLast:
    """A sampler with the interface `Llama.generate` uses (`sample(ctx, idx)`, which also
    accepts the token, as `llama_sampler_sample` does)."""

    def __init__(self, llama: Llama, free: LlamaSampler, grammar: LlamaGrammar) -> None:
        import llama_cpp

        self._c = llama_cpp
        self.free = free  # the usual chain (penalties, top-k, top-p, temperature, dist), no grammar
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))  # noqa: SLF001
        if not self.grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.n_vocab = llama.n_vocab()
        dtype = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
        self._all = np.zeros(self.n_vocab, dtype=dtype)
        self._one = np.zeros(1, dtype=dtype)
        self._ids = np.arange(self.n_vocab, dtype=np.intc)

    def _array(self, data: np.ndarray) -> ctypes.Structure:
        return self._c.llama_token_data_array(data=data.ctypes.data_as(self._c.llama_token_data_p),
                                              size=len(data), selected=-1, sorted=False)

    def _candidates(self, ctx: LlamaContext, idx: int) -> ctypes.Structure:
        logits = self._c.llama_get_logits_ith(ctx.ctx, idx)
        self._all["id"] = self._ids
        self._all["logit"] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self._all["p"] = 0.0
        return self._array(self._all)

    def _allowed(self, token: int) -> bool:
        self._one[0] = (token, 0.0, 0.0)
        one = self._array(self._one)
        self._c.llama_sampler_apply(self.grammar, ctypes.byref(one))
        return bool(np.isfinite(self._one[0]["logit"]))

    def sample(self, ctx: LlamaContext, idx: int = -1) -> int:
        candidates = self._candidates(ctx, idx)
        self._c.llama_sampler_apply(self.free.sampler, ctypes.byref(candidates))
        token = int(candidates.data[candidates.selected].id)  # samplers may reorder or replace the data
        if not self._allowed(token):  # rare: constrain everything, then sample as usual
            candidates = self._candidates(ctx, idx)
            self._c.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            self._c.llama_sampler_apply(self.free.sampler, ctypes.byref(candidates))
            token = int(candidates.data[candidates.selected].id)
        self._c.llama_sampler_accept(self.free.sampler, token)
        self._c.llama_sampler_accept(self.grammar, token)
        return token

    def __del__(self) -> None:
        if getattr(self, "grammar", None):
            self._c.llama_sampler_free(self.grammar)
            self.grammar = None


@lru_cache(maxsize=1)
def grammar_last_llama() -> type[Llama]:
    """`Llama` whose grammar-constrained generations sample with `GrammarLast` (defined on first
    use, so that importing this module does not import llama_cpp)."""
    from llama_cpp import Llama

    class GrammarLastLlama(Llama):
        def _init_sampler(self, *args: object, grammar: LlamaGrammar | None = None, **kwargs: object) -> object:
            free = super()._init_sampler(*args, grammar=None, **kwargs)  # type: ignore[arg-type]
            return GrammarLast(self, free, grammar) if grammar is not None else free

    return GrammarLastLlama
