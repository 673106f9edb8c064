"""Domain errors. Only the CLI (and the TUI) turn them into messages and exit codes."""

from __future__ import annotations

import errno
from pathlib import Path


class AssistantError(Exception):
    """An error the user can act on; its message is shown as is, without a traceback."""


class SourceError(AssistantError):
    """A file that cannot be ingested; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(AssistantError):
    """The data directory cannot be used as it is (e.g. it was built with another embedder)."""


_FULL = ("disk is full", "no space left")
_READ_ONLY = ("readonly database", "read-only file system", "permission denied")


def storage_failure(exc: BaseException, data_dir: Path) -> StoreError | None:
    """A full or read-only disk met half-way through work, as a message the user can act on
    (None for anything else, which must stay a visible bug).

    SQLite, Chroma and the file system each word these differently and wrap one another, so
    the whole chain of causes is read. Every write is a transaction, so nothing saved before
    the failure is lost, and the next run finishes what was cut short.
    """
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        code = getattr(seen, "errno", None)
        if code == errno.ENOSPC or any(words in text for words in _FULL):
            return StoreError(f"the disk holding {data_dir} is full. Nothing saved before was lost: free some "
                              "space and run the same command again to finish the work")
        if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(words in text for words in _READ_ONLY):
            return StoreError(f"cannot write to {data_dir} ({seen}). Nothing saved before was lost: make it "
                              "writable, or choose another directory with --data-dir or ASSISTANT_DATA_DIR")
        seen = seen.__cause__ or seen.__context__
    return None


def user_error(exc: BaseException, data_dir: Path) -> AssistantError | None:
    """`exc` as a message for the user: itself when it is one, a recognised storage failure,
    or None for a bug (which the caller re-raises)."""
    return exc if isinstance(exc, AssistantError) else storage_failure(exc, data_dir)
