"""Where long work reports how far it got: a progress bar in the CLI, a widget in the TUI."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """`total` 0 means an amount that is not known (waiting on another process, for example)."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def stop(self) -> None:
        pass
