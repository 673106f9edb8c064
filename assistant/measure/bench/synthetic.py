"""Synthetic collections for scale figures: JSONL abstracts drawn from a large English
vocabulary with a Zipf-like spread, so that BM25 sees rare and common terms as in real text
(a handful of repeated words would make keyword search trivially cheap)."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

VOCABULARY = 30_000  # distinct words to draw from


def vocabulary() -> list[str]:
    """Common English words (no digits or short function words), most frequent first."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", VOCABULARY) if w.isalpha() and len(w) > 2]


def write_collection(path: Path, count: int, seed: int = 7) -> Path:
    """Write `count` papers (title, abstract of 4-9 sentences, date, authors) to `path`."""
    rng = random.Random(seed)
    words = vocabulary()
    # frequent words often, rare ones seldom (cumulative, so each draw does not sum them again)
    weights = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(words))))
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            topic = rng.choices(words, cum_weights=weights, k=3)
            title = f"{' '.join(topic).capitalize()}: a study of {rng.choice(words)} and {rng.choice(words)} ({i})"
            sentences = []
            for _ in range(rng.randint(4, 9)):
                body = rng.choices(words, cum_weights=weights, k=rng.randint(10, 22))
                body.insert(rng.randrange(len(body)), rng.choice(topic))
                sentences.append(" ".join(body).capitalize() + f", reaching {rng.randint(1, 99)}.{rng.randint(0, 9)}%.")
            row = {"title": title, "abstract": " ".join(sentences),
                   "date": f"20{rng.randint(15, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                   "authors": rng.randint(1, 12)}
            out.write(json.dumps(row) + "\n")
    return path
