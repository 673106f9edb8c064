"""Sentence-level citation checking: every answer sentence must cite a source it was given
and be supported by that source, or it is not shown as fact.

A sentence is kept only when it is well formed (no fragment, no broken word), says something
beyond the question and the title, is supported by the source it cites (close in meaning to
something the source says, made mostly of the source's words, every number present in it),
and takes none of its distinctive words from another given source. The checks are strict on
purpose: a dropped true sentence costs less than a shown invented one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from assistant.answer.evidence import Source
from assistant.answer.wellformed import base_zipf, garbled, has_finite_verb, vocabulary
from assistant.core.records import STEM, content_words, numbers_in, split_sentences, stems
from assistant.core.tuning import Tuning
from assistant.model.embedder import Embedder

_CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Words any abstract uses to frame a claim; a sentence made only of these, the question's
# words and the title's words restates the topic without saying anything about it.
_FRAMING = stems(
    "paper study work research propose proposed present introduce introduces method methods approach approaches "
    "framework model models technique techniques design designed aim aims improve improves improved improvement "
    "enhance enhances performance effective effectively efficient efficiency novel new based leverage leverages "
    "address addresses focus focuses help helps use uses used enable enables allow allows provide provides "
    "offer offers achieve achieves show shows demonstrate demonstrates significant significantly various different "
    "key important problem problems task tasks result results topic involve involves related"
)
# Sentences about the answer rather than answers: "The answer is 7.5x lower ...", "The paper is
# about the speedups of ...". A reader learns nothing a cited sentence would not say better.
_ABOUT_THE_ANSWER = re.compile(
    r"^\W*(?:the|my|our) answer (?:to (?:this|the|your) question )?(?:is|was|would be)\b|"
    r"^\W*(?:the|this) (?:paper|study|work|article|abstract|collection|source|question)s? (?:is|are|was|were) (?:about|on)\b|"
    r"^\W*(?:this|the) (?:paper|study|work|article|abstract|collection|source)s? (?:discuss|talk|ask)",
    re.IGNORECASE)
# "(ML)", "RL": an abbreviation is a name and must be the source's own.
_ABBREVIATION = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?=s?\b)")
# Numbers written as words count as numbers: "five model families and twelve benchmarks".
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty hundred hundreds thousand thousands million millions billion "
    "billions twice thrice double triple half quarter".split())
_LINK = re.compile(r"https?://\S+|\b[\w.-]+\.(?:com|org|io|net)/\S*")
_TOKENS = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_][\w-]*")

def local_support(text: str, question: str, fixed: Sequence[str], body: Sequence[str],
                  max_zipf: float) -> tuple[list[str], int | None]:
    """Where in its source a generated sentence's content comes from: the words it adds
    (beyond the question and the framing words, less common in English than `max_zipf`)
    that no single place of the source states, and the place that states the most of them.

    A place is the source's `fixed` sentences (title and catalogue facts, always in view)
    with one sentence of its abstract (`body`). Returns (the words the best place lacks, the
    index of its `body` sentence). A small model's unfaithful sentences are mostly assembled
    from words of different sentences of the right abstract ("compared with an adaptive
    neural network" of a paper whose comparison is with Bayesian optimisation, the network
    being described elsewhere; "improves the success rate compared to tactile sensors" from
    a sentence on the success rate and the next, on tactile sensors), or add a relation no
    sentence states ("which suggests multiple mechanisms"); all pass a check against the
    whole abstract. Very common words ("time", "region") are how a paraphrase rewords, and are not
    counted; numbers in words ("four limbs") always are.
    """
    asked = stems(question) | _FRAMING
    new: dict[str, str] = {}
    for word in content_words(text):
        if word[:STEM] not in asked and not word.isdigit() and (base_zipf(word) < max_zipf or word in _NUMBER_WORDS):
            new.setdefault(word[:STEM], word)
    base = set().union(*(stems(sentence) for sentence in fixed))
    marks = [stems(sentence) for sentence in body]

    def lacking(index: int | None) -> list[str]:
        have = base | (marks[index] if index is not None else set())
        return [word for stem, word in new.items() if stem not in have]

    best = min(range(len(body)), key=lambda index: len(lacking(index)), default=None)
    return lacking(best), best


def _counts(text: str) -> set[str]:
    """The numbers of a text, in digits or in words."""
    return numbers_in(text) | {w for w in re.findall(r"[a-z]+", text.casefold()) if w in _NUMBER_WORDS}


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, what it cites, and whether it passed verification."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    similarity: float = 0.0
    reason: str | None = None
    origin: str = "model"  # "model" (generated) or "evidence" (quoted from a source)
    corrected_from: tuple[int, ...] = ()  # the citation the model gave, when it was wrong

    def render(self) -> str:
        marks = "".join(f"[{n}]" for n in self.citations)
        return f"{self.text} {marks}".strip()

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "citations": list(self.citations), "supported": self.supported,
                "similarity": round(self.similarity, 4), "reason": self.reason, "origin": self.origin,
                "corrected_from": list(self.corrected_from)}


def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """Answer text → sentences with the source numbers each one cites.

    A citation applies to the sentences between the previous citation and itself, so
    "A. B [1]." gives both A and B the citation [1].
    """
    claims: list[tuple[str, tuple[int, ...]]] = []
    position = 0
    pending: list[str] = []
    for match in _CITATION.finditer(answer):
        text = answer[position : match.start()]
        numbers = tuple(dict.fromkeys(int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))))
        pending.extend(split_sentences(text))
        if pending:
            claims.extend((sentence, numbers) for sentence in pending)
            pending = []
        elif claims:  # "[1][2]": a second marker for the same sentence
            last_text, last_numbers = claims[-1]
            claims[-1] = (last_text, tuple(dict.fromkeys(last_numbers + numbers)))
        position = match.end()
    pending.extend(split_sentences(answer[position:]))
    claims.extend((sentence, ()) for sentence in pending)
    cleaned = [(text.strip(" .;,:").strip(), numbers) for text, numbers in claims]
    return [(text if text.endswith((".", "!", "?")) else text + ".", numbers) for text, numbers in cleaned
            if any(ch.isalnum() for ch in text)]


@dataclass(frozen=True)
class _Support:
    score: float
    similarity: float
    overlap: float
    missing_number: str | None
    passes: bool


class Checker:
    """Verifies sentences against a fixed set of sources, embedding each source only once."""

    def __init__(self, embedder: Embedder, sources: Sequence[Source], tuning: Tuning, question: str = "") -> None:
        self.embedder = embedder
        self.tuning = tuning
        self.sources = {source.number: source for source in sources}
        # A source's title is left out of what a sentence is compared with: restating a title
        # ("X: a framework for Y is ...") must not count as support for what follows it.
        self._sentences = {n: s.all_sentences()[1:] for n, s in self.sources.items()}
        self._titles = {n: stems(s.paper.title) for n, s in self.sources.items()}
        self._fixed = {n: [s.paper.title, *s.metadata_facts().values()] for n, s in self.sources.items()}
        self._body = {n: split_sentences(s.paper.abstract) for n, s in self.sources.items()}
        flat = [sentence for n in self.sources for sentence in self._sentences[n]]
        vectors = np.array(embedder.embed_queries(flat)) if flat else np.zeros((0, 1))
        self._vectors: dict[int, np.ndarray] = {}
        start = 0
        for number in self.sources:
            count = len(self._sentences[number])
            self._vectors[number] = vectors[start : start + count]
            start += count
        self._stems = {n: stems(" ".join(self._sentences[n])) for n in self.sources}
        self._all_stems = {n: self._stems[n] | self._titles[n] for n in self.sources}
        self._numbers = {n: numbers_in(" ".join(s.all_sentences())) for n, s in self.sources.items()}
        self._question = stems(question)
        self._question_text = question
        self._raw = {n: " ".join(s.all_sentences()) for n, s in self.sources.items()}
        self._question_numbers = numbers_in(question)
        self._known = vocabulary([question, *(t for s in self.sources.values() for t in s.all_sentences())])

    def _support(self, number: int, vector: np.ndarray, words: set[str], numbers: set[str]) -> _Support:
        t = self.tuning
        similarity = float((self._vectors[number] @ vector).max()) if len(self._vectors[number]) else 0.0
        extra = words - self._titles[number]
        if len(extra) < t.min_content_words // 2:
            return _Support(0.0, similarity, 0.0, None, False)  # says nothing beyond the title
        overlap = len(extra & self._stems[number]) / len(extra)
        missing = sorted(numbers - self._numbers[number])
        score = (similarity + overlap) / 2
        passes = (not missing and similarity >= t.min_similarity and overlap >= t.min_overlap
                  and score >= t.support_threshold)
        return _Support(score, similarity, overlap, missing[0] if missing else None, passes)

    def _restates(self, text: str, cited: Sequence[int]) -> bool:
        """Nothing in the sentence goes beyond the question, the cited titles, framing words and
        the commonest words of English ("over", "more"); a link is not a statement either
        ("DiffuCoder …, https://github.com/…")."""
        text = _LINK.sub(" ", text)
        title = set().union(*(self._titles[n] for n in cited))
        common = {w[:STEM] for w in content_words(text) if base_zipf(w) >= self.tuning.common_word_zipf}
        new_words = stems(text) - self._question - title - _FRAMING - common
        new_numbers = numbers_in(text) - self._question_numbers
        return len(new_words) + 2 * len(new_numbers) < self.tuning.min_new_words

    def _title_led(self, text: str, number: int) -> bool:
        """The sentence opens with the cited paper's name and a colon, as its title does ("CLM:
        Removing the GPU Memory Barrier for 3DGS rendering using …"): a title run into a
        phrase, not a statement about the paper."""
        head, colon, _ = self.sources[number].paper.title.partition(":")
        return bool(colon) and text.casefold().startswith(head.casefold().strip() + ":")

    def _borrowed(self, text: str, number: int) -> tuple[str, int] | None:
        """A distinctive word the cited source lacks and another given source has."""
        for word in content_words(text):
            stem = word[:STEM]
            if stem in self._all_stems[number] or stem in self._question or word.isdigit():
                continue
            owners = [n for n in self.sources if n != number and stem in self._all_stems[n]]
            if owners and base_zipf(word) < self.tuning.blend_max_zipf:
                return word, owners[0]
        return None

    def _unsourced(self, text: str, number: int) -> str | None:
        """A rare word (a name, a technical noun) that no given source uses: the model added it
        ("the robotic exoskeleton RoboMirror" of a humanoid paper), so the sentence says more
        than its source does. An abbreviation must be spelled as the source or question has it
        ("maximum entropy reinforcement learning (ML)")."""
        for match in _ABBREVIATION.finditer(text):
            if not re.search(rf"\b{re.escape(match.group(0))}", self._raw[number] + " " + self._question_text):
                return match.group(0)
        for word in content_words(text):
            stem = word[:STEM]
            if (word.isdigit() or stem in self._question or stem in _FRAMING
                    or any(stem in self._all_stems[n] for n in self.sources)):
                continue
            if base_zipf(word) < self.tuning.rare_word_zipf:
                return word
        return None

    def _own_words(self, text: str, number: int) -> str | None:
        """The source's own sentences to show instead of a generated sentence that is not a
        restatement of one place of the source, or None when it is one.

        A number the question did not give (in digits or words) is shown in the sentence that
        states it: a small
        model moves numbers between what they count ("the accuracy before intervening was
        93.7%" of a source that boosts accuracy from 49.6% to 93.7%; "by 15% compared to
        human evaluation" of a 15% judged by GPT-4o), in ways that words alone do not show,
        while the source's sentence states the number with what it counts. A sentence
        without such numbers keeps its own words only when one place of the source states
        all it adds (`local_support`); otherwise that place is shown instead.
        """
        fixed, body = self._fixed[number], self._body[number]
        wanted = _counts(text) - _counts(self._question_text) - _counts(fixed[0])  # a title's numbers are names
        if wanted:
            homes: list[str] = []
            for sentence in [*fixed[1:], *body]:
                if wanted & _counts(sentence):
                    homes.append(sentence)
                    wanted -= _counts(sentence)
            if homes:
                return " ".join(homes)
        lacking, place = local_support(text, self._question_text, fixed, body, self.tuning.local_word_zipf)
        return body[place] if lacking and place is not None else None

    def _copy_of(self, text: str, number: int) -> str | None:
        """The source sentence this one copies with some words changed, if any: a small model's
        near-copy is often broken English ('To LLMs trained on "A is B" fails to ...') or
        changes how its parts relate ("provides insight … by using a diffusion-native RL
        framework" of "provides insight … and offers a … framework"; "relative to traditional
        visual terms" of "visual and inertial terms"), and the source's own wording says the
        same thing correctly. A near-copy is close to the whole sentence, or takes a long run
        of its words verbatim; a paraphrase does neither."""
        words = [w.casefold() for w in _TOKENS.findall(text)]
        for sentence in self._sentences[number]:
            theirs = [w.casefold() for w in _TOKENS.findall(sentence)]
            if theirs == words:
                return None
            matcher = SequenceMatcher(None, words, theirs, autojunk=False)
            if matcher.ratio() >= self.tuning.copy_ratio:
                return sentence
            if matcher.find_longest_match(0, len(words), 0, len(theirs)).size >= self.tuning.copy_run:
                return sentence
        return None

    def check(self, text: str, citations: Sequence[int], origin: str = "model") -> Claim:
        """Verify one sentence; a supported sentence that cites the wrong given source gets the
        source that supports it best (small models often mix up source numbers)."""
        cited = tuple(citations)
        if not cited:
            return Claim(text, cited, False, reason="cites no source", origin=origin)
        unknown = [n for n in cited if n not in self.sources]
        if unknown:
            return Claim(text, cited, False, reason=f"cites [{unknown[0]}], which was not given", origin=origin)
        if len(content_words(text)) < self.tuning.min_content_words:
            return Claim(text, cited, False, reason="too short to state anything", origin=origin)
        if text.rstrip().endswith("?"):
            return Claim(text, cited, False, reason="asks a question instead of answering", origin=origin)
        if _ABOUT_THE_ANSWER.search(text):
            return Claim(text, cited, False, reason="talks about the answer instead of giving it", origin=origin)
        malformed = garbled(text, self._known, self.tuning.min_zipf)
        if not malformed and origin == "model" and not has_finite_verb(text):
            malformed = "not a complete sentence: it has no verb"
        if malformed:
            return Claim(text, cited, False, reason=malformed, origin=origin)
        vector = np.array(self.embedder.embed_queries([text])[0])
        words, numbers = stems(text), numbers_in(text)
        support = {n: self._support(n, vector, words, numbers) for n in self.sources}
        best = max(support, key=lambda n: (support[n].passes, support[n].score))
        own = max(cited, key=lambda n: (support[n].passes, support[n].score))
        if support[own].passes and support[own].score >= support[best].score - self.tuning.citation_margin:
            chosen, corrected = own, ()
        elif support[best].passes:
            chosen, corrected = best, cited
        else:
            failed = support[own]
            if failed.missing_number is not None:
                reason = f"the number {failed.missing_number} is not in the cited source"
            else:
                reason = (f"not supported by the cited source (similarity {failed.similarity:.2f}, "
                          f"word overlap {failed.overlap:.0%})")
            return Claim(text, cited, False, failed.similarity, reason=reason, origin=origin)
        if origin == "model" and self._title_led(text, chosen):
            return Claim(text, cited, False, support[chosen].similarity, origin=origin,
                         reason="runs the paper's title into a phrase instead of stating something")
        if self._restates(text, (chosen,)):
            return Claim(text, cited, False, support[chosen].similarity, origin=origin,
                         reason="restates the question or the title without answering it")
        borrowed = self._borrowed(text, chosen)
        if borrowed:
            word, owner = borrowed
            return Claim(text, cited, False, support[chosen].similarity, origin=origin,
                         reason=f"blends two papers: “{word}” comes from source [{owner}], not [{chosen}]")
        if origin == "model":
            added = self._unsourced(text, chosen)
            if added:
                return Claim(text, cited, False, support[chosen].similarity, origin=origin,
                             reason=f"adds “{added}”, which no source says")
            instead = self._own_words(text, chosen) or self._copy_of(text, chosen)
            if instead and _TOKENS.findall(instead.casefold()) != _TOKENS.findall(text.casefold()):
                return Claim(instead, (chosen,), True, 1.0, origin="evidence", corrected_from=corrected)
        return Claim(text, (chosen,), True, support[chosen].similarity, origin=origin, corrected_from=corrected)


def verify(embedder: Embedder, answer: str, sources: list[Source], tuning: Tuning, question: str = "") -> list[Claim]:
    """Check every sentence of a generated answer; two sentences shown as the same source
    sentence are shown once."""
    claims = split_claims(answer)
    if not claims:
        return []
    checker = Checker(embedder, sources, tuning, question)
    embedder.embed_queries([text for text, _ in claims])  # one batch; each check then finds its vector memoised
    checked: list[Claim] = []
    for text, citations in claims:
        claim = checker.check(text, citations)
        if not (claim.supported and any(c.supported and c.text == claim.text for c in checked)):
            checked.append(claim)
    return checked
