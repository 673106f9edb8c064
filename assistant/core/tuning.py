"""The thresholds and limits of retrieval, evidence, verification and answering, in one typed
object carried on the pipeline context, so that `assistant eval --set name=value` can compare
them side by side. Each value was chosen on the `dev` question split only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.core.errors import AssistantError


@dataclass(frozen=True)
class Tuning:
    """Every knob of the grounded pipelines; the defaults are the tuned values."""

    # --- retrieval -------------------------------------------------------------------------
    # Reciprocal-rank fusion constant: the usual 60 damps the head of each list so neither
    # BM25 nor dense retrieval dominates.
    rrf_k: int = 60
    # Cosine similarity (all-MiniLM-L6-v2) below which no passage is about the question:
    # on-topic dev questions score 0.40-0.83, off-topic ones 0.15-0.30.
    coverage_threshold: float = 0.35
    # Near misses (same field, absent topic) score like covered questions; they are told
    # apart by their key terms: when the best paper uses less than this share of the
    # question's distinctive words, the similarity must reach `confident_similarity`.
    min_term_coverage: float = 0.35
    # The key terms must be in one of this many best papers.
    coverage_hits: int = 3
    # Below `coverage_threshold`, a question is still covered from this similarity when one of
    # the best papers uses every distinctive word it has (at least one, none absent): terse
    # follow-up rewrites score 0.32; off-topic questions sharing a rare word 0.29-0.34, but
    # each with words no paper uses.
    named_similarity: float = 0.30
    # Above this similarity a question is covered whatever its wording...
    confident_similarity: float = 0.54
    # ...unless this share of its distinctive words appears in no paper at all ("watermarks",
    # "StarCraft": the topic is absent) and the similarity stays below `absent_ceiling`.
    max_absent_share: float = 0.5
    absent_ceiling: float = 0.56
    # The four similarity thresholds above are the sample pages' values, kept for a collection
    # too small to calibrate (under 40 papers). Otherwise each is read off the collection's own
    # near misses (see retrieve/calibrate.py) at these quantiles, which give back the values
    # above on the sample pages (0.30, 0.35, 0.54, 0.56) and follow a denser field upwards.
    # The number or name a question asks for is looked for in every sentence of this many of
    # the best sources (the paper that has it is not always the closest: "Limits of Koopman
    # learning" scores above KOROL for a question on KOROL's gain over Diffusion Policy).
    stating_sources: int = 3
    named_quantile: float = 0.05
    coverage_quantile: float = 0.125
    confident_quantile: float = 0.70
    absent_quantile: float = 0.78
    # A word in at most this share of papers is "distinctive" (names, rare terms); words
    # every abstract uses say nothing about which paper a question or sentence is about.
    distinctive_share: float = 0.05
    # ...unless it is everyday English (Zipf frequency at least this: "people", "look"),
    # which abstracts happen not to use but which names no topic.
    everyday_zipf: float = 4.9
    # A word no paper uses at all names an absent topic even when it is common English
    # ("music" 5.3, "legal" 5.1); only the commonest words ("people", "look") are left out.
    absent_everyday_zipf: float = 5.5

    # --- evidence --------------------------------------------------------------------------
    # How much exact word overlap (each word weighed by how few sentences use it) adds to
    # embedding similarity when ranking sentences: on dev, 0.5 puts the sentence with the
    # answer in the top 2 for 51 of 53 fact questions, 0.3 for 49.
    lexical_weight: float = 0.5
    # Sentences with fewer content words are discounted: "This is X." matches a question
    # about X well but explains nothing.
    short_sentence_words: int = 8
    # Bonus for a sentence with a number when the question asks for a quantity.
    quantity_bonus: float = 0.15
    # Sources must be within this similarity of the best one (single-fact answers).
    relative_cutoff: float = 0.12
    # How much a paper's retrieval similarity adds to its sentences' rank, so a sentence of
    # the more relevant paper wins over an equally good one of a less relevant paper.
    source_weight: float = 0.5
    # Papers and sentences shown to the model for a single-fact answer: a 135M model is
    # distracted by more.
    max_sources: int = 3
    per_source: int = 3

    # --- list answers ("which papers ...") ------------------------------------------------
    # Papers retrieved before the relevance cut, and the most listed: a list of 8 is read,
    # a list of 20 is skimmed.
    list_k: int = 16
    list_max_papers: int = 8
    # A paper is listed when its similarity is within this of the best paper's: on dev, 0.25
    # lists 7.3 papers on average and 90% of the expected ones; 0.2 lists 6.8 and 84%.
    list_relative_cutoff: float = 0.25

    # --- generation ------------------------------------------------------------------------
    answer_sentences: int = 3  # more sentences from a small model means more to drop
    answer_tokens: int = 160
    synthesis_tokens: int = 70  # one sentence over a list of papers
    rewrite_tokens: int = 60  # a rewritten follow-up is one short question
    # A rewrite may add words at least this common in English ("accuracy"); a rarer word (a
    # name, a topic) must come from the follow-up or the last exchange, which keeps an
    # unrelated earlier question out.
    rewrite_common_zipf: float = 4.0
    # A capitalised word rarer in English than this is a name ("Pythia" 2.4); a commoner one
    # is a capitalised everyday word ("Large" 5.6, "Policy" 5.1).
    name_max_zipf: float = 4.0
    # "A versus B" is one paper's comparison when the best paper uses this share of each
    # side's distinctive words; otherwise each side is searched for on its own.
    side_coverage: float = 0.5

    # --- verification ----------------------------------------------------------------------
    # Support = mean of (similarity to the closest sentence of the cited source) and (share
    # of the sentence's content words the source uses); both floors must hold as well. A
    # faithful paraphrase of a long sentence scores ~0.5 similarity but high overlap; an
    # invented sentence on the same topic scores high similarity but low overlap.
    support_threshold: float = 0.7
    min_similarity: float = 0.5
    min_overlap: float = 0.6
    # Fewer content words than this is a fragment ("Our experimental results.").
    min_content_words: int = 4
    # A sentence must add at least this many content words beyond the question and the
    # title, or it only restates the topic.
    min_new_words: int = 2
    # Words at least this common in English ("over" 6.2, "more" 6.5) add nothing of their own.
    common_word_zipf: float = 6.0
    # Another source must support a sentence this much better to take its citation.
    citation_margin: float = 0.05
    # A word counts as English when its Zipf frequency reaches this (1 = once per 100M words).
    min_zipf: float = 1.0
    # A word of the sentence that its cited paper lacks but another given paper has, and
    # that is rarer in English than this ("gripper" 2.2), came from that other paper: the
    # sentence blends two papers. Commoner words ("performance" 4.9) are shared vocabulary.
    blend_max_zipf: float = 4.0
    # A word of a generated sentence that no given source uses and that is rarer in English
    # than this names something the sources do not say ("exoskeleton" 2.4).
    rare_word_zipf: float = 3.5
    # A generated sentence keeps its own words only when one place of its source (one
    # sentence, with the title) has every word it adds that is rarer in English
    # than this; commoner words ("time" 6.3, "region" 5.0) are a paraphrase's rewording.
    local_word_zipf: float = 5.0
    # A generated sentence this close (word-sequence ratio) to a source sentence but not equal
    # is a near-copy, shown as the source's own sentence.
    copy_ratio: float = 0.8
    # ... or that takes this many words in a row from one source sentence, and changes others:
    # a paraphrase keeps a technical phrase ("recovers the soft Bellman equation of maximum
    # entropy", 8 words in a row, in the tests' faithful paraphrases) but rewords the rest; a
    # small model copies and edits ("Our work provides deeper insight into the machinery of
    # dLLM generation by using …": 11 words in a row, then a changed relation).
    copy_run: int = 10

    # --- filling and showing ---------------------------------------------------------------
    # An answer sentence this close to an evidence sentence already states it.
    covered_similarity: float = 0.8
    max_shown: int = 4  # claims in a single-fact answer, generated and quoted together
    max_findings: int = 4  # quoted key findings in a paper summary
    topic_papers: int = 8  # papers retrieved for a topic summary (then cut as a list answer is)
    # A regenerated answer samples this freely: enough to word it differently, little enough
    # to stay on the evidence.
    regenerate_temperature: float = 0.7

    def with_values(self, assignments: Iterable[str]) -> Tuning:
        """A copy with `name=value` assignments applied (from `eval --set`)."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, object] = {}
        for assignment in assignments:
            name, sep, value = assignment.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in fields:
                known = ", ".join(sorted(fields))
                raise AssistantError(f"--set expects NAME=VALUE with NAME one of: {known}")
            kind = int if fields[name].type in (int, "int") else float
            try:
                changes[name] = kind(value)
            except ValueError as exc:
                raise AssistantError(f"--set {name}: expected a number, got {value!r}") from exc
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def changed(self) -> dict[str, object]:
        """The values that differ from the defaults (shown by eval)."""
        default = Tuning()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}
