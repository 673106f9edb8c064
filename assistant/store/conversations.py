"""Saved conversations (SQLite in the data directory) and their Markdown export.

A turn keeps the verified result as JSON, so a reopened conversation shows the same answer,
sources and removed sentences as when it was asked.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.core import wording
from assistant.core.errors import StoreError, storage_failure
from assistant.core.safe_text import inert, inert_json
from assistant.store.migrations import Step, script, upgrade

# Upgrade steps, oldest first (see migrations.py); a new release appends, never edits.
UPGRADES = [
    Step("create the conversation tables", script("""
        CREATE TABLE IF NOT EXISTS conversations (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS turns (
            id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            question TEXT NOT NULL, answer TEXT NOT NULL, result TEXT NOT NULL, created TEXT NOT NULL
        )""")),
    # Summaries asked from the chat are saved too, but only answers feed follow-up questions.
    Step("record what each turn was", script("ALTER TABLE turns ADD COLUMN kind TEXT NOT NULL DEFAULT 'answer'")),
    # A turn is saved when asked and completed when answered: a crash keeps the question.
    Step("mark unfinished answers", script("ALTER TABLE turns ADD COLUMN complete INTEGER NOT NULL DEFAULT 1")),
    # Past conversations are found by any word of their questions and answers, as papers are.
    Step("index questions and answers for search", lambda db: _index_turns(db)),
]

_TURN_TRIGGERS = (
    "CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN"
    " INSERT INTO turns_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer); END",
    "CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN"
    " INSERT INTO turns_fts(turns_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer);"
    " END",
    "CREATE TRIGGER turns_fts_update AFTER UPDATE OF question, answer ON turns BEGIN"
    " INSERT INTO turns_fts(turns_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer);"
    " INSERT INTO turns_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer); END",
)


def _index_turns(db: sqlite3.Connection) -> None:
    """An FTS5 index over the turns' questions and answers, kept by triggers, filled from the
    turns already saved."""
    db.execute("CREATE VIRTUAL TABLE turns_fts USING fts5(question, answer, content='turns', content_rowid='id')")
    for trigger in _TURN_TRIGGERS:
        db.execute(trigger)
    db.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")




def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SavedTurn:
    question: str  # what the user asked, or "Summarise: <title>" for a summary
    answer: str
    result: dict[str, Any]  # Result.to_json()
    kind: str = "answer"  # answer | paper | topic | digest: only answers are follow-up history
    complete: bool = True  # False: the assistant stopped (crashed, was killed) while writing it


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
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA foreign_keys=ON")
            upgrade(self.db, path, UPGRADES)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{path} cannot be read as saved conversations ({exc}). It was not changed: restore it "
                             f"from a backup, or point --data-dir elsewhere") from exc
        except StoreError:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a full or read-only disk becomes a StoreError that the chat shows
        (the transaction is rolled back, so nothing saved before is touched)."""
        try:
            with self.db:
                yield self.db
        except sqlite3.OperationalError as exc:
            failure = storage_failure(exc, self.path.parent)
            if failure is None:
                raise
            raise failure from exc

    def health(self) -> tuple[str, int, int]:
        """(SQLite's integrity verdict, conversations, answers left unfinished by a crash or a
        kill): what `assistant check` reports. Unfinished answers are kept, marked as such."""
        integrity = str(self.db.execute("PRAGMA integrity_check").fetchone()[0])
        conversations = int(self.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])
        unfinished = int(self.db.execute("SELECT COUNT(*) FROM turns WHERE complete = 0").fetchone()[0])
        return integrity, conversations, unfinished

    def create(self, title: str) -> int:
        with self._writing():
            now = _now()
            cursor = self.db.execute("INSERT INTO conversations(title, created, updated) VALUES (?, ?, ?)", (title, now, now))
        return int(cursor.lastrowid or 0)

    def exists(self, conversation: int) -> bool:
        return self.db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation,)).fetchone() is not None

    def begin_turn(self, conversation: int, question: str, kind: str = "answer") -> int:
        """Save a question as it is asked, marked unfinished until `finish_turn`; returns its id."""
        with self._writing():
            now = _now()
            cursor = self.db.execute("INSERT INTO turns(conversation, question, answer, result, created, kind, complete)"
                                     " VALUES (?, ?, '', '{}', ?, ?, 0)", (conversation, question, now, kind))
            self.db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
        return int(cursor.lastrowid or 0)

    def finish_turn(self, turn: int, answer: str, result: dict[str, object]) -> None:
        with self._writing():
            self.db.execute("UPDATE turns SET answer = ?, result = ?, complete = 1 WHERE id = ?",
                            (answer, json.dumps(result), turn))

    def drop_turn(self, turn: int) -> None:
        """Forget a turn (its answer was cancelled); a conversation left empty goes too."""
        with self._writing():
            row = self.db.execute("SELECT conversation FROM turns WHERE id = ?", (turn,)).fetchone()
            self.db.execute("DELETE FROM turns WHERE id = ?", (turn,))
            if row is not None:
                self.db.execute("DELETE FROM conversations WHERE id = ? AND NOT EXISTS"
                                " (SELECT 1 FROM turns WHERE conversation = ?)", (row[0], row[0]))

    def rename(self, conversation: int, title: str) -> None:
        with self._writing():
            self.db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation))

    def drop_last_turn(self, conversation: int) -> None:
        """Forget the newest turn (its answer is being written again)."""
        with self._writing():
            self.db.execute("DELETE FROM turns WHERE id = (SELECT MAX(id) FROM turns WHERE conversation = ?)",
                            (conversation,))

    def delete(self, conversation: int) -> None:
        with self._writing():
            self.db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    def list(self, words: str = "") -> list[Conversation]:
        """The conversations, newest first; with `words`, those whose title has every word, or
        one of whose questions or answers does (a word may be the start of one: "vary" finds
        "Vary-toy")."""
        terms = words.split()
        where, args = "", []
        if terms:
            titled = " AND ".join("instr(lower(c.title), ?) > 0" for _ in terms)
            match = " AND ".join('"' + term.replace('"', '""') + '"*' for term in terms)
            where = (f" WHERE ({titled}) OR c.id IN (SELECT t2.conversation FROM turns t2 JOIN turns_fts f"
                     " ON f.rowid = t2.id WHERE turns_fts MATCH ?)")
            args = [*(term.casefold() for term in terms), match]
        rows = self.db.execute(
            "SELECT c.id, c.title, c.updated, COUNT(t.id) AS turns FROM conversations c"
            f" LEFT JOIN turns t ON t.conversation = c.id{where} GROUP BY c.id ORDER BY c.updated DESC, c.id DESC",
            args,
        )
        return [Conversation(r["id"], inert(r["title"]), r["updated"], r["turns"]) for r in rows]

    def questions(self, limit: int = 500) -> list[str]:
        """The questions asked in this data directory, oldest first (the question box's history
        across runs)."""
        rows = self.db.execute("SELECT question FROM (SELECT id, question FROM turns WHERE kind = 'answer'"
                               " ORDER BY id DESC LIMIT ?) ORDER BY id", (limit,))
        return [inert(r["question"]) for r in rows]

    def title(self, conversation: int) -> str:
        row = self.db.execute("SELECT title FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return "" if row is None else inert(str(row["title"]))

    def markdown(self, conversation: int) -> str:
        """The conversation as a Markdown document, drawn by the one renderer of results."""
        turns = [(turn.question, turn.result, turn.complete) for turn in self.turns(conversation)]
        return wording.conversation_markdown(self.title(conversation), turns)

    def turns(self, conversation: int) -> list[SavedTurn]:
        rows = self.db.execute("SELECT question, answer, result, kind, complete FROM turns WHERE conversation = ?"
                               " ORDER BY id", (conversation,))
        # inert on the way out, as the catalogue does: older releases saved text unstripped
        return [SavedTurn(inert(r["question"]), inert(r["answer"]), inert_json(json.loads(r["result"])),  # type: ignore[arg-type]
                          r["kind"], bool(r["complete"])) for r in rows]
