"""The records the assistant passes between stages: papers, passages and search hits.

Ids are derived from the normalised title so the same paper gets the same id on every page
and in every store, without any registry of ids.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from assistant.core.latex import readable

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9(\"'\[])")
# Words of how people ask, not of what they ask about.
ASKING_WORDS = frozenset(
    "much many compare compared comparison versus collection say says tell describe explain summarise summarize "
    "summary list give find reach reaches get gets achieve achieves author authors published publish date when year "
    "number kind kinds ways way something anything does mean main idea ideas know wrote written write authored "
    "released appeared came upvotes upvoted votes likes".split()
)
# Abbreviations after which a full stop does not end a sentence in abstracts.
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.", "resp.")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how in is it its of on or that the their "
    "this to was were what when which who why with about into than then there these they using use "
    "paper papers study work show".split()
)
STEM = 5
_URL = re.compile(r"https?://[^\s<>\"']+")
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "codeberg.org")


def normalise_title(title: str) -> str:
    """Case-, accent- and punctuation-insensitive key for a title.

    Pages differ in capitalisation, quotes and dashes for the same paper; the key removes all of
    that so one paper keeps one record. LaTeX markup is read as the text it stands for, so
    "\\textsc{MathSticks}" in a feed and "MathSticks" on a page are one title.
    """
    text = unicodedata.normalize("NFKD", readable(title))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.casefold()).replace("_", " ").strip()


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry meaning (no stopwords, no single letters), in order."""
    return [w for w in re.findall(r"\w+", text.casefold()) if w not in _STOPWORDS and len(w) > 1]


def stems(text: str) -> set[str]:
    """Content words cut to their first five letters, so "achieves" matches "achieve"."""
    return {word[:STEM] for word in content_words(text)}


_BRITISH = ((r"is(e|ed|es|ing|ation|ations)$", r"iz\1"), (r"ys(e|ed|es|ing)$", r"yz\1"), (r"our$", "or"),
            (r"ours$", "ors"), (r"gement(s?)$", r"gment\1"), (r"ogue$", "og"), (r"tre(s?)$", r"ter\1"))


# A number as written ("3.16", "1,000"), not digits inside a word ("x2", "v1.5").
_NUMBER_PATTERN = r"(?<![\w.])\d+(?:[.,]\d+)*"
_NUMBER = re.compile(_NUMBER_PATTERN)
# A number that states a quantity: not part of a name ("EAGLE-2", "GPT-4", "Llama-3.1"), not
# a modifier ("3-DoF", "3D", "6-axis"), not an enumerator ("(1)", "2)"), not a year. A quantity
# question is answered only by a sentence that states one of these.
_QUANTITY_NUMBER = re.compile(r"(?<![A-Za-z]-)" + _NUMBER_PATTERN + r"(?!\d|[.,]\d|-[A-Za-z]|D\b)")
_ENUMERATOR = re.compile(r"\(\d\)|(?<![\w.])\d\)")
_YEAR = re.compile(r"(?:19|20)\d\d")


def numbers_in(text: str) -> set[str]:
    """Every number of `text`, names' numbers included: what a claim must not invent."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def quantities_in(text: str) -> set[str]:
    """The numbers of `text` that state an amount (see `_QUANTITY_NUMBER`)."""
    numbers = _QUANTITY_NUMBER.findall(_ENUMERATOR.sub(" ", text))
    return {n.replace(",", "") for n in numbers if not _YEAR.fullmatch(n)}


# A name: a word with a capital or digit inside ("KL-Cov", "GPT-2", "ImageNet"), or a
# capitalised word that does not open the sentence ("the Pythia model family").
_NAME = re.compile(r"\b[A-Za-z][\w-]*[A-Z][\w-]*|(?<![.!?:]\s)(?<!^)\b[A-Z][a-z][\w-]*")


def names_in(text: str) -> set[str]:
    """The names a sentence mentions, lower-cased (see `_NAME`)."""
    return {name.casefold() for name in _NAME.findall(text.strip())}


def spellings(word: str) -> list[str]:
    """The word and its American spelling, when it looks British."""
    variants = [word]
    for pattern, replacement in _BRITISH:
        american = re.sub(pattern, replacement, word)
        if american != word:
            variants.append(american)
    return variants


def paper_id(title_key: str) -> str:
    """Short stable id for a normalised title (10 hex digits: collisions are negligible)."""
    return hashlib.sha1(title_key.encode("utf-8")).hexdigest()[:10]


def content_hash(title: str, abstract: str) -> str:
    """Hash of what gets embedded; a change means the paper must be re-embedded."""
    return hashlib.sha256(f"{title}\n{abstract}".encode("utf-8")).hexdigest()[:16]


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences without breaking on common abbreviations or decimals."""
    protected = text
    for i, abbr in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbr, abbr.replace(".", f"\x00{i}\x00"))
    parts = _SENTENCE_END.split(protected.strip())
    sentences = []
    for part in parts:
        restored = re.sub(r"\x00\d+\x00", ".", part).strip()
        if restored:
            sentences.append(restored)
    return sentences


def find_links(abstract: str) -> list[dict[str, str]]:
    """Links mentioned in an abstract, labelled `code` (repository hosts) or `page`."""
    links: list[dict[str, str]] = []
    for match in _URL.finditer(abstract):
        url = match.group(0).rstrip(".,;:)]}")
        kind = "code" if any(host in url for host in _CODE_HOSTS) else "page"
        if all(link["url"] != url for link in links):
            links.append({"url": url, "kind": kind})
    return links


_ARXIV_ID = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?",
                       re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")


def arxiv_id_in(*texts: str | None) -> str | None:
    """The arXiv id an abstract-page link, a PDF link or an "arXiv:2202.12139v1" note gives."""
    for text in texts:
        match = _ARXIV_ID.search(text or "")
        if match:
            return match.group(1)
    return None


def doi_in(*texts: str | None) -> str | None:
    """A DOI (lower-cased, as DOIs compare) from a DOI field or a doi.org link."""
    for text in texts:
        match = _DOI.search(text or "")
        if match:
            return match.group(1).casefold()
    return None


@dataclass(frozen=True)
class Record:
    """One paper as read from one source, before it is merged with other sightings."""

    title: str
    abstract: str
    authors: int | None = None
    date: str | None = None  # ISO yyyy-mm-dd, only when the source gives the year
    date_raw: str | None = None
    upvotes: int | None = None
    url: str | None = None
    author_names: tuple[str, ...] = ()  # where the source names them (JSONL, CSV); pages give a count
    arxiv_id: str | None = None  # "2202.12139", without its version
    doi: str | None = None  # "10.1109/icstw55395.2022.00035", lower-cased
    venue: str | None = None  # journal, proceedings or journal reference
    categories: tuple[str, ...] = ()  # arXiv categories, or a reference manager's keywords

    @property
    def key(self) -> str:
        return normalise_title(self.title)


@dataclass(frozen=True)
class Paper:
    """A deduplicated paper in the catalogue, with metadata merged from every page it is on."""

    id: str
    title: str
    abstract: str
    authors: int | None = None
    date: str | None = None
    date_raw: str | None = None
    upvotes: int | None = None
    url: str | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    author_names: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    doi: str | None = None
    venue: str | None = None
    categories: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The stable machine-readable form used by every `--json` output."""
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "author_names": self.author_names,
            "date": self.date,
            "date_raw": self.date_raw,
            "upvotes": self.upvotes,
            "url": self.url,
            "links": self.links,
            "pages": self.pages,
            "aliases": self.aliases,
            "arxiv_id": self.arxiv_id,
            "doi": self.doi,
            "venue": self.venue,
            "categories": self.categories,
        }


@dataclass(frozen=True)
class Passage:
    """A piece of a paper that gets its own vector: the title, or a window of sentences."""

    id: str
    paper_id: str
    text: str


def make_passages(paper_id_: str, title: str, abstract: str, window: int = 3, stride: int = 2) -> list[Passage]:
    """Title plus overlapping windows of sentences, so the tail of a long abstract is searchable.

    The embedder truncates at 256 tokens; windows keep every sentence inside some passage, and
    prefixing the title keeps each window anchored to its paper.
    """
    passages = [Passage(f"{paper_id_}:0", paper_id_, title)]
    sentences = split_sentences(abstract)
    starts = range(0, max(len(sentences) - window, 0) + 1, stride) if sentences else range(0)
    last = -1
    for number, start in enumerate(starts, start=1):
        chunk = " ".join(sentences[start : start + window])
        passages.append(Passage(f"{paper_id_}:{number}", paper_id_, f"{title}. {chunk}"))
        last = start + window
    if sentences and last < len(sentences):
        chunk = " ".join(sentences[max(len(sentences) - window, 0) :])
        passages.append(Passage(f"{paper_id_}:{len(passages)}", paper_id_, f"{title}. {chunk}"))
    return passages


def passage_paper(passage_id: str) -> str:
    """The id of the paper a passage belongs to (passage ids are `PAPER:N`, see `make_passages`)."""
    return passage_id.rpartition(":")[0]


def passage_text(paper: Paper, passage_id: str) -> str | None:
    """The text of one of the paper's passages, rebuilt as ingest made it (None when the
    vectors are older than the abstract, until they are re-embedded)."""
    return next((p.text for p in make_passages(paper.id, paper.title, paper.abstract) if p.id == passage_id), None)


@dataclass(frozen=True)
class Hit:
    """A paper found for a query, with the evidence of why it ranked where it did."""

    paper: Paper
    score: float  # reciprocal-rank-fusion score
    similarity: float | None  # best cosine similarity of a passage; None if only BM25 found it
    bm25_rank: int | None
    dense_rank: int | None
    passage: str | None  # the best-matching passage text

    def to_json(self) -> dict[str, object]:
        return {
            "paper": self.paper.to_json(),
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "bm25_rank": self.bm25_rank,
            "dense_rank": self.dense_rank,
            "passage": self.passage,
        }
