"""Asking: understand the question, retrieve, then answer in the shape the question calls for.

- a fact or quantity: the model's verified sentences, and the evidence that states what was
  asked for (every number asked for; both numbers of an "X versus Y");
- a list ("which papers ..."): one cited line for every paper above a relevance cut, and a
  one-sentence synthesis when the model writes one that passes verification;
- a comparison of two papers: one cited line for each side;
- metadata (authors, dates, upvotes): from the catalogue, with no model at all;
- not covered: an honest refusal with the closest papers.

Each pipeline is a generator: it yields the model's text pieces as they stream and returns
the verified `Result`, so the CLI and the TUI can show progress and then the checked answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer.evidence import Source, choose, rank_sentences, select_sources
from assistant.answer.fill import evidence_claim, verify_then_fill
from assistant.answer.generate import citation_grammar, fit_sources, generate
from assistant.answer.plan import Plan, is_follow_up, opens_on_the_last, plan, plan_follow_up, refers_back
from assistant.answer.prompts import Prompt, load_prompt
from assistant.answer.result import Result, Section, Stage, renumber
from assistant.answer.verify import Claim
from assistant.core.records import STEM, Hit, names_in, quantities_in, split_sentences, stems
from assistant.core.tuning import Tuning
from assistant.core.word_frequency import english_zipf
from assistant.model.chat import ChatModel, Sampling
from assistant.retrieve.hybrid import SearchResult, distinctive_words, search, term_coverage, uses_every_word
from assistant.store.data_dir import Store

_SIDES = [
    re.compile(r"\b(?:compare|comparison of|differences? between)\s+(.+?)\s+(?:and|with|to|versus|vs\.?)\s+(.+?)[?.!]*$",
               re.IGNORECASE),
    re.compile(r"^(.+?)\s+(?:versus|vs\.?|compared? (?:to|with)|compares? (?:to|with))\s+(.+?)[?.!]*$", re.IGNORECASE),
]

# A number's own words stand this close to it; the answer is among this many best-ranked
# sentences that state a number.
_NEAR = 4
_STATING_CANDIDATES = 4

Body = Generator[str | Stage, None, tuple[list[Section], list[Source], list, str, int]]


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str
    papers: tuple[str, ...] = ()  # ids of the papers the answer cited, first cited first


@dataclass(frozen=True)
class Context:
    """What a pipeline needs: the store, the model, where the prompts are, and the tuning."""

    store: Store
    model: ChatModel
    prompts_dir: Path | None = None
    tuning: Tuning = field(default_factory=Tuning)
    retry: int = 0  # how many times this answer was asked to be written again

    def prompt(self, name: str) -> Prompt:
        return load_prompt(name, self.prompts_dir)

    def sampling(self, max_tokens: int, grammar: str | None = None) -> Sampling:
        """Decoding settings for an answer. The defaults give the same answer every time; a
        regeneration samples more freely with another seed, or it would come out the same."""
        if self.retry:
            return Sampling(max_tokens=max_tokens, grammar=grammar, temperature=self.tuning.regenerate_temperature,
                            seed=Sampling.seed + self.retry)
        return Sampling(max_tokens=max_tokens, grammar=grammar)


def ranked_evidence(ctx: Context, query: str, sources: list[Source], quantity: bool = False) -> list[tuple[Source, str]]:
    """Every evidence sentence of every source, best answer to the query first; a sentence of
    a more relevant paper wins over an equally good sentence of a less relevant one."""
    pairs = [(source, sentence) for source in sources for sentence in source.sentences]
    scores = rank_sentences(ctx.store.embedder, query, [sentence for _, sentence in pairs], ctx.tuning, quantity)
    weight = ctx.tuning.source_weight
    weighted = [score + weight * (pair[0].similarity or 0.0) for score, pair in zip(scores, pairs)]
    return [pair for _, pair in sorted(zip(weighted, pairs), key=lambda item: -item[0])]


def _acceptable_rewrite(rewritten: str, question: str, last: Turn, common_zipf: float) -> bool:
    """The rewrite is a question, keeps the follow-up's words, takes something from the last
    exchange and adds no rare word from outside it (a small model may answer instead, repeat
    the follow-up as it was, or invent a context)."""
    written, asked, said = stems(rewritten), stems(question), stems(f"{last.question} {last.answer}")
    if not rewritten.endswith("?") or len(rewritten) > 300 or not written & asked or not (written - asked) & said:
        return False
    allowed = asked | said
    added = [w for w in re.findall(r"[^\W\d_]+", rewritten) if w.casefold()[:STEM] not in allowed and len(w) > 2]
    return all(english_zipf(w) >= common_zipf for w in added)


def _names_new_topic(ctx: Context, question: str, last: Turn) -> bool:
    """Whether a short question names something the collection has and the last exchange did
    not ("What is the reversal curse?" after a question on Vary-toy): a new question, which a
    rewrite or the last question would only pull off its topic."""
    said = stems(f"{last.question} {last.answer}")
    named = distinctive_words(ctx.store.catalog, question, ctx.tuning)
    return any(count and word[:STEM] not in said for word, count in named.items())


def standalone_question(ctx: Context, question: str, history: Sequence[Turn]) -> Generator[str | Stage, None, str]:
    """The question retrieval should search for: as written when it stands on its own, else
    rewritten from the last exchange (never from older ones, which may be about anything)."""
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    # A question that names a subject of its own that the last exchange did not mention is
    # about that subject, even when "it" or "the paper" in it points somewhere ("What does
    # RoboMirror do and how much does it cut latency?"); only a continuation ("And on …") leans
    # on the last exchange whatever it names.
    if not opens_on_the_last(question) and _names_new_topic(ctx, question, last):
        return question
    messages = ctx.prompt("rewrite").messages(history=f"User: {last.question}\nAssistant: {last.answer}",
                                              question=question)
    timings: dict[str, float] = {}
    sampling = Sampling(max_tokens=ctx.tuning.rewrite_tokens, temperature=0.0)
    text, _ = yield from generate(ctx.model, messages, sampling, timings, activity="reading the follow-up",
                                  checked=False)
    rewritten = text.strip().splitlines()[0].strip() if text.strip() else ""
    return rewritten if _acceptable_rewrite(rewritten, question, last, ctx.tuning.rewrite_common_zipf) else f"{last.question} {question}"


def _whole(sources: list[Source]) -> list[Source]:
    """The sources with every sentence of their abstracts: a number asked for may sit in a
    sentence the model was not shown, and quoting it needs no model."""
    return [Source(s.number, s.paper, split_sentences(s.paper.abstract), s.similarity) for s in sources]


def _numbers_needed(plan_: Plan) -> int:
    if plan_.shape == "comparison" and plan_.quantity:
        return 2
    return 1 if plan_.quantity else 0


def _near_the_asked(sentence: str, quantities: set[str], asked: set[str]) -> int:
    """How many of the question's words stand within a few words of one of the sentence's new
    quantities ("with median values above 750 ms" for "what median latency …?")."""
    tokens = re.findall(r"\d+(?:[.,]\d+)*|[^\W\d_]+", sentence)
    near = 0
    for index, token in enumerate(tokens):
        if token.replace(",", "") in quantities:
            window = tokens[max(0, index - _NEAR) : index + _NEAR + 1]
            near = max(near, sum(word.casefold()[:STEM] in asked for word in window if not word[0].isdigit()))
    return near


def _stating(ranked: list[tuple[Source, str]], needed: int, question: str) -> list[tuple[Source, str]]:
    """The evidence that together states `needed` quantities the question lacks (the 2 of
    "EAGLE-2" is a name, not an answer): of the best-ranked few that state one, the sentence
    whose number stands by the question's own words ("median … 750 ms", not the "Raspberry
    Pi 5" of the sentence that describes the set-up)."""
    chosen: list[tuple[Source, str]] = []
    found: set[str] = set()
    given = quantities_in(question)
    asked = stems(question)
    while len(found) < needed:
        candidates = [(source, sentence, quantities_in(sentence) - given - found) for source, sentence in ranked
                      if (source, sentence) not in chosen]
        candidates = [c for c in candidates if c[2]][:_STATING_CANDIDATES]
        if not candidates:
            break
        source, sentence, new = max(candidates, key=lambda c: _near_the_asked(c[1], c[2], asked))  # first of the best
        chosen.append((source, sentence))
        found |= new
    return chosen


def _naming(ranked: list[tuple[Source, str]], question: str, max_zipf: float) -> list[tuple[Source, str]]:
    """The best-ranked evidence that names something the question and the paper's title do not
    (for "which model family...": "...using the Pythia model family as our testbed"). A
    capitalised everyday word ("Large Language Models") is not a name."""
    known: dict[int, set[str]] = {}  # per source: the question's and its title's words
    for source, sentence in ranked:
        if source.number not in known:
            known[source.number] = stems(f"{question} {source.paper.title}")
        if any(name[:STEM] not in known[source.number] and (not name.isalpha() or english_zipf(name) < max_zipf)
               for name in names_in(sentence)):
            return [(source, sentence)]
    return []


def _generate_from(ctx: Context, plan_: Plan, sources: list[Source], timings: dict[str, float], *,
                        sentences: int, max_tokens: int, prompt: str = "answer") -> Generator[str | Stage, None, tuple]:
    """Stream the model's text from the prompt filled within the context budget; returns the
    sources that fitted, the text and its token count."""
    sampling = ctx.sampling(max_tokens, citation_grammar(sentences, [s.number for s in sources]))
    messages, sources = fit_sources(ctx.model, ctx.prompt(prompt), sources, {"question": plan_.query}, max_tokens)
    generated, tokens = yield from generate(ctx.model, messages, sampling, timings)
    return sources, generated, tokens


def _fact(ctx: Context, plan_: Plan, found: SearchResult, timings: dict[str, float]) -> Body:
    """A fact, a quantity, or a comparison inside one paper."""
    t = ctx.tuning
    sources = select_sources(ctx.store.embedder, plan_.query, found, t, max_sources=t.max_sources,
                             per_source=t.per_source, cutoff=t.relative_cutoff, quantity=plan_.quantity)
    sources, generated, tokens = yield from _generate_from(ctx, plan_, sources, timings,
                                                                sentences=t.answer_sentences, max_tokens=t.answer_tokens)
    checking = time.perf_counter()
    ranked = ranked_evidence(ctx, plan_.query, sources, plan_.quantity)
    needed = _numbers_needed(plan_)
    stated: list[tuple[Source, str]] = []
    if needed or plan_.naming:  # what was asked for may sit in a sentence the model was not shown
        whole = ranked_evidence(ctx, plan_.query, _whole(sources[:t.stating_sources]), plan_.quantity)
        stated = _stating(whole, needed, plan_.query) if needed else _naming(whole, plan_.query, t.name_max_zipf)
    required = ranked[:1] + [pair for pair in stated if pair[1] not in [text for _, text in ranked[:1]]]
    claims, dropped = verify_then_fill(ctx.store.embedder, t, generated, sources, question=plan_.query,
                                       required=required, spare=ranked[1:3], min_claims=2, max_claims=t.max_shown)
    timings["verify"] = time.perf_counter() - checking
    return [Section(None, claims)], sources, dropped, generated, tokens


def _sides(ctx: Context, plan_: Plan, found: SearchResult) -> list[SearchResult] | None:
    """For "A versus B" about two different papers, a search per side; None when one paper
    (the best) speaks to both sides, which is then answered as a fact."""
    for pattern in _SIDES:
        match = pattern.search(plan_.query)
        if match:
            break
    else:
        return None
    sides = [match.group(1), match.group(2)]
    words = [distinctive_words(ctx.store.catalog, side, ctx.tuning) for side in sides]
    if not all(words) or not found.hits or all(term_coverage(w, found.hits[0].paper) >= ctx.tuning.side_coverage for w in words):
        return None
    results = [search(ctx.store, side, ctx.tuning, k=3, since=plan_.since, until=plan_.until) for side in sides]
    if not all(r.covered and r.hits for r in results) or results[0].hits[0].paper.id == results[1].hits[0].paper.id:
        return None
    return results


def _comparison(ctx: Context, plan_: Plan, found: SearchResult, timings: dict[str, float]) -> Body:
    """One cited line for each side of a comparison between papers (or a fact, inside one)."""
    sides = _sides(ctx, plan_, found)
    if sides is None:
        return (yield from _fact(ctx, plan_, found, timings))
    t = ctx.tuning
    sources = [choose(ctx.store.embedder, plan_.query, side.hits[0].paper, number, t.per_source, t,
                      similarity=side.hits[0].similarity, quantity=plan_.quantity)
               for number, side in enumerate(sides, start=1)]
    sources, generated, tokens = yield from _generate_from(ctx, plan_, sources, timings,
                                                                sentences=t.answer_sentences, max_tokens=t.answer_tokens)
    checking = time.perf_counter()
    per_side = [ranked_evidence(ctx, side.query, [source], plan_.quantity) for side, source in zip(sides, sources)]
    required = [(_stating(ranked, 1, plan_.query) or ranked)[0] for ranked in per_side if ranked]
    claims, dropped = verify_then_fill(ctx.store.embedder, t, generated, sources, question=plan_.query,
                                       required=required, max_claims=t.max_shown)
    timings["verify"] = time.perf_counter() - checking
    return [Section(None, claims)], sources, dropped, generated, tokens


def list_body(ctx: Context, plan_: Plan, found: SearchResult, timings: dict[str, float]) -> Body:
    """Every relevant paper with a cited line, after a verified one-sentence synthesis."""
    t = ctx.tuning
    # In fused (keyword + meaning) order, every paper within the cut of the best one: a topic
    # named by a rare word ("grokking") has relevant papers of modest similarity.
    # A paper that uses every distinctive word of the question is on it too, however close a
    # title match set the best similarity ("speculative decoding": the survey scored 0.90, two
    # parallel-decoding papers that speak of speculative decoding 0.55).
    best = max(hit.similarity or 0.0 for hit in found.hits)
    wanted = distinctive_words(ctx.store.catalog, plan_.query, t)

    def on_topic(hit: Hit) -> bool:
        if hit.similarity is None:
            return False
        return hit.similarity >= best - t.list_relative_cutoff or (
            hit.similarity >= t.coverage_threshold and uses_every_word(wanted, hit.paper))

    chosen = [hit for hit in found.hits if on_topic(hit)][:t.list_max_papers]
    sources = [choose(ctx.store.embedder, plan_.query, hit.paper, number, 1, t, similarity=hit.similarity,
                      quantity=plan_.quantity) for number, hit in enumerate(chosen, start=1)]
    listed = list(sources)
    sources, generated, tokens = yield from _generate_from(ctx, plan_, sources, timings, sentences=1,
                                                                max_tokens=t.synthesis_tokens, prompt="synthesis")
    checking = time.perf_counter()
    synthesis, dropped = verify_then_fill(ctx.store.embedder, t, generated, sources, question=plan_.query)
    lines = [evidence_claim(source, f"{source.paper.title}: {source.sentences[0]}") for source in listed
             if source.sentences]
    timings["verify"] = time.perf_counter() - checking
    sections = [Section(None, synthesis)] if synthesis else []
    sections.append(Section(f"Papers ({len(lines)})", lines, bullets=True))
    return sections, listed, dropped, generated, tokens


def _by_author(ctx: Context, plan_: Plan) -> tuple[list[Section], list[Source]] | None:
    """An author's papers, from the catalogue: how many, and one cited line each (newest
    first, up to `list_max_papers` shown); None when no paper lists the author."""
    catalog = ctx.store.catalog
    ids = catalog.by_author(plan_.query)
    if plan_.since or plan_.until:
        ids = [pid for pid in ids if pid in catalog.ids_in_range(plan_.since, plan_.until)]
    if not ids:
        return None
    papers = catalog.papers(ids)
    shown = [papers[pid] for pid in ids if pid in papers][: ctx.tuning.list_max_papers]
    sources = [Source(number, paper, [Source(number, paper, []).metadata_facts()["authors"]])
               for number, paper in enumerate(shown, start=1)]
    count = f"{len(ids)} paper{'s' if len(ids) != 1 else ''} in the collection list {plan_.query} as an author"
    count += "." if len(ids) == len(shown) else f"; the {len(shown)} newest are listed."
    lines = [evidence_claim(source, source.sentences[0], origin="catalogue") for source in sources]
    intro = Claim(count, (), True, 1.0, origin="catalogue")  # about the collection, not one paper: each line cites its own
    return [Section(None, [intro]), Section(f"Papers ({len(lines)})", lines, bullets=True)], sources


def _metadata(ctx: Context, plan_: Plan, found: SearchResult, timings: dict[str, float]) -> Body:
    """Authors, dates or upvotes of the paper the question names, from the catalogue."""
    best = found.hits[0]
    facts = Source(1, best.paper, []).metadata_facts()
    source = Source(1, best.paper, [facts[name] for name in plan_.fields], best.similarity)
    claims = [evidence_claim(source, sentence, origin="catalogue") for sentence in source.sentences]
    return [Section(None, claims)], [source], [], "", 0
    yield  # a generator like the other shapes, though it never calls the model


def _search_within(ctx: Context, lookup: str, shape: Plan, depth: int, only: set[str] | None) -> SearchResult:
    """Search the collection, or only the papers in `only`, named in the query so that
    retrieval can match them ("this paper" means the scoped paper)."""
    if only:
        titles = "; ".join(p.title for p in ctx.store.catalog.papers(sorted(only)).values())
        lookup = f"{titles}: {lookup}"
    return search(ctx.store, lookup, ctx.tuning, k=depth, since=shape.since, until=shape.until, only=only)


_SHAPES = {"fact": _fact, "comparison": _comparison, "list": list_body, "metadata": _metadata}


def ask(ctx: Context, question: str, history: Sequence[Turn] = (), *, k: int = 5,
        only: set[str] | None = None) -> Generator[str | Stage, None, Result]:
    """Answer a question from the collection (or only from the papers in `only`) with verified
    citations, or say it is not covered."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    query = yield from standalone_question(ctx, question, history)
    timings["rewrite"] = time.perf_counter() - started
    shape = plan(query) if query == question else plan_follow_up(question, query)
    lookup = shape.query
    yield Stage("searching")
    if shape.fields == ("papers",) and not only:
        listed = _by_author(ctx, shape)
        timings["total"] = time.perf_counter() - started
        asked = {"kind": "answer", "query": question, "model": ctx.model.name, "shape": "metadata", "timings": timings,
                 "standalone": query if query != question else None}
        if listed is None:
            return Result(status="not_covered", **asked)
        return Result(status="answered", sections=listed[0], sources=listed[1], **asked)
    depth = max(k, ctx.tuning.list_k) if shape.shape == "list" else k
    # "Who wrote it?", "And how was it evaluated?": "it" is the paper the last answer cited
    # first (or, for a question on several, the papers it cited), not whatever the rewrite
    # happens to match best.
    scope = only
    if not only and query != question and history and history[-1].papers and refers_back(question):
        last = history[-1].papers
        scope = set(last[:1] if shape.shape == "metadata" else last)
    found = _search_within(ctx, lookup, shape, depth, scope)
    if scope is not only and not (found.covered and found.hits):
        found = _search_within(ctx, lookup, shape, depth, only)
    timings["retrieve"] = time.perf_counter() - started - timings["rewrite"]
    filters = {name: value for name, value in (("since", shape.since), ("until", shape.until)) if value}
    common = {"kind": "answer", "query": question, "model": ctx.model.name, "shape": shape.shape, "filters": filters,
              "standalone": query if query != question else None, "timings": timings}
    if not found.covered or not found.hits:
        timings["total"] = time.perf_counter() - started
        return Result(status="not_covered", closest=[hit.paper for hit in found.hits], **common)
    sections, sources, dropped, generated, tokens = yield from _SHAPES[shape.shape](ctx, shape, found, timings)
    timings["total"] = time.perf_counter() - started
    if not sources:  # no passage was close enough to quote or cite: nothing to answer from
        return Result(status="not_covered", closest=[hit.paper for hit in found.hits], **common)
    return renumber(Result(status="answered", sections=sections, sources=sources, dropped=dropped,
                           generated=generated, tokens=tokens, **common))
