"""Pages saved from the browser as HTML ("Save page as…", complete or HTML only).

A Hugging Face Daily Papers page is read from the JSON the page keeps its papers in (the
`data-props` of its `DailyPapers` element); an arXiv listing (`/list/<category>/new`,
`/recent`, `/pastweek`: the `<dl id='articles'>` of arxiv-browse's templates) and arXiv search
results (arxiv-search's `li.arxiv-result`) from their structure: id, title, authors, subjects
and, where the page shows it, the abstract. One paper's page is read from the `citation_*`
meta tags that arXiv's abstract pages and most publishers write for Google Scholar, or else
from its visible layout (a title heading and an "Abstract" heading, as on a Hugging Face paper
page). Any other page is read as the text a reader sees — scripts, styles and inline data left
out, one line per block — by the listing reader that takes saved text pages. Parsed by lxml's
HTML parser, which never fetches anything.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from dataclasses import replace

from lxml import html as lxml_html
from lxml.etree import ParserError

from assistant.core.dates import MissingYear, parse_bound
from assistant.core.errors import AssistantError
from assistant.core.records import Record
from assistant.ingest.readers.bibliography import given_first
from assistant.ingest.readers.listing import NotAListing, ParsedPage, parse_listing
from assistant.ingest.readers.tabular import BadRow, record_from_row

# What a reader never sees on a page.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "button"})
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "li", "ul", "ol",
                     "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "table", "blockquote", "pre",
                     "figure", "figcaption", "form", "hr", "address", "details", "summary"})
_SUBJECT = re.compile(r"\(([a-z\-]+(?:\.[A-Za-z\-]+)?)\)")  # "Software Engineering (cs.SE)"
_SUBMITTED = re.compile(r"Submitted\s+(\d{1,2}\s+\w+,?\s+\d{4})")  # "Submitted 3 March, 2025;"
_ARXIV_ID = re.compile(r"arxiv\.org/(?:abs|pdf)/([\w.\-/]+?)(?:\.pdf)?/?(?:[?#]|$)", re.IGNORECASE)
_LISTING_DATE = re.compile(r"listings? for\s+(?:\w+,\s*)?(\d{1,2}\s+\w+\s+\d{4})", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Whether a file's opening is an HTML document, whatever its name ends with."""
    head = text[:2048].lstrip("\ufeff \n\t").casefold()
    return head.startswith(("<!doctype html", "<html")) or ("<html" in head and "<head" in head)


def visible_text(root: lxml_html.HtmlElement) -> str:
    """The page's text as a reader sees it: one line per block element, inline runs joined."""
    parts: list[str] = []

    def walk(element: lxml_html.HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.casefold() in _HIDDEN:
            return
        block = tag.casefold() in _BLOCKS
        if block:
            parts.append("\n")
        if element.text and tag:
            parts.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _clean(element: lxml_html.HtmlElement | None, descriptor: bool = True) -> str:
    if element is None:
        return ""
    text = " ".join(element.text_content().split())
    return re.sub(r"^\w[\w-]*:\s*", "", text) if descriptor else text


def _arxiv_listing(root: lxml_html.HtmlElement) -> tuple[list[Record], int, str | None]:
    """The papers of an arXiv listing page, how many had no abstract on it, and the page's date."""
    match = _LISTING_DATE.search(" ".join(root.text_content().split()))
    try:
        page_date = parse_bound(match.group(1)) if match else None
    except (MissingYear, AssistantError):
        page_date = None
    records: list[Record] = []
    without = 0
    for listing in root.iterfind(".//dl[@id='articles']"):
        for dt in listing.iterfind("dt"):
            dd = dt.getnext()
            if dd is None or dd.tag != "dd":
                continue
            link = next(iter(dt.xpath(".//a[@title='Abstract']")), None)
            arxiv_id = _clean(link).removeprefix("arXiv:") if link is not None else ""
            title = _clean(next(iter(dd.xpath(".//div[contains(@class, 'list-title')]")), None))
            abstract = _clean(next(iter(dd.xpath(".//p[contains(@class, 'mathjax')]")), None), descriptor=False)
            if not title or not abstract:
                without += bool(title)
                continue
            names = tuple(n for n in (" ".join(a.text_content().split())
                                      for a in dd.xpath(".//div[contains(@class, 'list-authors')]//a")) if n)
            subjects = _clean(next(iter(dd.xpath(".//div[contains(@class, 'list-subjects')]")), None))
            records.append(Record(title=title, abstract=abstract, authors=len(names) or None, author_names=names,
                                  date=page_date, date_raw=match.group(1) if match else None,
                                  url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
                                  arxiv_id=arxiv_id or None, categories=tuple(_SUBJECT.findall(subjects))))
    return records, without, page_date


def _hugging_face(root: lxml_html.HtmlElement) -> list[Record] | None:
    """The papers of a Hugging Face Daily Papers page (or a paper's page), which the page keeps
    as JSON in the `data-props` of its `data-target="DailyPapers"` (`"PaperPage"`) element;
    None when the page has no such data."""
    records: list[Record] = []
    found = False
    for element in root.xpath("//*[@data-target='DailyPapers' or @data-target='PaperPage'][@data-props]"):
        try:
            props = json.loads(element.get("data-props") or "{}")
        except json.JSONDecodeError:
            continue
        if not isinstance(props, dict):
            continue
        items = props.get("dailyPapers") if isinstance(props.get("dailyPapers"), list) else [props]
        for item in items:
            paper = item.get("paper") if isinstance(item, dict) else None
            if not isinstance(paper, dict):
                continue
            found = True
            try:
                record = record_from_row({
                    "title": item.get("title") or paper.get("title"), "abstract": paper.get("summary"),
                    "authors": [str(a.get("name")) for a in paper.get("authors") or [] if isinstance(a, dict)] or None,
                    "date": str(paper.get("publishedAt") or item.get("publishedAt") or "")[:10] or None,
                    "arxiv_id": paper.get("id"),
                    "url": f"https://huggingface.co/papers/{paper['id']}" if paper.get("id") else None,
                }, f"paper {paper.get('id') or len(records) + 1}")
            except BadRow:
                continue
            upvotes = paper.get("upvotes")
            records.append(replace(record, upvotes=upvotes if isinstance(upvotes, int) else None))
    return records if found else None


def _with_class(name: str) -> str:
    """An XPath test for one class among an element's classes (`contains` alone would take
    `list-title` for `title`)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _first(element: lxml_html.HtmlElement, xpath: str) -> lxml_html.HtmlElement | None:
    return next(iter(element.xpath(xpath)), None)


def _without_links(element: lxml_html.HtmlElement | None) -> lxml_html.HtmlElement | None:
    """A copy without its links: arXiv's search results end each abstract with a "△ Less" link."""
    if element is None:
        return None
    copy = deepcopy(element)
    for link in copy.iterfind(".//a"):
        link.drop_tree()
    return copy


def _arxiv_search(root: lxml_html.HtmlElement) -> tuple[list[Record], int]:
    """The papers of an arXiv search results page (arxiv-search's `li.arxiv-result`), and how
    many the page showed without an abstract (a search with abstracts hidden)."""
    records: list[Record] = []
    without = 0
    for number, item in enumerate(root.xpath(f"//li[{_with_class('arxiv-result')}]"), start=1):
        link = _first(item, f".//p[{_with_class('list-title')}]/a")
        arxiv_id = _clean(link).removeprefix("arXiv:") if link is not None else ""
        title = _clean(_first(item, f".//p[{_with_class('title')}]"), descriptor=False)
        abstract = _clean(_without_links(_first(item, f".//span[{_with_class('abstract-full')}]")), descriptor=False)
        if not abstract:
            without += bool(title)
            continue
        dates = " ".join(p.text_content() for p in item.xpath(f".//p[{_with_class('is-size-7')}]"))
        first = re.search(r"v1\s+submitted\s+(\d{1,2}\s+\w+,?\s+\d{4})", dates) or _SUBMITTED.search(dates)
        venue = next((_clean(p, descriptor=False).removeprefix("Journal ref:").strip()
                      for p in item.xpath(f".//p[{_with_class('comments')}]")
                      if p.text_content().strip().startswith("Journal ref:")), None)
        try:
            record = record_from_row({
                "title": title, "abstract": abstract,
                "authors": [n for n in (_clean(a, descriptor=False)
                                        for a in item.xpath(f".//p[{_with_class('authors')}]/a")) if n] or None,
                "date": first.group(1) if first else None, "arxiv_id": arxiv_id or None,
                "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None, "venue": venue,
                "doi": next((_clean(a, descriptor=False) for a in item.xpath(".//a[contains(@href, 'doi.org/')]")), None),
                "categories": [_clean(tag, descriptor=False) for tag in item.xpath(
                    f".//div[{_with_class('tags')} and {_with_class('is-inline-block')}]/span[{_with_class('tag')}]")],
            }, f"result {number}")
        except BadRow:
            without += 1
            continue
        records.append(record)
    return records, without


def _citation_meta(root: lxml_html.HtmlElement) -> Record | None:
    """One paper from the `citation_*` meta tags (Google Scholar's inclusion guidelines) that
    arXiv's abstract pages, OpenReview, the ACL Anthology, PMLR and most publishers write;
    None when the page has no title and abstract there."""
    meta: dict[str, list[str]] = {}
    for element in root.xpath("//meta[@name][@content]"):
        name = str(element.get("name")).casefold()
        if name.startswith(("citation_", "dc.")):
            meta.setdefault(name, []).append(" ".join(str(element.get("content")).split()))

    def one(*names: str) -> str | None:
        return next((meta[name][0] for name in names if meta.get(name) and meta[name][0]), None)

    title, abstract = one("citation_title", "dc.title"), one("citation_abstract", "dc.description")
    if not title or not abstract:
        return None
    canonical = _first(root, "//link[@rel='canonical'][@href]")
    try:
        return record_from_row({
            "title": title, "abstract": abstract,
            "authors": [given_first(name) for name in meta.get("citation_author", meta.get("dc.creator", []))] or None,
            "date": one("citation_date", "citation_publication_date", "citation_online_date", "dc.date"),
            "arxiv_id": one("citation_arxiv_id"), "doi": one("citation_doi", "dc.identifier"),
            "venue": one("citation_journal_title", "citation_conference_title"),
            "url": one("citation_abstract_html_url") or (canonical.get("href") if canonical is not None else None),
            "categories": [k for keywords in meta.get("citation_keywords", []) for k in keywords.split(";")],
        }, "the page's citation data")
    except BadRow:
        return None


def _paper_page(root: lxml_html.HtmlElement) -> Record | None:
    """One paper from a page laid out as one: a title heading and an "Abstract" heading over
    the abstract's paragraphs (a Hugging Face paper page). A highlighted box under the heading
    (the page's AI-generated summary) is not the abstract. None when the page is not so."""
    title = _clean(_first(root, "//h1"), descriptor=False)
    heading = next((h for h in root.xpath("//h2 | //h3") if _clean(h, descriptor=False).rstrip(":").casefold()
                    == "abstract"), None)
    if not title or heading is None or heading.getparent() is None:
        return None
    container = heading.getparent()

    def boxed(paragraph: lxml_html.HtmlElement) -> bool:
        parent = paragraph.getparent()
        while parent is not None and parent is not container:
            if re.search(r"\bbg-|summary", parent.get("class") or ""):
                return True
            parent = parent.getparent()
        return False

    paragraphs = [_clean(p, descriptor=False) for p in container.iterfind(".//p") if not boxed(p)]
    abstract = " ".join(p for p in paragraphs if not p.startswith("AI-generated summary"))
    names = []
    for author in root.xpath(f"//*[{_with_class('author')}]"):
        link = _first(author, ".//a | .//button")
        name = _clean(author if link is None else link, descriptor=False)
        if name and name not in names:
            names.append(name)
    link = next((m.group(1) for m in map(_ARXIV_ID.search, root.xpath("//a/@href")) if m), None)
    published = re.search(r"Published on\s+(\w+\s+\d{1,2},?\s+\d{4})", " ".join(root.text_content().split()))
    try:
        return record_from_row({"title": title, "abstract": abstract, "authors": names or None,
                                "date": published.group(1) if published else None, "arxiv_id": link,
                                "url": f"https://arxiv.org/abs/{link}" if link else None}, "the page")
    except BadRow:
        return None


def parse_html(text: str) -> ParsedPage:
    """A saved HTML page's papers; NotAListing when it holds none."""
    try:
        root = lxml_html.document_fromstring(text)
    except (ParserError, ValueError) as exc:
        raise NotAListing(f"an HTML page that cannot be parsed ({exc})") from exc
    hugging_face = _hugging_face(root)
    if hugging_face is not None:
        if not hugging_face:
            raise NotAListing("a Hugging Face papers page whose papers have no abstracts")
        return ParsedPage(layout="hf-html", page_date=None, records=hugging_face)
    if root.find(".//dl[@id='articles']") is not None:
        records, without, page_date = _arxiv_listing(root)
        warnings = [f"skipped {without} paper(s) the page lists without an abstract"] if without else []
        if not records:
            raise NotAListing("an arXiv listing without abstracts (the /recent and /pastweek pages show titles only): "
                              "save the /new page, or fetch the papers as an arXiv API feed")
        return ParsedPage(layout="arxiv-html", page_date=page_date, records=records, warnings=warnings)
    if root.xpath(f"//li[{_with_class('arxiv-result')}]"):
        records, without = _arxiv_search(root)
        warnings = [f"skipped {without} result(s) the page shows without an abstract"] if without else []
        if not records:
            raise NotAListing("arXiv search results without abstracts: search again with abstracts shown")
        return ParsedPage(layout="arxiv-search-html", page_date=None, records=records, warnings=warnings)
    for layout, reader in (("citation-html", _citation_meta), ("paper-html", _paper_page)):
        paper = reader(root)
        if paper is not None:
            return ParsedPage(layout=layout, page_date=None, records=[paper])
    page = parse_listing(visible_text(root))
    return ParsedPage(layout=f"html-{page.layout}", page_date=page.page_date, records=page.records,
                      warnings=page.warnings)
