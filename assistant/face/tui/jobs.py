"""What the chat's worker threads work on: an answer being written (`Job`), and the index's
progress reported from a worker (`ProgressAdapter`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.face.tui.widgets import AnswerBlock


class AppClosed(Exception):
    """The user quit while the collection was being indexed."""


class ProgressHost(Protocol):
    """What the progress reports need of the chat app: whether it still runs, a way to call it
    from a worker thread, and its progress bar."""

    @property
    def is_running(self) -> bool: ...

    def tell(self, callback: Callable[..., Any], *args: object) -> None: ...

    def progress_start(self, description: str, total: int) -> None: ...

    def progress_advance(self, amount: int) -> None: ...

    def progress_stop(self) -> None: ...


class ProgressAdapter:
    """The index's Progress protocol, shown in the progress bar and status line from a worker.
    Once the app has closed it stops the indexing at the next step (the next start finishes
    it), so quitting never waits for a whole first-run index."""

    def __init__(self, app: ProgressHost) -> None:
        self.app = app

    def _tell(self, callback: Callable[..., Any], *args: object) -> None:
        if not self.app.is_running:
            raise AppClosed
        self.app.tell(callback, *args)

    def start(self, description: str, total: int) -> None:
        self._tell(self.app.progress_start, description, total)

    def advance(self, amount: int = 1) -> None:
        self._tell(self.app.progress_advance, amount)

    def stop(self) -> None:
        self._tell(self.app.progress_stop)


@dataclass
class Job:
    """One answer being written: where it is shown, which conversation it belongs to, and
    whether it was cancelled (checked by the worker between pieces and before saving)."""

    block: AnswerBlock
    question: str  # what is saved as the turn's question
    kind: str  # answer | paper: only answers feed follow-ups
    turn: int  # the saved turn, unfinished until the answer is
    cancelled: threading.Event = field(default_factory=threading.Event)
    tokens: int = 0
