"""Verify, then fill: the one step every grounded output goes through after the model has
written. What the model wrote is checked sentence by sentence against the sources; evidence
fills in what the kept sentences do not already say."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.answer.evidence import Source, cosine_matrix
from assistant.answer.verify import Claim, verify
from assistant.core.records import quantities_in
from assistant.core.tuning import Tuning
from assistant.model.embedder import Embedder


def evidence_claim(source: Source, sentence: str, origin: str = "evidence") -> Claim:
    """A sentence quoted from a source (or stated from its catalogue record): supported by
    construction."""
    return Claim(sentence, (source.number,), True, 1.0, origin=origin)


def verify_then_fill(embedder: Embedder, tuning: Tuning, generated: str, sources: list[Source], *, question: str = "",
                     required: Sequence[tuple[Source, str]] = (), spare: Sequence[tuple[Source, str]] = (),
                     min_claims: int = 0, max_claims: int = 99,
                     one_per_source: bool = False) -> tuple[list[Claim], list[Claim]]:
    """The one step every grounded output goes through: verify what the model wrote, then
    fill from the evidence what the kept sentences do not already say.

    `required` evidence is added unless a kept sentence states it; `spare` evidence only when
    no generated sentence was kept, while there are fewer than `min_claims` claims (so an
    answer whose generated sentences all failed still says more than one quote). With
    `one_per_source`, evidence from a source that a kept sentence already cites is skipped.
    Returns (claims to show, dropped claims).
    """
    checked = verify(embedder, generated, sources, tuning, question)
    dropped = [c for c in checked if not c.supported]
    # A source sentence shown in place of a generated one (`origin` "evidence") is what the
    # model paraphrased, not what the evidence ranking chose as answering: it comes after the
    # filled evidence, and does not count as the model having written the answer.
    claims = [c for c in checked if c.supported and c.origin == "model"]
    instead = [c for c in checked if c.supported and c.origin != "model"]
    said = [c.text for c in claims]
    candidates = [(pair, True) for pair in required] + [(pair, False) for pair in spare]
    if not candidates:
        return claims + instead, dropped
    texts = [sentence for (_, sentence), _ in candidates]
    closeness = cosine_matrix(embedder, texts, said).max(axis=1) if said else np.zeros(len(texts))
    written = bool(claims)
    said_numbers = set().union(*(quantities_in(text) for text in said))
    for ((source, sentence), needed), close in zip(candidates, closeness):
        if len(claims) >= max_claims or (not needed and (written or len(claims) >= min_claims)):
            continue
        if one_per_source and any(source.number in c.citations for c in claims):
            continue
        # Required evidence that a kept sentence is close to is still added when the kept
        # sentences leave out its numbers: "before applying PDVN is 5.63" is close to the
        # sentence that gives Retro*'s 5.76 → 4.83, and says the wrong planner's numbers.
        stated = close >= tuning.covered_similarity and (not needed or quantities_in(sentence) <= said_numbers)
        if not stated and all(c.text != sentence for c in claims):
            claims.append(evidence_claim(source, sentence))
            said_numbers |= quantities_in(sentence)
    shown = [c.text for c in claims]
    if instead and shown:
        closeness = cosine_matrix(embedder, [c.text for c in instead], shown).max(axis=1)
    else:
        closeness = np.zeros(len(instead))
    for claim, close in zip(instead, closeness):
        if len(claims) < max_claims and close < tuning.covered_similarity and claim.text not in shown:
            claims.append(claim)
            shown.append(claim.text)
    return claims, dropped
