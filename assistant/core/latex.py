"""LaTeX in titles and abstracts, as a reader sees it: arXiv abstracts are written in LaTeX
("by $11.35\\times$", "\\textbf{80\\% of Fate-H}", "74.2\\%", "{\\"o}") and the markup is noise on
a screen. The catalogue keeps and indexes the text as written (so search still matches it);
papers leave the store through `readable`.
"""

from __future__ import annotations

import re

# Text with none of these is plain and is left exactly as it is.
_MARKUP = re.compile(r"\\[A-Za-z]+|\\[%$&#_{}]|\$[^$\n]+\$|\{\\.|``")  # `` opens LaTeX's “quotes”
# A bare "%" starts a LaTeX comment, which would swallow the rest of the line: in an abstract
# it is a percentage ("65.6% ANLS").
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_DOLLAR = re.compile(r"(?<!\\)\$")
# LaTeX's single quotes (`spiky'), which the converter leaves as typed: a backquote opening a
# short run that a closing quote ends, not inside a word ("don't") nor part of ``double''.
_SINGLE_QUOTES = re.compile(r"(?<![`\w])`([^`'\n]{1,80})'(?![\w'])")
# References to a paper's body mean nothing in an abstract shown alone.
_REFERENCES = re.compile(r"~?\\(?:cite[pt]?|ref|eqref|label|footnote)\{[^}]*\}")
_MACRO = re.compile(r"\\([A-Za-z]+)")
# Macros papers define for themselves, which the converter does not know and would drop
# ("(\aka, …)" → "(, …)"): the common abbreviations, and font switches that only style.
_ABBREVIATIONS = {"eg": "e.g.", "ie": "i.e.", "etal": "et al.", "aka": "a.k.a.", "wrt": "w.r.t.", "vs": "vs.",
                  "etc": "etc.", "cf": "cf.", "iid": "i.i.d."}
_FONT_SWITCHES = frozenset("it bf rm sf tt sc em sl up md normalfont tiny small footnotesize large Large huge".split())


def readable(text: str) -> str:
    """`text` with its LaTeX markup turned into the characters it stands for ("$11.35\\times$"
    → "11.35×", "\\textbf{80\\% of}" → "80% of", "Schr{\\"o}dinger" → "Schrödinger"); text
    without markup is returned unchanged but for `single' quotes, and so is text the converter
    cannot read."""
    text = _SINGLE_QUOTES.sub("‘\\1’", text)
    if not _MARKUP.search(text):
        return text
    prepared = _REFERENCES.sub("", _BARE_PERCENT.sub(r"\\%", text))
    if len(_DOLLAR.findall(prepared)) % 2:  # "costs $5": a lone dollar sign, not maths
        prepared = _DOLLAR.sub(r"\\$", prepared)
    from pylatexenc.latex2text import LatexNodes2Text, get_default_latex_context_db  # ~50 ms: only when needed

    known = get_default_latex_context_db()

    def unknown_macro(match: re.Match[str]) -> str:
        """A macro of the paper's own is shown by its name ("\\ours" → "ours"), never dropped."""
        name = match.group(1)
        if known.get_macro_spec(name) is not None:
            return match.group(0)
        return _ABBREVIATIONS.get(name, "" if name in _FONT_SWITCHES else name)

    prepared = _MACRO.sub(unknown_macro, prepared)
    try:
        converted = LatexNodes2Text(math_mode="text", strict_latex_spaces=False).latex_to_text(prepared)
    except Exception:  # noqa: BLE001 - pylatexenc raises plain errors on odd input; the text as written is shown
        return text
    return " ".join(converted.replace("\xa0", " ").split())
