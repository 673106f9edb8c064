"""Papers out in the formats a bibliography takes: BibTeX (written by bibtexparser, LaTeX-encoded
so that LaTeX and bibtexparser read it back), CSL-JSON and RIS. Works on a paper's JSON form
(`Paper.to_json`, a source of a result), so the CLI and the chat export the same entries.

Citation keys follow the common `vaswani2017attention` pattern (first author's family name,
year, first word of the title that is not a stop word), made unique within one export by a
letter (`…2017attentiona`), so the same papers always get the same keys.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

FORMATS = ("bibtex", "csl-json", "ris")
_SKIPPED_WORDS = frozenset("a an the on of in for to and with towards toward from via is are do does can how what why".split())
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/([\w.\-/]+?)(?:v\d+)?(?:\.pdf)?$")


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.casefold())


def _family(name: str) -> str:
    """The family name of "Given Family" (the form the catalogue keeps names in)."""
    return name.split()[-1] if name.split() else ""


def _year(paper: Mapping[str, Any]) -> str:
    date = str(paper.get("date") or "")
    return date[:4] if re.match(r"\d{4}", date) else ""


def keys(papers: Iterable[Mapping[str, Any]]) -> list[str]:
    """One citation key per paper, unique within the list."""
    made: list[str] = []
    for paper in papers:
        names = list(paper.get("author_names") or [])
        words = [_ascii_word(w) for w in re.findall(r"[\w'’-]+", str(paper.get("title") or ""))]
        first = next((w for w in words if w and w not in _SKIPPED_WORDS), "paper")
        base = (_ascii_word(_family(names[0])) if names else "") + _year(paper) + first
        key, suffix = base, 0
        while key in made:
            key = base + "abcdefghijklmnopqrstuvwxyz"[suffix % 26] * (suffix // 26 + 1)
            suffix += 1
        made.append(key)
    return made


def _arxiv_id(paper: Mapping[str, Any]) -> str | None:
    if paper.get("arxiv_id"):
        return str(paper["arxiv_id"])
    match = _ARXIV.search(str(paper.get("url") or ""))
    return match.group(1) if match else None


def _bibtex_name(name: str) -> str:
    """"Ashish Vaswani" → "Vaswani, Ashish": BibTeX's unambiguous order."""
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def bibtex(papers: list[Mapping[str, Any]]) -> str:
    """The papers as BibTeX `@misc` entries (title, authors, year, venue, DOI, arXiv id, URL,
    abstract). No month: a date read from "2024" is stored as 2024-01-01, and January would be
    a guess."""
    import bibtexparser
    from bibtexparser.library import Library
    from bibtexparser.middlewares import LatexEncodingMiddleware
    from bibtexparser.model import Entry, Field

    library = Library()
    for key, paper in zip(keys(papers), papers):
        fields = [Field("title", paper.get("title") or "")]
        if paper.get("author_names"):
            fields.append(Field("author", " and ".join(_bibtex_name(n) for n in paper["author_names"])))
        if _year(paper):
            fields.append(Field("year", _year(paper)))
        if paper.get("venue"):
            fields.append(Field("howpublished", paper["venue"]))
        if paper.get("doi"):
            fields.append(Field("doi", paper["doi"]))
        arxiv = _arxiv_id(paper)
        if arxiv:
            fields += [Field("eprint", arxiv), Field("archiveprefix", "arXiv")]
        if paper.get("url"):
            fields.append(Field("url", paper["url"]))
        if paper.get("abstract"):
            fields.append(Field("abstract", paper["abstract"]))
        library.add(Entry("misc", key, fields))
    # URLs stay as written (encoding would escape their "_" and "%"); a title keeps its
    # capitals in an extra pair of braces, or BibTeX styles lower-case "LLM" and "GPT-4"
    urls = {entry.key: entry.fields_dict["url"].value for entry in library.entries if "url" in entry.fields_dict}
    encoded = LatexEncodingMiddleware(keep_math=True).transform(library)
    for entry in encoded.entries:
        if entry.key in urls:
            entry.set_field(Field("url", urls[entry.key]))
        entry.set_field(Field("title", "{" + entry.fields_dict["title"].value + "}"))
    return bibtexparser.write_string(encoded)


def csl_json(papers: list[Mapping[str, Any]]) -> str:
    """The papers as CSL-JSON items, what Zotero, Pandoc and citeproc read."""
    items = []
    for key, paper in zip(keys(papers), papers):
        item: dict[str, Any] = {"id": key, "type": "article", "title": paper.get("title") or ""}
        names = list(paper.get("author_names") or [])
        if names:
            item["author"] = [{"family": _family(n), "given": " ".join(n.split()[:-1])} if len(n.split()) > 1
                              else {"literal": n} for n in names]
        date = str(paper.get("date") or "")
        if _year(paper):
            parts = [int(p) for p in date.split("-")[:3] if p.isdigit()]
            item["issued"] = {"date-parts": [parts]}
        if paper.get("url"):
            item["URL"] = paper["url"]
        if paper.get("doi"):
            item["DOI"] = paper["doi"]
        if paper.get("venue"):
            item["container-title"] = paper["venue"]
        if _arxiv_id(paper):
            item["number"] = f"arXiv:{_arxiv_id(paper)}"
            item["publisher"] = "arXiv"
        if paper.get("abstract"):
            item["abstract"] = paper["abstract"]
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def ris(papers: list[Mapping[str, Any]]) -> str:
    """The papers as RIS records, what EndNote, Mendeley and Zotero import."""
    lines: list[str] = []
    for paper in papers:
        lines.append("TY  - GEN")
        lines.append(f"TI  - {paper.get('title') or ''}")
        lines += [f"AU  - {_bibtex_name(n)}" for n in paper.get("author_names") or []]
        if paper.get("date"):
            lines.append(f"DA  - {str(paper['date']).replace('-', '/')}")
        if _year(paper):
            lines.append(f"PY  - {_year(paper)}")
        if paper.get("url"):
            lines.append(f"UR  - {paper['url']}")
        if paper.get("doi"):
            lines.append(f"DO  - {paper['doi']}")
        if paper.get("venue"):
            lines.append(f"T2  - {paper['venue']}")
        if paper.get("abstract"):
            lines.append(f"AB  - {paper['abstract']}")
        lines += ["ER  - ", ""]
    return "\n".join(lines)


def export(papers: list[Mapping[str, Any]], fmt: str) -> str:
    """The papers in one of `FORMATS`."""
    return {"bibtex": bibtex, "csl-json": csl_json, "ris": ris}[fmt](papers)
