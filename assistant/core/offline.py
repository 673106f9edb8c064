"""The offline switches: no Hugging Face hub lookups and no Chroma telemetry, ever.

They are process environment variables read by those libraries at import time, so they are
set just before the first heavy import rather than left to the user's shell.
"""

from __future__ import annotations

import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # Loading a bundled model is instant; library progress bars would only clutter ours.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def go_offline() -> None:
    """Set the offline switches (idempotent); call before importing transformers or chromadb."""
    for name, value in _SWITCHES.items():
        os.environ[name] = value
