"""Fuzzing the page (text and HTML), feed, BibTeX/RIS/CSL-JSON, JSONL and CSV parsers: whatever a file holds, `read_source` returns papers
or raises one SourceError naming the file, never another exception, and never hangs (each
example has a deadline)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core.errors import SourceError
from assistant.ingest.pipeline import bundled_pages
from assistant.ingest.readers import ParsedPage, read_source
from tests.conftest import daily_page, fake_papers

# A quick, repeatable run by default; FUZZ_EXAMPLES=5000 for a long random one.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow],
                derandomize="FUZZ_EXAMPLES" not in os.environ)
PAGES = [path.read_text(encoding="utf-8") for path in bundled_pages()]
SUFFIXES = st.sampled_from([".txt", ".md", ".jsonl", ".csv", ".xml", ".html", ".bib", ".ris", ".json"])
FORMATS = Path(__file__).parent.parent / "data" / "formats"
EXPORTS = [(path.read_text(encoding="utf-8"), path.suffix) for path in sorted(FORMATS.glob("*"))
           if path.suffix in {".xml", ".html", ".bib", ".ris", ".json"}]
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1", "shift_jis",
                             "koi8-r", "gb18030"])
tried: dict[str, int] = {}  # inputs tried per kind, printed at the end of the module's run


def outcome(data: bytes, suffix: str, kind: str) -> ParsedPage | None:
    """Parse `data` saved under `suffix`: papers, or None for a clear refusal."""
    tried[kind] = tried.get(kind, 0) + 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            page = read_source(path)
        except SourceError as exc:
            assert str(exc).startswith(str(path)) and exc.reason, exc
            return None
    assert page.records, "a parsed file has papers"
    for record in page.records:
        assert isinstance(record.title, str) and isinstance(record.abstract, str)
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in record.title + record.abstract)
    return page


@FUZZ
@given(st.text(), SUFFIXES)
def test_random_text(text: str, suffix: str) -> None:
    outcome(text.encode("utf-8", "surrogatepass"), suffix, "random text")


@FUZZ
@given(st.binary(max_size=4096), SUFFIXES)
def test_random_bytes_and_nul(data: bytes, suffix: str) -> None:
    outcome(data, suffix, "random bytes")


@FUZZ
@given(st.sampled_from(range(len(PAGES))), st.integers(0, 250_000), st.integers(0, 250_000))
def test_truncated_real_pages(index: int, start: int, length: int) -> None:
    text = PAGES[index]
    outcome(text[start % len(text):][:length].encode(), ".txt", "truncated page")


@FUZZ
@given(st.sampled_from(range(len(EXPORTS))), st.integers(0, 250_000), st.integers(0, 250_000), st.booleans())
def test_truncated_real_feeds_and_exports(index: int, start: int, length: int, renamed: bool) -> None:
    text, suffix = EXPORTS[index]
    outcome(text[start % len(text):][:length].encode(), ".txt" if renamed else suffix, "truncated feed or export")


@FUZZ
@given(st.sampled_from(range(len(EXPORTS))), st.randoms(use_true_random=False))
def test_shuffled_real_feeds_and_exports(index: int, rng: random.Random) -> None:
    text, suffix = EXPORTS[index]
    lines = text.split("\n")
    rng.shuffle(lines)
    outcome("\n".join(lines).encode(), suffix, "shuffled feed or export")


@FUZZ
@given(st.sampled_from(range(len(PAGES))), st.randoms(use_true_random=False))
def test_shuffled_real_pages(index: int, rng: random.Random) -> None:
    lines = PAGES[index].split("\n")
    rng.shuffle(lines)
    outcome("\n".join(lines).encode(), ".txt", "shuffled page")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(range(len(PAGES))), st.integers(0, 200_000), st.integers(0, 20_000)),
                min_size=2, max_size=5))
def test_mixed_layouts(pieces: list[tuple[int, int, int]]) -> None:
    text = "\n".join(PAGES[i][start % len(PAGES[i]):][:length] for i, start, length in pieces)
    outcome(text.encode(), ".txt", "mixed layouts")


@FUZZ
@given(st.sampled_from(range(len(PAGES))), ENCODINGS)
def test_other_encodings(index: int, encoding: str) -> None:
    outcome(PAGES[index].encode(encoding, errors="replace"), ".txt", "other encodings")


@FUZZ
@given(st.integers(1, 3_000_000), st.sampled_from(["x", "a ", "é", "\t", "[", "—"]), SUFFIXES)
def test_giant_lines(size: int, unit: str, suffix: str) -> None:
    head = daily_page(fake_papers(2))
    outcome((head + unit * (size // len(unit)) + "\n").encode(), suffix, "giant lines")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)
FIELDS = st.sampled_from(["title", "abstract", "authors", "date", "url", "published", "Title", "ABSTRACT"])
ODD_TITLES = st.sampled_from(["...", "!!!", "—", "?", "[]", "()", "$$$", "# # #", "\u200b", "、。", "-", " "])
ODD_DATES = st.sampled_from(["Feb 30, 2024", "2024-02-30", "10000-01-01", "year 10000", "Jan 1, 99999", "0000-00-00",
                             "-1", "1e9", "13/13/2013", "Mar 32", "2024-13-01", "NaN", "", "📅"])


@FUZZ
@given(st.lists(st.dictionaries(FIELDS, JSON_VALUES | ODD_TITLES | ODD_DATES, max_size=6), min_size=1, max_size=8))
def test_jsonl_rows_of_any_shape(rows: list[dict[str, object]]) -> None:
    outcome("\n".join(json.dumps(row) for row in rows).encode(), ".jsonl", "JSONL rows")


@FUZZ
@given(st.lists(st.tuples(ODD_TITLES | st.text(max_size=30), st.text(max_size=200), ODD_DATES,
                          st.text(max_size=6)), min_size=1, max_size=8))
def test_csv_rows_of_any_shape(rows: list[tuple[str, str, str, str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "abstract", "date", "authors"])
    writer.writerows(rows)
    outcome(buffer.getvalue().encode(), ".csv", "CSV rows")


@FUZZ
@given(st.lists(st.tuples(ODD_TITLES, ODD_DATES, st.integers(-5, 10**12)), min_size=1, max_size=6))
def test_listing_pages_with_odd_titles_and_impossible_dates(rows: list[tuple[str, str, int]]) -> None:
    papers = [{"title": title, "abstract": "We study odd inputs. The parser must hold. " * 3, "authors": authors,
               "date": date} for title, date, authors in rows]
    outcome(daily_page(papers).encode(), ".txt", "odd titles and dates")


def test_a_20000_entry_page() -> None:
    page = outcome(daily_page(fake_papers(20_000)).encode(), ".txt", "20,000-entry page")
    assert page is not None and len(page.records) == 20_000


PEAK = r"""
import json, random, resource, sys
from pathlib import Path
path = Path(sys.argv[1])
rng = random.Random(0)
words = "sparse spiking graph latent causal kernel bayesian diffusion robotic neural protein quantum".split()
with path.open("w") as out:
    i = 0
    while out.tell() < 50_000_000:
        out.write(json.dumps({"title": f"Paper {i} on " + " ".join(rng.sample(words, 4)), "date": "2024-03-01",
                              "abstract": " ".join(rng.choice(words) for _ in range(150)), "authors": 3}) + "\n")
        i += 1
from assistant.ingest.readers import read_source
page = read_source(path)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (pytest, with torch loaded)
status = Path("/proc/self/status")
hwm = [int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:")] \
    if status.exists() else [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]
print(json.dumps({"records": len(page.records), "peak_mb": hwm[0] / 1024}))
"""


def test_a_50_mb_file_is_parsed_in_bounded_memory(tmp_path: Path) -> None:
    """Peak memory (in a process of its own) stays within a few times the file's size."""
    run = subprocess.run([sys.executable, "-c", PEAK, str(tmp_path / "big.jsonl")], capture_output=True, text=True,
                         timeout=600, check=True)
    figures = json.loads(run.stdout)
    print(f"\n50 MB JSONL: {figures['records']} papers, peak memory {figures['peak_mb']:.0f} MB")
    assert figures["records"] > 35_000 and figures["peak_mb"] < 400, figures


def test_a_page_over_the_size_limit_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as out:
        out.truncate(50_000_000)  # sparse: 50 MB of nothing, never read
    with pytest.raises(SourceError, match="too large"):
        read_source(path)


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried() -> object:
    yield
    print("\nfuzz inputs tried:", ", ".join(f"{kind} {count}" for kind, count in tried.items()),
          f"(total {sum(tried.values())})")
