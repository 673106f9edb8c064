"""Is a generated sentence well formed? Small models cut sentences off ("…by approximately.")
and glue words together ("existingE"); such a sentence is dropped whatever its similarity to
the source, because a reader cannot trust a sentence they cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.core.word_frequency import english_zipf

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
# Words that cannot end an English sentence: a sentence ending in one was cut off.
_DANGLING = frozenset(
    "a an the of to by for with from in on at as into onto over under per via versus vs between among than "
    "and or but nor whereas while although though because if when where whether which who whom whose that "
    "is are was were be been being am has have had does do did can could will would shall should may might must "
    "approximately about around roughly nearly almost only just such very more less most least both either "
    "neither each every any some no not its their our his her this these those my your including like "
    "e.g i.e namely specifically respectively up".split()
)
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))
_CUT_WORD = re.compile(r"\w+-(?=[\s.,;:!?]|$)")  # "an effective RL-to-."
# "While agents have access to this context, their static.": a subordinate clause whose main
# clause is only a determiner and a word has no verb to say anything.
_SUBORDINATE = re.compile(r"^\W*(?:while|although|though|because|since|whereas|if|when|unless|after|before)\b[^,]+,"
                          r"\s*(?P<main>.*)$", re.IGNORECASE)
_DETERMINERS = frozenset("the a an their its our his her this these those such".split())
# Suffixes a source word may gain in a sentence ("model" -> "models", "train" -> "trained").
# What an apostrophe joins to a word: a possessive or a contraction.
_CLITIC = re.compile(r"['’](s|t|re|ve|ll|d|m)$", re.IGNORECASE)
_PARENTHESES = re.compile(r"\([^()]*\)")
# A relative clause that a comma or a preposition opens, up to the next comma or the end.
_RELATIVE = re.compile(r"(?:,|\b(?:in|of|by|for|from|on|at|through|with|under|to))\s+(?:which|whom|whose)\b[^,]*|"
                       r",\s*(?:where|wherein|whereby|who|whose|which)\b[^,]*", re.IGNORECASE)
_PRONOUNS = frozenset("it that there here he she what who this which".split())
_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly", "er", "ers", "ion", "ions", "al")


def base_zipf(word: str) -> float:
    """How common a word or its base form is ("achieves" is rare, "achieve" is not): an
    inflection of a common word is common vocabulary, not one paper's term."""
    forms = [word] + [word[: -len(s)] for s in ("s", "es", "ed", "d", "ing") if word.endswith(s) and len(word) > len(s) + 2]
    return max(english_zipf(form) for form in forms)


def vocabulary(texts: Iterable[str]) -> set[str]:
    """The lower-cased word tokens of some texts (the sources and the question)."""
    return {token.casefold() for text in texts for token in _TOKEN.findall(text)}


def _known(token: str, known: set[str], min_zipf: float) -> bool:
    clitic = _CLITIC.search(token)  # "RoboMirror's", "it's", "can't": the word before the apostrophe
    if clitic and clitic.start() > 0:
        token = token[: clitic.start()] if clitic.group(1) != "t" else token[: clitic.start()].removesuffix("n")
        return _known(token, known, min_zipf) if token else True
    word = token.casefold()
    if word in known or len(word) == 1:
        return True
    if any(word.endswith(s) and word[: -len(s)] in known for s in _SUFFIXES):
        return True
    # A word with a capital inside ("existingE") is two words run together, unless a source
    # spells it so (names such as "ProxyThinker" are in the sources).
    if not token.islower() and not token.isupper() and not token.istitle():
        return False
    return english_zipf(word) >= min_zipf


def broken_word(sentence: str, known: set[str], min_zipf: float) -> str | None:
    """The first word that is neither English nor found in the sources, if any."""
    for token in _TOKEN.findall(sentence):
        if not _known(token, known, min_zipf):
            return token
    return None


def fragment(sentence: str) -> str | None:
    """Why a sentence is not a complete sentence, or None."""
    words = _WORD.findall(sentence)
    if not words:
        return "has no words"
    last = re.split(r"[-'’]", words[-1])[-1]
    if last.casefold() in _DANGLING and not (len(last) == 1 and last.isupper()):  # '… "B is A".' ends on a name
        return f"breaks off after “{last}”"
    cut = _CUT_WORD.search(sentence)
    if cut:
        return f"breaks off inside “{cut.group(0).strip()}”"
    for opening, closing in _PAIRS:
        if sentence.count(opening) != sentence.count(closing):
            return f"has an unmatched “{opening if sentence.count(opening) > sentence.count(closing) else closing}”"
    if sentence.count('"') % 2 or (sentence.count("“") != sentence.count("”")):
        return "has an unmatched quotation mark"
    subordinate = _SUBORDINATE.match(sentence)
    if subordinate:
        main = _WORD.findall(subordinate.group("main"))
        if len(main) <= 2 and (not main or main[0].casefold() in _DETERMINERS):
            return "has no main clause"
    lowered = [w.casefold() for w in words]
    for first, second in zip(lowered, lowered[1:]):
        if first == second and first.isalpha() and first not in {"that", "had"}:
            return f"repeats “{first}”"
    return None


def has_finite_verb(sentence: str) -> bool:
    """Whether some word of the sentence can be a finite verb: an auxiliary ("is", "can"), a
    verb's -s or past form ("reduces", "made"), or a base form that is only ever a verb
    ("outperform"). A small model writes noun phrases as answers ("Event-based vision
    sensors (EVS) in event cameras."); every word of one can be in the right source, so
    only its missing verb shows it says nothing. A word that may be a noun or a verb
    ("use", "show") is not taken as the verb unless its -s form ("uses"), nor is a compound
    ("event-based"), so a sentence like "Both methods use attention." is dropped too: a lost
    true sentence costs less than a shown fragment. A verb inside brackets or a relative clause
    ("Debate2Create (D2C), a framework in which LLM agents engage in debate.") is not the
    sentence's own. The other way round, a plural that can
    be a verb's -s form ("videos", "models") counts as one: without a parser this rule only
    catches noun phrases whose nouns are never verbs or are singular."""
    from lemminflect import getAllInflections, getAllLemmas  # its tables load in ~0.4 s: only when checking

    main = _RELATIVE.sub(" ", _PARENTHESES.sub(" ", sentence))
    for token in _WORD.findall(main):
        clitic = _CLITIC.search(token)
        if clitic and (clitic.group(1).casefold() != "s" or token[: clitic.start()].casefold() in _PRONOUNS):
            return True  # "they're", "can't", "it's"; "RoboMirror's" is a possessive
        if not token.isalpha():  # "event-based", "state-of-the-art" describe or name
            continue
        lemmas = getAllLemmas(token.casefold())
        if "AUX" in lemmas:
            return True
        for lemma in lemmas.get("VERB", ()):
            forms = getAllInflections(lemma, upos="VERB")
            if token.casefold() in forms.get("VBZ", ()) + forms.get("VBD", ()):
                return True
            if set(lemmas) == {"VERB"} and token.casefold() in forms.get("VBP", ()):
                return True
    return False


def garbled(sentence: str, known: set[str], min_zipf: float) -> str | None:
    """Why a sentence is malformed (a fragment or a broken word), or None when it reads fine."""
    reason = fragment(sentence)
    if reason:
        return f"not a complete sentence: it {reason}"
    word = broken_word(sentence, known, min_zipf)
    if word:
        return f"has a broken word “{word}”"
    return None
