"""Loading and filling the prompt templates in `prompts/` (or a user's `--prompts-dir`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from assistant.core.errors import AssistantError

NAMES = ("answer", "synthesis", "summarise_paper", "rewrite")
_PART = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """A chat prompt with a system part and a user part, each a `string.Template`."""

    name: str
    system: str
    user: str

    def messages(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with the placeholders filled; a missing value is a bug, so it raises."""
        try:
            return [
                {"role": "system", "content": Template(self.system).substitute(values).strip()},
                {"role": "user", "content": Template(self.user).substitute(values).strip()},
            ]
        except (KeyError, ValueError) as exc:
            raise AssistantError(f"prompt {self.name!r} has a placeholder that cannot be filled: {exc}") from exc


def parse_prompt(name: str, text: str) -> Prompt:
    parts = _PART.split(text)
    sections = dict(zip(parts[1::2], parts[2::2]))
    if set(sections) != {"system", "user"}:
        raise AssistantError(f"prompt {name!r} must have a [system] and a [user] part")
    return Prompt(name, sections["system"].strip(), sections["user"].strip())


def load_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    """The named template from `prompts_dir` if given, else the bundled one."""
    if name not in NAMES:
        raise AssistantError(f"unknown prompt {name!r}")
    if prompts_dir is not None:
        path = prompts_dir / f"{name}.md"
        if not path.is_file():
            raise AssistantError(f"prompt file {path} not found (copy the bundled prompts folder to start)")
        return parse_prompt(name, path.read_text(encoding="utf-8"))
    return parse_prompt(name, (bundled_prompts_dir() / f"{name}.md").read_text(encoding="utf-8"))


def bundled_prompts_dir() -> Traversable:
    """The templates shipped with the assistant.

    A regular install has them as the package `assistant.prompt_templates`; an editable
    install or a source checkout reads the top-level `prompts/` folder directly.
    """
    try:
        return resources.files("assistant.prompt_templates")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "prompts"
