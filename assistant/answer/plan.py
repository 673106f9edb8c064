"""Reading a question before answering it: what shape the answer takes (a fact, a list of
papers, a comparison, catalogue metadata), whether it asks for a quantity, which date range it
names, and whether it stands on its own or follows up on the conversation.

Pure text rules: no model, so the shape of an answer never depends on a small model's mood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.core.dates import parse_bound
from assistant.core.errors import AssistantError
from assistant.core.records import ASKING_WORDS, content_words

_MEASURED = (r"(rate|error|accuracy|score|latency|time|success|performance|speed|cost|rmse|mae|fps|throughput|"
             r"precision|recall)")
_QUANTITY = re.compile(
    r"\b(how (much|many|often|fast|large|big|small|accurate(ly)?|long|well|far|heavy|strong(ly)?)|"
    r"by (how much|what (factor|margin))|to what (extent|degree)|"
    r"(what|which) ([\w-]+ ){0,4}(share|percentage|percent|fraction|proportion|speed-?ups?|accuracy|score|rate|factor|"
    r"improvement|gain|error|number|size|count|ratio|reduction|increase|drop|margin|latency|weight|mass|speed|"
    r"frequency|distance|precision|recall|efficiency|cost)|"
    # "How does MicCheck change the success rate?", "How does the error change after …?": a
    # change in something measured
    rf"how (does|do|did) .{{1,80}} (change|affect|improve|reduce|increase|lower|raise|cut) (the |its |their )?"
    rf"([\w-]+ ){{0,3}}{_MEASURED}|how (does|do|did) (the |its |their )?([\w-]+ ){{0,4}}{_MEASURED} .{{0,80}}change)\b",
    re.IGNORECASE)
_LIST = re.compile(
    r"^\s*(which|what) (papers|studies|works|articles|approaches|methods|techniques|ideas|lines of work)\b|"
    r"\b(which|what|any|list( the| all)?) (papers|studies|works|articles)\b|"
    r"\bsummari[sz]e (the |all )?(papers|studies|works|research)\b|"
    r"\bwhat does the collection (say|have|contain)\b|\bwhat (approaches|methods|techniques) (to|for)\b|"
    r"\boverview of\b|\bpapers (on|about|that|which|studying|proposing)\b|"
    r"\bwhat (do|did|does) (the )?(papers|studies|works)\b|\bwhat (work|research) (is there|exists|has been done)\b|"
    r"\bwhat (\S+ ){0,3}(approaches|methods|techniques|ideas|ways|models|architectures) (are there|exist)\b",
    re.IGNORECASE)
# "Which model family...", "On which dataset...", "What two tricks...": the answer is a name.
_ENTITY = re.compile(r"(?:^\s*|\b(?:on|in|at|from|with|by|for|of|under) )(?:which|what)\s+(?!(?:is|are|was|were|do|does|did|"
                     r"can|could|would|should|has|have|had|happens?|makes?|if|about)\b)[a-z]|\bwhat is the name\b",
                     re.IGNORECASE)
_COMPARISON = re.compile(r"\b(versus|vs\.?|compared? (to|with)|comparison|differ(s|ence)? (from|between)|"
                         r"difference between|compare)\b", re.IGNORECASE)
_AUTHORS = re.compile(r"\b(how many (authors|writers|co-?authors)|how many (people|researchers) (wrote|authored|worked)|"
                      r"number of authors|author count|who (wrote|authored)|authors? (does|did|do) )", re.IGNORECASE)
_DATE_ASKED = re.compile(r"\b(when (was|were|did|is)|what date|which date|publication date|date of publication|"
                         r"(what|which) (day|month|year) was)\b", re.IGNORECASE)
# "papers by Pieter Abbeel", "How many papers has Guanya Shi co-authored?": a name is one to
# four capitalised words (initials and particles such as "van" allowed inside).
_NAME_WORDS = r"[A-Z][\w.'’-]*(?:\s+(?:(?:van|von|de|der|da|di|del|la|le)\s+)?[A-Z][\w.'’-]*){0,3}"
_BY_AUTHOR = [
    re.compile(rf"\b(?i:papers?|works?|articles?|studies|publications)\s+(?i:(?:are|were|is)\s+)?(?i:(?:written|authored|"
               rf"co-?authored|published)\s+)?(?i:by)\s+(?P<name>{_NAME_WORDS})"),
    re.compile(rf"\b(?:did|has|have|does|do)\s+(?P<name>{_NAME_WORDS})\s+(?:write|written|wrote|authored|author|"
               rf"co-?authored|co-?author|publish|published)\b"),
    re.compile(rf"\b(?P<name>{_NAME_WORDS})\s+(?:wrote|authored|co-?authored|published)\b"),
]
_UPVOTES = re.compile(r"\b(upvotes?|likes|votes)\b", re.IGNORECASE)

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_WHEN = rf"(?:{_MONTH}\.?\s+)?(?:19|20)\d\d"
_DATE_PHRASES = [
    ("between", re.compile(rf"\b(?:published |released )?between ({_WHEN}) and ({_WHEN})\b", re.IGNORECASE)),
    ("since", re.compile(rf"\b(?:published |released )?(?:since|after|from) ({_WHEN})(?: on(?:wards?)?)?\b", re.IGNORECASE)),
    ("before", re.compile(rf"\b(?:published |released )?(?:before|prior to) ({_WHEN})\b", re.IGNORECASE)),
    ("until", re.compile(rf"\b(?:published |released )?(?:until|up to|through) ({_WHEN})\b", re.IGNORECASE)),
    ("in", re.compile(rf"\b(?:published |released |appeared |appearing )?(?:in|during) ({_WHEN})\b", re.IGNORECASE)),
    ("in", re.compile(r"\b((?:19|20)\d\d)(?= (?:papers|studies|works|articles)\b)", re.IGNORECASE)),
    ("this", re.compile(r"\b(?:published |released )?this year\b", re.IGNORECASE)),
    ("last", re.compile(r"\b(?:published |released )?last year\b", re.IGNORECASE)),
]

# A follow-up leans on the conversation: it opens with a connective, or refers back to
# something ("it", "these papers") and is too short to name its own topic.
_OPENER = re.compile(r"^\s*(and|also|but|so|then|what about|how about|same for|why|what else)\b", re.IGNORECASE)
_BACK_REFERENCE = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|the (paper|papers|method|model|"
                             r"approach|authors|same)|above|previous|earlier|former|latter)\b", re.IGNORECASE)
SHORT_QUESTION_WORDS = 6
# "What is a world model?", "What are diffusion policies?": a definition asked for, however
# short, stands on its own ("What is the accuracy?" asks about something said before).
_DEFINITION = re.compile(r"^\s*(?:what|who) (?:is an?|are) (?!(?:it|they|them|this|that|these|those|the)\b)\w",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Plan:
    """How to answer one question."""

    shape: str  # fact | list | comparison | metadata
    query: str  # what retrieval searches for: the question without its date phrase (and, for metadata, without
    # what it asks about the paper)
    quantity: bool = False  # the answer must state a number
    naming: bool = False  # the answer is a name (a model family, a dataset, a method)
    fields: tuple[str, ...] = ()  # metadata asked for: authors, date, upvotes; or an author's papers ("papers", with
    # the author's name as the query)
    since: str | None = None
    until: str | None = None


def date_range(question: str, today: date | None = None) -> tuple[str | None, str | None, str]:
    """(since, until, question without the phrase) for a date constraint in the question."""
    today = today or date.today()
    for kind, pattern in _DATE_PHRASES:
        match = pattern.search(question)
        if not match:
            continue
        rest = (question[: match.start()] + question[match.end():]).strip()
        rest = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", rest))
        try:
            if kind == "between":
                return parse_bound(match.group(1)), parse_bound(match.group(2), end=True), rest
            if kind == "since":
                return parse_bound(match.group(1)), None, rest
            if kind == "before":
                return None, (date.fromisoformat(parse_bound(match.group(1))) - timedelta(days=1)).isoformat(), rest
            if kind == "until":
                return None, parse_bound(match.group(1), end=True), rest
            if kind == "in":
                return parse_bound(match.group(1)), parse_bound(match.group(1), end=True), rest
        except AssistantError:
            return None, None, question
        year = today.year if kind == "this" else today.year - 1
        return f"{year}-01-01", f"{year}-12-31", rest
    return None, None, question


def metadata_fields(question: str) -> tuple[str, ...]:
    fields = []
    if _AUTHORS.search(question):
        fields.append("authors")
    if _DATE_ASKED.search(question):
        fields.append("date")
    if _UPVOTES.search(question):
        fields.append("upvotes")
    return tuple(fields)


def author_named(question: str) -> str | None:
    """The author whose papers the question asks for ("Which papers did Jane Doe write?")."""
    for pattern in _BY_AUTHOR:
        match = pattern.search(question)
        if match and not re.match(r"(?:What|Which|How|Who|When|Are|Is|Did|Does|Do|Has|Have|The)\b", match.group("name")):
            return match.group("name").rstrip(".'’-")
    return None


def plan(question: str, today: date | None = None) -> Plan:
    """The answer's shape, read from the question alone."""
    since, until, query = date_range(question, today)
    author = author_named(query)
    if author:
        return Plan("metadata", author, fields=("papers",), since=since, until=until)
    quantity = bool(_QUANTITY.search(query))
    fields = metadata_fields(query)
    if fields and not _LIST.search(query):
        # Retrieval looks for the paper the question names; "how many authors" would only
        # blur that.
        named = _UPVOTES.sub(" ", _DATE_ASKED.sub(" ", _AUTHORS.sub(" ", query)))
        named = re.sub(r"\s{2,}", " ", named).strip()
        return Plan("metadata", named if content_words(named) else query, quantity=False, fields=fields,
                    since=since, until=until)
    if _LIST.search(query):
        return Plan("list", query, quantity=quantity, since=since, until=until)
    if _COMPARISON.search(query):
        return Plan("comparison", query, quantity=quantity, since=since, until=until)
    naming = not quantity and bool(_ENTITY.search(query))
    return Plan("fact", query, quantity=quantity, naming=naming, since=since, until=until)


def plan_follow_up(question: str, rewritten: str, today: date | None = None) -> Plan:
    """The plan of a follow-up: what it asks for (its shape, metadata fields, a quantity) comes
    from its own wording, what to search for from its rewrite. "And how was it evaluated?"
    after "Who wrote the paper on Canon layers?" asks how, not who, though the rewrite (or the
    last question prepended to it) still says "who wrote"."""
    own, full = plan(question, today), plan(rewritten, today)
    if own.shape in ("metadata", "list", "comparison"):
        shape = own.shape
    else:
        shape = "fact" if full.shape == "metadata" else full.shape
    query = full.query
    if shape != "metadata" and full.shape == "metadata":
        query = re.sub(r"\s{2,}", " ", _UPVOTES.sub(" ", _DATE_ASKED.sub(" ", _AUTHORS.sub(" ", rewritten)))).strip()
    quantity = own.quantity or (full.quantity and full.shape != "metadata")
    return Plan(shape, query, quantity=quantity, naming=not quantity and (own.naming or full.naming),
                fields=own.fields if shape == "metadata" else (), since=own.since or full.since,
                until=own.until or full.until)


def opens_on_the_last(question: str) -> bool:
    """Whether the question opens as a continuation ("And on ChartQA?", "What about …")."""
    return bool(_OPENER.search(question))


def is_follow_up(question: str) -> bool:
    """Whether a question may need the conversation to be understood: it refers back, or it
    is too short to say much on its own ("Which datasets?") and asks no definition."""
    if refers_back(question):
        return True
    return len(content_words(question)) <= 2 and not _DEFINITION.search(question)


def refers_back(question: str) -> bool:
    """Whether the wording points at the conversation: an opener ("And on ChartQA?") or a
    reference ("it", "the paper") with little named beside it."""
    if _OPENER.search(question):
        return True
    words = content_words(question)
    reference = _BACK_REFERENCE.search(question)
    if reference is None or len(words) > SHORT_QUESTION_WORDS:
        return False
    # "What is the reversal curse and why does it happen?" names what "it" refers to.
    named = [w for w in content_words(question[: reference.start()]) if w not in ASKING_WORDS]
    return len(named) < 2
