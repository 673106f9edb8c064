"""Saved conversations (SQLite in the data directory) and their Markdown export.

A turn keeps the verified result as JSON, so a reopened conversation shows the same answer,
sources and removed sentences as when it was asked.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL, answer TEXT NOT NULL, result TEXT NOT NULL, created TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SavedTurn:
    question: str
    answer: str
    result: dict[str, object]  # Result.to_json()


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    updated: str
    turns: int


class ConversationStore:
    """All saved conversations of one data directory."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def create(self, title: str) -> int:
        with self.db:
            now = _now()
            cursor = self.db.execute("INSERT INTO conversations(title, created, updated) VALUES (?, ?, ?)", (title, now, now))
        return int(cursor.lastrowid or 0)

    def add_turn(self, conversation: int, question: str, answer: str, result: dict[str, object]) -> None:
        with self.db:
            now = _now()
            self.db.execute("INSERT INTO turns(conversation, question, answer, result, created) VALUES (?, ?, ?, ?, ?)",
                            (conversation, question, answer, json.dumps(result), now))
            self.db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))

    def rename(self, conversation: int, title: str) -> None:
        with self.db:
            self.db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation))

    def delete(self, conversation: int) -> None:
        with self.db:
            self.db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    def list(self) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT c.id, c.title, c.updated, COUNT(t.id) AS turns FROM conversations c"
            " LEFT JOIN turns t ON t.conversation = c.id GROUP BY c.id ORDER BY c.updated DESC, c.id DESC"
        )
        return [Conversation(r["id"], r["title"], r["updated"], r["turns"]) for r in rows]

    def title(self, conversation: int) -> str:
        row = self.db.execute("SELECT title FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return "" if row is None else str(row["title"])

    def turns(self, conversation: int) -> list[SavedTurn]:
        rows = self.db.execute("SELECT question, answer, result FROM turns WHERE conversation = ? ORDER BY id", (conversation,))
        return [SavedTurn(r["question"], r["answer"], json.loads(r["result"])) for r in rows]


def to_markdown(title: str, turns: list[SavedTurn]) -> str:
    """A conversation as a Markdown document: each question, the verified answer, its sources."""
    lines = [f"# {title}", ""]
    for turn in turns:
        lines += [f"## {turn.question}", "", turn.answer, ""]
        sources = turn.result.get("sources") or []
        if sources:
            lines.append("Sources:")
            for source in sources:  # type: ignore[union-attr]
                meta = " · ".join(str(x) for x in (source.get("date") or source.get("date_raw"),
                                                  f"{source['authors']} authors" if source.get("authors") else None) if x)
                link = next((l["url"] for l in source.get("links") or []), source.get("url"))
                lines.append(f"{source['number']}. {source['title']}" + (f" ({meta})" if meta else "") + (f" — {link}" if link else ""))
            lines.append("")
        dropped = turn.result.get("dropped") or []
        if dropped:
            lines.append("Removed by verification: " + " ".join(f"~~{d['text']}~~" for d in dropped))  # type: ignore[index]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
