"""Schema versions for the SQLite files in a data directory, as `PRAGMA user_version` plus
named upgrade steps, so a user's catalogue and conversations outlive releases.

Step N (1-based) takes a file at version N-1 to version N. A file at version 0 is either new
or from before versioning existed; the first step of each store creates today's tables with
`IF NOT EXISTS`, so it adopts both. A file newer than this release is refused untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import StoreError


@dataclass(frozen=True)
class Step:
    """One upgrade: its name says what it changes, for the error message if it fails."""

    name: str
    apply: Callable[[sqlite3.Connection], None]


def script(sql: str) -> Callable[[sqlite3.Connection], None]:
    """A step that runs plain SQL statements (inside the upgrade's transaction)."""

    def run(db: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                db.execute(statement)

    return run


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def upgrade(db: sqlite3.Connection, path: Path, steps: Sequence[Step]) -> None:
    """Bring `db` to the latest version, each step in its own transaction; a failed step
    leaves the file at the last version that completed. Two processes may open a new data
    directory at once (two ingests): each step's version is read again under the write lock,
    so a step is taken once."""
    current = version(db)
    if current > len(steps):
        raise StoreError(f"{path} was written by a newer version of assistant (format {current}; this one reads up "
                         f"to {len(steps)}); upgrade assistant to use it. The file was not changed.")
    for number, step in enumerate(steps[current:], start=current + 1):
        try:
            db.execute("BEGIN IMMEDIATE")
            if version(db) >= number:  # another process opening the same new file took this step first
                db.execute("COMMIT")
                continue
            step.apply(db)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot upgrade {path} ({step.name}): {exc}. The file is unchanged from format "
                             f"{number - 1}; back it up and report this.") from exc
