"""`assistant check`: do the catalogue (SQLite) and the vectors (Chroma) agree exactly, and can
what does not agree be repaired without losing anything?

The catalogue is the source of truth. Every paper whose vectors are marked current must have
exactly its passages in the vector store, and the store must hold nothing else; the keyword
index must have one row per paper; SQLite itself must pass its integrity check. Repair only
ever removes vectors and index rows (which are rebuilt from the catalogue), never papers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.core.progress import Progress
from assistant.core.records import make_passages
from assistant.store.conversations import ConversationStore
from assistant.store.data_dir import Store
from assistant.store.sync import sync_vectors


@dataclass
class CheckReport:
    """What disagrees; empty lists mean the store is consistent."""

    papers: int = 0
    passages: int = 0
    pending: list[str] = field(default_factory=list)  # papers still to embed (an unfinished ingest)
    orphans: list[str] = field(default_factory=list)  # passages of no current paper
    missing: list[str] = field(default_factory=list)  # papers marked embedded whose passages are missing
    keyword_rows: int = 0
    integrity: str = "ok"
    conversations: int = 0
    unfinished_answers: int = 0  # kept and marked: information, not a disagreement
    conversations_integrity: str = "ok"

    @property
    def consistent(self) -> bool:
        return not (self.pending or self.orphans or self.missing) and self.keyword_rows == self.papers \
            and self.integrity == "ok" and self.conversations_integrity == "ok"

    def problems(self) -> list[str]:
        """One line per kind of disagreement, for people."""
        lines = []
        if self.integrity != "ok":
            lines.append(f"SQLite integrity check: {self.integrity}")
        if self.pending:
            lines.append(f"{len(self.pending)} paper(s) not embedded yet (an ingest was interrupted)")
        if self.missing:
            lines.append(f"{len(self.missing)} paper(s) marked embedded but missing passages in the vector store")
        if self.orphans:
            lines.append(f"{len(self.orphans)} passage(s) in the vector store belong to no current paper")
        if self.keyword_rows != self.papers:
            lines.append(f"the keyword index has {self.keyword_rows} rows for {self.papers} papers")
        if self.conversations_integrity != "ok":
            lines.append(f"saved conversations fail SQLite's integrity check ({self.conversations_integrity}); "
                         "restore conversations.sqlite3 from a backup")
        return lines

    def to_json(self) -> dict[str, object]:
        return {"consistent": self.consistent, "papers": self.papers, "passages": self.passages,
                "pending_embeddings": len(self.pending), "missing": self.missing, "orphans": self.orphans,
                "keyword_rows": self.keyword_rows, "integrity": self.integrity, "conversations": self.conversations,
                "unfinished_answers": self.unfinished_answers, "conversations_integrity": self.conversations_integrity,
                "problems": self.problems()}


def check(store: Store, conversations: ConversationStore | None = None) -> CheckReport:
    """Compare the catalogue with the vector store and the keyword index (reads only), and
    check the saved conversations when given."""
    catalog = store.catalog
    report = CheckReport(integrity=catalog.integrity())
    if conversations is not None:
        report.conversations_integrity, report.conversations, report.unfinished_answers = conversations.health()
    states = catalog.embedding_states()
    report.papers = len(states)
    report.keyword_rows = catalog.keyword_rows()
    stored = store.vectors.ids()
    report.passages = len(stored)
    expected: set[str] = set()
    for paper_id, title, abstract, pending in states:
        ids = {p.id for p in make_passages(paper_id, title, abstract)}
        if pending:
            report.pending.append(paper_id)
            continue
        expected |= ids
        if not ids <= stored:
            report.missing.append(paper_id)
    pending = set(report.pending)
    # passages of a paper still to embed are replaced when it is embedded: not orphans
    report.orphans = sorted(i for i in stored - expected if i.split(":")[0] not in pending)
    return report


def repair(store: Store, progress: Progress | None = None, conversations: ConversationStore | None = None) -> CheckReport:
    """Make the store consistent: drop orphan passages, re-embed papers with missing or pending
    passages, rebuild the keyword index if it disagrees; returns a fresh check.

    What to repair is found again under the writer lock, so a writer that finished meanwhile
    is not "repaired" against a stale report."""
    with store.writing(progress):
        report = check(store, conversations)
        if report.integrity != "ok":
            return report  # a damaged SQLite file is not something to rewrite in place
        if report.orphans:
            store.vectors.delete_ids(report.orphans)
        if report.missing:
            store.catalog.forget_embeddings(report.missing)
        if report.keyword_rows != report.papers:
            store.catalog.rebuild_fts()
        sync_vectors(store, progress)
    return check(store, conversations)
