"""Taking papers out again: every paper an ingested file brought in (unless another file lists
it too), or single papers by id or title. The catalogue, its keyword index and the vectors
change together, under the writer lock, as an ingest does; a removal that is interrupted
leaves vector deletions queued, which the next command finishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import AssistantError
from assistant.core.progress import NoProgress, Progress
from assistant.ingest.pipeline import BUNDLED_PREFIX
from assistant.store.data_dir import Store
from assistant.store.sync import sync_vectors


@dataclass
class Removal:
    """What one thing named on the command line took out."""

    target: str
    kind: str  # file | paper | unknown
    removed: int = 0  # papers gone from the collection
    kept: int = 0  # papers of a removed file that another file still lists
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _stored_paths(store: Store, target: str) -> list[str]:
    """The ingested files `target` names: a path (a folder names every file under it), or the
    name a file was ingested under (`daily-papers-apr17.txt` for a bundled page)."""
    path = Path(target).expanduser()
    resolved = str(path.resolve()) if path.exists() or path.is_absolute() else None
    found = store.catalog.page_paths(resolved or target, path.name)
    found += store.catalog.page_paths(BUNDLED_PREFIX + path.name, BUNDLED_PREFIX + path.name)
    if path.is_dir():
        found += [p["path"] for p in store.catalog.pages() if str(p["path"]).startswith(str(path.resolve()) + "/")]
    return list(dict.fromkeys(str(p) for p in found))


def remove(store: Store, targets: Iterable[str], progress: Progress | None = None) -> list[Removal]:
    """Remove files' papers and single papers; a target that names nothing is reported, not raised."""
    reports: list[Removal] = []
    with store.writing(progress or NoProgress()):
        for target in targets:
            paths = _stored_paths(store, target)
            if paths:
                changes = [store.catalog.remove_page(path) for path in paths]
                reports.append(Removal(target, "file", removed=sum(c.removed for c in changes),
                                       kept=sum(c.changed + c.unchanged for c in changes)))
                continue
            try:
                paper = store.catalog.resolve(target)
            except AssistantError as exc:
                reports.append(Removal(target, "unknown", error=str(exc)))
                continue
            reports.append(Removal(target, "paper", removed=store.catalog.remove_papers([paper.id])))
        sync_vectors(store, progress)
    return reports
