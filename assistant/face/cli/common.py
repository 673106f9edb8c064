"""What every command shares: the exit statuses, and opening the collection through the
session with a progress bar on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.settings import Settings
from assistant.core.tuning import Tuning

if TYPE_CHECKING:
    from assistant.session import Session

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_COVERED = 0, 1, 2, 3


def open_session(settings: Settings, *, seed: bool = True, allow_new_embedder: bool = False,
                 tuning: Tuning | None = None, warm: bool = False) -> Session:
    """Open the collection; on first use, index the bundled collection (with a progress bar)."""
    from assistant.face.cli.output import RichProgress, err
    from assistant.session import Session  # the session imports the pipelines: not for --help

    session = Session.open(settings, RichProgress() if seed else None, seed=seed, allow_new_embedder=allow_new_embedder,
                           tuning=tuning, warm=warm)
    if session.seeded:
        err().print(f"[dim]Indexed the bundled sample collection into {settings.data_dir}.[/]")
    return session
