"""Sampling with the grammar checked last (assistant/model/grammar_sampler.py) must still give only
what the grammar allows, with the real bundled model, also where the model would rather write
something else entirely."""

from __future__ import annotations

import re

import pytest

from assistant.answer.generate import citation_grammar
from assistant.model.chat import LlamaCppModel, Sampling, load_model


@pytest.fixture(scope="module")
def model() -> LlamaCppModel:
    return load_model(None, n_ctx=2048, n_threads=None, n_gpu_layers=0)


def _write(model: LlamaCppModel, prompt: str, sampling: Sampling) -> str:
    model.llama.reset()
    return "".join(model.stream([{"role": "user", "content": prompt}], sampling))


def test_a_grammar_the_model_would_not_follow_is_obeyed(model: LlamaCppModel) -> None:
    """Asked for a long story, allowed only "yes" or "no": every free pick is rejected by the
    grammar and the constrained resampling must take over."""
    for seed in (1, 2, 3):
        text = _write(model, "Write a long story about a dragon.",
                      Sampling(max_tokens=20, seed=seed, grammar='root ::= "yes" | "no"'))
        assert text in {"yes", "no"}


def test_the_citation_grammar_is_obeyed_and_sampling_stays_reproducible(model: LlamaCppModel) -> None:
    prompt = ("Sources:\n[1] Reversal curse\n- Models trained on 'A is B' fail to learn 'B is A'.\n"
              "[2] Grokking\n- Networks generalise long after they fit the training data.\n\n"
              "Question: What are the reversal curse and grokking? Cite sources like [1].")
    sampling = Sampling(max_tokens=400, grammar=citation_grammar(3, [1, 2]))
    text = _write(model, prompt, sampling)
    sentence = r'[A-Z0-9"][^\[\]\n]{8,300} \[[12]\]\.?'
    assert re.fullmatch(rf"{sentence}( {sentence}){{0,2}}", text), text
    assert _write(model, prompt, sampling) == text
