"""Verification rules, each tried on a crafted sentence next to a faithful one (so that every
test could fail both ways), and question planning."""

from __future__ import annotations

from datetime import date

import pytest
from wordfreq import zipf_frequency

from assistant.answer.evidence import Source
from assistant.answer.plan import is_follow_up, plan, refers_back
from assistant.answer.verify import Checker
from assistant.answer.wellformed import broken_word, fragment, has_finite_verb, vocabulary
from assistant.core.records import Paper, names_in, quantities_in, split_sentences, stems
from assistant.core.tuning import Tuning
from assistant.core.word_frequency import english_zipf
from assistant.retrieve.hybrid import alternatives, term_coverage
from assistant.store.data_dir import Store


def test_word_frequency_reads_the_same_figures_as_wordfreq(sample_store: Store) -> None:
    """The direct reader of wordfreq's data agrees with wordfreq on every word of letters in
    the sample papers, common, rare and unknown, straight or curly apostrophe."""
    papers = sample_store.catalog.papers(sample_store.catalog.all_ids())
    words = vocabulary(f"{p.title} {p.abstract}" for p in papers.values())
    words |= {"don’t", "it's", "zzzzqx", "The"}
    assert len(words) > 2000
    differing = {w: (english_zipf(w), zipf_frequency(w, "en")) for w in words if english_zipf(w) != zipf_frequency(w, "en")}
    assert not differing
    assert english_zipf("the") > 7 > english_zipf("transformer") > 3 > english_zipf("zzzzqx") == 0


QUESTION = "What ANLS score does Vary-toy reach on DocVQA?"


def paper(store: Store, title: str) -> Paper:
    (pid,) = store.catalog.find(title)
    return store.catalog.papers([pid])[pid]


@pytest.fixture
def two_sources(sample_store: Store) -> list[Source]:
    vary = paper(sample_store, "Small Language Model Meets with Reinforced Vision Vocabulary")
    other = paper(sample_store, "DINO-WM: World Models on Pre-trained Visual Features enable Zero-shot Planning")
    return [Source(1, vary, split_sentences(vary.abstract)), Source(2, other, split_sentences(other.abstract))]


@pytest.fixture
def checker(sample_store: Store, two_sources: list[Source]) -> Checker:
    return Checker(sample_store.embedder, two_sources, Tuning(), QUESTION)


def fact_sentence(source: Source) -> str:
    return next(s for s in split_sentences(source.paper.abstract) if "65.6%" in s)


def test_a_faithful_sentence_and_a_paraphrase_are_kept(checker: Checker, two_sources: list[Source]) -> None:
    assert checker.check(fact_sentence(two_sources[0]), [1]).supported
    paraphrase = checker.check("Vary-toy reaches 65.6% ANLS on DocVQA.", [1])
    assert paraphrase.supported, paraphrase.reason


def test_broken_word_is_dropped(checker: Checker, two_sources: list[Source]) -> None:
    words = fact_sentence(two_sources[0]).split()
    longest = max(range(len(words)), key=lambda i: len(words[i]) if words[i].isalpha() else 0)
    words[longest] += "E"  # "existingE": two words run together by a small model
    claim = checker.check(" ".join(words), [1])
    assert not claim.supported and "broken word" in (claim.reason or "")


@pytest.mark.parametrize(("sentence", "broken"), [
    ("Vary-toy's score on DocVQA is the model's best, and it's what they can't beat.", None),
    ("Vary-toy’s score on DocVQA is the best.", None),
    ("Vary-toy's scoreE on DocVQA is the best.", "scoreE"),
    ("Vary-toy's scorqzx's on DocVQA is the best.", "scorqzx's"),
])
def test_possessives_and_contractions_are_words(sentence: str, broken: str | None) -> None:
    assert broken_word(sentence, vocabulary(["Vary-toy reaches 65.6% ANLS on DocVQA."]), Tuning().min_zipf) == broken


@pytest.mark.parametrize("ending", ["by approximately.", "is.", "rather than.", "an effective RL-to-."])
def test_sentence_cut_off_is_dropped(checker: Checker, two_sources: list[Source], ending: str) -> None:
    start = " ".join(fact_sentence(two_sources[0]).split()[:10])
    claim = checker.check(f"{start} {ending}", [1])
    assert not claim.supported and "not a complete sentence" in (claim.reason or "")


def test_topic_restatement_is_dropped(checker: Checker) -> None:
    claim = checker.check("Vary-toy is a small language model with a reinforced vision vocabulary.", [1])
    assert not claim.supported and "restates" in (claim.reason or "")


def test_two_paper_blend_is_dropped(checker: Checker, two_sources: list[Source]) -> None:
    first, second = two_sources
    own = stems(" ".join(first.all_sentences()))
    borrowed = next(w for w in second.paper.abstract.replace(",", " ").split()
                    if w.isalpha() and w.islower() and len(w) > 6 and w[:5] not in own and english_zipf(w) < 4.0)
    blended = fact_sentence(first).rstrip(".") + f" with {borrowed}."
    claim = checker.check(blended, [1])
    assert not claim.supported and "blends two papers" in (claim.reason or "") and borrowed in (claim.reason or "")


@pytest.mark.parametrize(("sentence", "verb"), [
    ("Event-based vision sensors (EVS) in event cameras.", False),
    ("A new benchmark for robotic grasping with 10k scenes.", False),
    ("The method achieving 65% accuracy on DocVQA.", False),
    ("RoboMirror's latency from video to motion.", False),
    ("Debate2Create (D2C), a framework in which LLM agents engage in structured debate.", False),
    ("A benchmark on which models are scored.", False),
    ("The model, which we propose, achieves 90% accuracy.", True),
    ("ICD-Net adds its constraints to VINS-Fusion, where the uncertainties weight the network's terms.", True),
    ("RoboMirror (which uses a diffusion policy) turns videos into motion.", True),
    ("RoboMirror turns human videos into humanoid locomotion.", True),
    ("Vary-toy can achieve 65.6% ANLS on DocVQA.", True),
    ("Results improved by 3% over the baseline.", True),
    ("Models learn faster with the auxiliary loss.", True),
    ("It's a benchmark of 10k scenes.", True),
    ("Seen as energy-based, policy learning recovers the soft Bellman equation.", True),
])
def test_a_sentence_needs_a_verb(sentence: str, verb: bool) -> None:
    assert has_finite_verb(sentence) is verb


def test_fragment_rules_leave_ordinary_sentences_alone() -> None:
    assert fragment("The model reaches 65.6% ANLS on DocVQA (a document benchmark).") is None
    assert fragment("Results improve (see the appendix.") is not None
    assert fragment("The the model works well.") is not None


@pytest.mark.parametrize(("question", "shape"), [
    ("How many authors wrote the paper on the reversal curse?", "metadata"),
    ("When did the DINO-WM paper come out? When was it published?", "metadata"),
    ("Which papers look at hallucinations in vision-language models?", "list"),
    ("Summarise the papers that use sparse autoencoders.", "list"),
    ("How does method A compare with method B on speed?", "comparison"),
    ("What ANLS score does Vary-toy reach on DocVQA?", "fact"),
])
def test_answer_shape_comes_from_the_question(question: str, shape: str) -> None:
    assert plan(question).shape == shape


def test_either_of_two_alternatives_covers_a_term(sample_store: Store, two_sources: list[Source]) -> None:
    """"DocVQA or gripper": a paper using one of the two uses what was asked for."""
    vary = two_sources[0].paper
    words = ["docvqa", "gripper"]
    assert term_coverage(words, vary) == 0.5
    assert term_coverage(words, vary, alternatives("What about DocVQA or gripper tasks?")) == 1.0
    assert term_coverage(words, vary, alternatives("What about DocVQA and gripper tasks?")) == 0.5


def test_metadata_question_searches_for_the_paper_it_names() -> None:
    planned = plan("How many authors wrote the paper on the reversal curse?")
    assert planned.fields == ("authors",)
    assert "authors" not in planned.query.lower() and "reversal curse" in planned.query


@pytest.mark.parametrize(("text", "quantities"), [
    ("EAGLE-2 with GPT-4 and Llama-3.1 gives a 3.16x speedup, 44% more.", {"3.16", "44"}),
    ("Two variants: (1) greedy and (2) exact, from 2-10x faster since 2023.", {"2", "10"}),
    ("It trains on 1,000 images with 12 layers.", {"1000", "12"}),
    ("A compact 3-DoF spine in a 1.26 kg package, for 3D scenes at 72 FPS.", {"1.26", "72"}),
])
def test_quantities_leave_out_names_enumerators_and_years(text: str, quantities: set[str]) -> None:
    assert quantities_in(text) == quantities


@pytest.mark.parametrize("question", [
    "What is the smallest model size in which successor heads appear?",
    "What average speedup does dynamic depth decoding achieve?",
    "What median motion-to-motion latency did field tests reveal?",
    "How does adding a pin microphone change the imitation-learning success rate?",
    "How does the root mean squared error change after on-device learning?",
    "How strongly is coherence correlated with hallucination?",
])
def test_quantity_questions(question: str) -> None:
    assert plan(question).quantity


@pytest.mark.parametrize("question", ["How do robots plan?", "What is the reversal curse?",
                                      "How does the method change the robot's behaviour?"])
def test_questions_asking_for_no_quantity(question: str) -> None:
    assert not plan(question).quantity


def test_the_stated_number_is_the_one_beside_the_questions_words() -> None:
    """Of the best-ranked sentences with a number, the one whose number stands by the
    question's words: "median … above 750 ms", not the "Raspberry Pi 5" of the set-up."""
    from assistant.answer.ask import _stating

    source = Source(1, Paper(id="p", title="Latency", abstract=""), [])
    ranked = [(source, "The framework uses Hall-effect sensors and two synchronized Raspberry Pi 5 devices."),
              (source, "Field results show that actuator delays dominate, with median latency above 750 ms.")]
    question = "What median latency did the field tests reveal?"
    assert _stating(ranked, 1, question) == [ranked[1]]
    assert _stating(ranked[:1], 1, question) == ranked[:1]  # no better one: the only number there is


@pytest.mark.parametrize(("question", "naming"), [
    ("Which model family was used as the testbed?", True),
    ("On which dataset is forgetting measured?", True),
    ("In the continual learning study, on which dataset is forgetting measured?", True),
    ("What is the name of the benchmark?", True),
    ("What is the reversal curse?", False),
    ("How much faster is DDD?", False),
])
def test_questions_asking_for_a_name(question: str, naming: bool) -> None:
    assert plan(question).naming is naming


def test_names_are_inner_capitals_or_capitalised_words_inside_a_sentence() -> None:
    assert names_in("Specifically, we propose Clip-Cov and KL-Cov with GPT-2 on ImageNet.") == {
        "clip-cov", "kl-cov", "gpt-2", "imagenet"}
    assert names_in("We use the Pythia model family as our testbed.") == {"pythia"}
    assert names_in("Massive activations are scalar values in transformer hidden states.") == set()


@pytest.mark.parametrize(("question", "since", "until"), [
    ("Which papers on world models appeared since 2024?", "2024-01-01", None),
    ("Which papers on diffusion were published before 2023?", None, "2022-12-31"),
    ("Which papers on planning came out in May 2025?", "2025-05-01", "2025-05-31"),
    ("What did papers this year say about steering?", "2026-01-01", "2026-12-31"),
    ("What is the reversal curse?", None, None),
])
def test_dates_in_the_question_become_filters(question: str, since: str | None, until: str | None) -> None:
    planned = plan(question, today=date(2026, 6, 1))
    assert (planned.since, planned.until) == (since, until)
    if since or until:
        assert not any(ch.isdigit() for ch in planned.query) and "this year" not in planned.query


@pytest.mark.parametrize(("question", "follows"), [
    ("And on ChartQA?", True),
    ("How many authors does it have?", True),
    ("What about the second paper?", True),
    ("What does DINO-WM use for planning?", False),
    ("What is the reversal curse and why does it happen?", False),
])
def test_follow_up_detection(question: str, follows: bool) -> None:
    assert is_follow_up(question) is follows


@pytest.mark.parametrize(("question", "refers"), [
    ("And on ChartQA?", True),
    ("How many authors does it have?", True),
    ("What is the reversal curse?", False),  # short, so maybe a follow-up, but it points nowhere
    ("Which datasets?", False),
])
def test_only_some_follow_ups_refer_back_in_their_wording(question: str, refers: bool) -> None:
    assert is_follow_up(question) and refers_back(question) is refers


# Sentences that small models wrote and an earlier verifier kept, each next to a faithful
# sentence of the same source (written for these tests in the manner of the abstracts).
HUMANOID = Paper("h", "RoboMirror: Understand Before You Imitate for Video to Humanoid Locomotion",
                 "We present RoboMirror, a framework that turns human videos into humanoid locomotion. "
                 "A vision-language model first describes the motion in the video, and a diffusion policy then "
                 "generates whole-body commands for the humanoid robot. "
                 "RoboMirror cuts the latency from video to motion by 80% compared with pose-retargeting pipelines. "
                 "Code: https://github.com/example/robomirror.")
PRUNING = Paper("p", "Pruning visual tokens for fast multimodal inference",
                "Multimodal models spend most of their compute on redundant visual tokens. "
                "We prune visual tokens with a learned importance score before the language model sees them. "
                "Our method reduces FLOPs by 74.2% on LLaVA-1.5 with no loss in benchmark accuracy.")
ENERGY = Paper("e", "An energy-based view of policy learning",
               "We revisit policy learning from an energy-based perspective. "
               "We show that this energy-based view recovers the soft Bellman equation of maximum entropy "
               "reinforcement learning (RL) as a special case.")


@pytest.fixture
def crafted(sample_store: Store) -> Checker:
    sources = [Source(n, p, split_sentences(p.abstract)) for n, p in enumerate((HUMANOID, PRUNING, ENERGY), start=1)]
    return Checker(sample_store.embedder, sources, Tuning(), "What does RoboMirror do?")


@pytest.mark.parametrize(("sentence", "cites", "reason"), [
    ("The robotic exoskeleton RoboMirror turns human videos into humanoid locomotion.", 1, "exoskeleton"),
    ("The energy-based view recovers the soft Bellman equation of maximum entropy reinforcement learning (ML).", 3,
     "“ML”"),
    ("The answer is 80% lower latency from video to motion than pose-retargeting pipelines.", 1, "about the answer"),
    ("The answer to this question is: RoboMirror turns human videos into humanoid locomotion.", 1,
     "about the answer"),
    ("How does RoboMirror turn human videos into humanoid locomotion?", 1, "asks a question"),
    ("RoboMirror: Understand Before You Imitate for humanoid locomotion using a diffusion policy.", 1, "title"),
    ("Understand Before You Imitate for Video to Humanoid Locomotion, over and over, "
     "https://github.com/example/robomirror.", 1, "restates"),
    ("The paper is about the latency of humanoid locomotion from human videos.", 1, "about the answer"),
    ("While the humanoid robot has access to this video context, their static.", 1, "no main clause"),
    ("Vision-language humanoid locomotion from a human video in a pose-retargeting pipeline.", 1, "no verb"),
])
def test_unfaithful_sentences_are_dropped(crafted: Checker, sentence: str, cites: int, reason: str) -> None:
    claim = crafted.check(sentence, [cites])
    assert not claim.supported and reason in (claim.reason or ""), claim.reason


@pytest.mark.parametrize(("sentence", "cites"), [
    ("RoboMirror turns human videos into humanoid locomotion with a vision-language model and a diffusion policy.", 1),
    ("RoboMirror first describes the motion of a human video with a vision-language model, then a diffusion policy "
     "generates the humanoid's whole-body commands.", 1),
    ("A learned importance score picks the visual tokens to prune before the language model sees them.", 2),
    ("Seen as energy-based, policy learning recovers the soft Bellman equation of maximum entropy RL.", 3),
])
def test_faithful_paraphrases_keep_their_own_words(crafted: Checker, sentence: str, cites: int) -> None:
    claim = crafted.check(sentence, [cites])
    assert claim.supported and claim.origin == "model" and claim.text == sentence, claim


@pytest.mark.parametrize(("sentence", "cites", "shown"), [
    # numbers moved to what they do not count in the source
    ("Our method reduces the number of visual tokens by 74.2% on LLaVA-1.5 with no loss in benchmark accuracy.", 2,
     "Our method reduces FLOPs by 74.2%"),
    ("The latency of pose-retargeting pipelines is 80% of RoboMirror's.", 1, "RoboMirror cuts the latency"),
    # a faithful number is shown as its source states it too
    ("RoboMirror cuts video-to-motion latency by 80% compared with pose-retargeting pipelines.", 1,
     "RoboMirror cuts the latency"),
    # a relation that no one sentence of the source states, from words of two distant sentences
    ("Redundant visual tokens lower the benchmark accuracy of multimodal models.", 2, None),
    # or of two adjacent ones ("improves the success rate compared to tactile sensors")
    ("RoboMirror's diffusion policy cuts the latency compared with pose-retargeting pipelines.", 1, None),
    # numbers in words: stated elsewhere, and stated nowhere
    ("We prune visual tokens with two learned importance scores before the language model sees them.", 2,
     "We prune visual tokens with a learned"),
    ("The vision-language model first describes the motion of the video in three parts.", 1,
     "A vision-language model first describes"),
    ("The vision-language model describes the motion in the video, which suggests that the humanoid imitates it.", 1,
     "A vision-language model first describes"),
])
def test_what_one_place_of_the_source_does_not_state_is_shown_in_its_words(
        crafted: Checker, sentence: str, cites: int, shown: str | None) -> None:
    claim = crafted.check(sentence, [cites])
    assert claim.supported and claim.origin == "evidence" and claim.text != sentence, claim
    assert claim.text in " ".join(split_sentences(HUMANOID.abstract + " " + PRUNING.abstract)) or claim.text.count(".") > 1
    if shown:
        assert claim.text.startswith(shown) or shown in claim.text, claim.text


@pytest.mark.parametrize(("sentence", "shown"), [
    # a long run of the source's words with the relation between its parts changed
    ("We show that this energy-based view recovers the soft Bellman equation by using maximum entropy "
     "reinforcement learning.", "We show that this energy-based view recovers the soft Bellman equation of"),
    ("Multimodal models spend most of their compute on redundant visual tokens of the language model.",
     "Multimodal models spend most of their compute on redundant visual tokens."),
])
def test_an_edited_copy_is_shown_as_the_source_sentence(crafted: Checker, sentence: str, shown: str) -> None:
    claim = crafted.check(sentence, [3 if "Bellman" in sentence else 2])
    assert claim.text != sentence
    assert claim.supported and claim.origin == "evidence" and claim.text.startswith(shown), claim


def test_a_mangled_copy_is_shown_as_the_source_sentence(sample_store: Store) -> None:
    reversal = paper(sample_store, 'The Reversal Curse: LLMs trained on "A is B" fail to learn "B is A"')
    source = Source(1, reversal, split_sentences(reversal.abstract))
    original = next(s for s in source.sentences if s.startswith("If a model is trained on"))
    mangled = original.replace("If a model is trained", "To a model is trained").replace("it will not", "it not will")
    claim = Checker(sample_store.embedder, [source], Tuning(), "What is the reversal curse?").check(mangled, [1])
    assert claim.supported and claim.text == original and claim.origin == "evidence"


def test_required_evidence_is_added_when_a_close_kept_sentence_leaves_out_its_numbers(sample_store: Store) -> None:
    """A kept sentence close to the evidence that states what was asked does not replace it
    unless it states all of the evidence's numbers too: "5.63 → 4.78" is RetroGraph's, not Retro*'s."""
    from assistant.answer.fill import verify_then_fill

    retro = paper(sample_store, "Retrosynthetic Planning with Dual Value Networks")
    stating = next(s for s in split_sentences(retro.abstract) if "5.76" in s)
    source = Source(1, retro, split_sentences(retro.abstract))
    wrong = "PDVN helps find shorter synthesis routes, reducing the average route length from 5.63 to 4.78 [1]."
    right = ("PDVN helps find shorter synthesis routes, reducing the average route length from 5.76 to 4.83 for "
             "Retro*, and from 5.63 to 4.78 for RetroGraph [1].")
    tuning = Tuning()
    def answer(written: str) -> list[str]:
        claims, _ = verify_then_fill(sample_store.embedder, tuning, written, [source],
                                     question="For Retro*, what is the average route length before and after PDVN?",
                                     required=[(source, stating)])
        return [c.text for c in claims]

    # numbers the question did not give are shown in the sentence that states them, which
    # says whose they are; here that is the required evidence itself, shown once
    assert answer(wrong) == [stating]
    assert answer(right) == [stating]


def test_a_quote_shown_for_a_generated_sentence_does_not_crowd_out_the_chosen_evidence(sample_store: Store) -> None:
    """The sentence shown in place of a generated one is what the model paraphrased; the
    evidence ranked as answering still comes first, as when nothing generated was kept."""
    from assistant.answer.fill import verify_then_fill

    retro = paper(sample_store, "Retrosynthetic Planning with Dual Value Networks")
    sentences = split_sentences(retro.abstract)
    routes = next(s for s in sentences if "5.76" in s)
    success = next(s for s in sentences if "85.79%" in s)
    source = Source(1, retro, sentences)
    written = "PDVN reduces the average route length of RetroGraph from 5.63 to 4.78 [1]."
    claims, _ = verify_then_fill(sample_store.embedder, Tuning(), written, [source],
                                 question="What search success rate does PDVN give Retro* on USPTO?",
                                 required=[(source, success)], spare=[], min_claims=2)
    assert [c.text for c in claims] == [success, routes]
    assert all(c.origin == "evidence" for c in claims)
