"""Domain errors. Only the CLI (and the TUI) turn them into messages and exit codes."""

from __future__ import annotations

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
