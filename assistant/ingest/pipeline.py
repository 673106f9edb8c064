"""Incremental ingest: files → records → dedupe → catalogue → passages → embeddings → vectors.

Crash-safety comes from ordering: a file's papers are committed to SQLite in one transaction
and marked "not embedded"; vectors are written next and only then marked embedded. Whatever
is interrupted is found and finished by the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import SourceError
from assistant.core.progress import NoProgress, Progress
from assistant.core.records import Record
from assistant.store.data_dir import Store
from assistant.store.sync import sync_vectors

if TYPE_CHECKING:  # page reading is imported where pages are read: search and ask read none
    from assistant.ingest.dedupe import TitleMatcher

SEEDED_KEY = "seeded"
BUNDLED_PREFIX = "bundled:"


@dataclass
class FileReport:
    """The outcome of ingesting one file, as shown to the user."""

    path: str
    status: str  # added | updated | unchanged | failed
    layout: str | None = None
    papers: int = 0
    new: int = 0
    changed: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def bundled_pages() -> list[Path]:
    """The sample listing pages shipped inside the package as the default collection."""
    folder = resources.files("assistant") / "data" / "collection"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".txt"))


def _page_asset(path: Path, top: Path) -> bool:
    """Whether a file sits in the `NAME_files` folder a browser writes beside `NAME.html` when it
    saves a "Web page, complete": the page's scripts, styles and frames, not the user's papers."""
    for folder in path.relative_to(top).parents:
        stem = folder.name.removesuffix("_files")
        if folder.name.endswith("_files") and any((top / folder.parent / f"{stem}{suffix}").is_file()
                                                   for suffix in (".html", ".htm", ".xhtml")):
            return True
    return False


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: the files given, and the supported files inside given folders (less the
    assets folders of pages saved complete)."""
    from assistant.ingest.readers import SUPPORTED_SUFFIXES

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                                and not _page_asset(p, path)))
        else:
            files.append(path)
    return files


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ingest_file(store: Store, matcher: TitleMatcher, path: Path, source: str) -> FileReport:
    """Ingest one file; a bad file yields a failed report and writes nothing."""
    try:
        digest = _hash_file(path)
    except OSError as exc:
        return FileReport(str(path), "failed", error=f"{path}: cannot read: {exc.strerror or exc}")
    previous = store.catalog.page_hash(source)
    if previous == digest or (previous is None and store.catalog.has_content(digest)):
        return FileReport(str(path), "unchanged")
    from assistant.ingest.readers import read_source

    try:
        parsed = read_source(path)
    except SourceError as exc:
        return FileReport(str(path), "failed", error=str(exc))
    sightings = [(_paper_of(store, matcher, record), record) for record in parsed.records]
    change = store.catalog.replace_page(source, path.name, digest, parsed.layout, parsed.page_date, sightings, _now())
    return FileReport(
        str(path), "added" if previous is None else "updated", layout=parsed.layout, papers=len(parsed.records),
        new=change.new, changed=change.changed, warnings=parsed.warnings,
    )


def _paper_of(store: Store, matcher: TitleMatcher, record: Record) -> str:
    """The paper a record is: the one with its arXiv id or DOI when there is one (a feed's
    title and a .bib's may be spelled apart), else by its title."""
    known = store.catalog.by_identifier(record.arxiv_id, record.doi)
    if known is None:
        return matcher.resolve(record.key, record.abstract)
    matcher.learn(record.key, known)
    return known


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest(store: Store, paths: Iterable[Path], progress: Progress | None = None, *, bundled: bool = False) -> list[FileReport]:
    """Ingest files and folders, then bring the vectors up to date. Never raises for a bad file."""
    from assistant.ingest.dedupe import TitleMatcher

    progress = progress or NoProgress()
    files = expand(paths)
    reports: list[FileReport] = []
    with store.writing(progress):
        # built under the lock, so that it knows every paper an earlier writer added
        matcher = TitleMatcher(store.catalog.aliases(), store.catalog.abstract)
        progress.start("Reading pages", len(files))
        for path in files:
            if not path.exists():
                reports.append(FileReport(str(path), "failed", error=f"{path}: no such file or folder"))
            else:
                source = BUNDLED_PREFIX + path.name if bundled else str(path.resolve())
                reports.append(ingest_file(store, matcher, path, source))
            progress.advance()
        progress.stop()
        sync_vectors(store, progress)
    return reports


def ingest_samples(store: Store, progress: Progress | None = None) -> list[FileReport]:
    """Add the bundled sample pages, as a user asks for them (`ingest --samples`)."""
    return ingest(store, bundled_pages(), progress, bundled=True)


def needs_seeding(store: Store) -> bool:
    return store.settings.seed_bundled and store.catalog.get_meta(SEEDED_KEY) is None


def ensure_seeded(store: Store, progress: Progress | None = None) -> list[FileReport] | None:
    """On first use of an empty store, ingest the bundled collection (once; never again after)."""
    if not needs_seeding(store):
        return None
    reports = None
    if store.catalog.counts()["pages"] == 0:
        reports = ingest(store, bundled_pages(), progress, bundled=True)
    store.catalog.set_meta(SEEDED_KEY, _now())
    return reports


def prepare(store: Store, progress: Progress | None = None) -> bool:
    """Make a store ready for questions: seed it on first use, and finish an interrupted ingest.
    Returns whether the bundled collection was indexed just now."""
    if needs_seeding(store):
        with store.writing(progress):  # another process may be seeding: wait for it
            seeded = ensure_seeded(store, progress) is not None
            sync_vectors(store, progress)
        return seeded
    with store.writing_if_free() as held:
        if held:  # otherwise the writer at work finishes the vectors itself
            sync_vectors(store, progress)
    return False
