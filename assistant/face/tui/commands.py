"""The command palette's entries (ctrl+p) for the chat's main actions."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider


class AssistantCommands(Provider):
    """Command palette entries for the main actions."""

    COMMANDS = [
        ("New chat", "new_chat", "Start a new conversation"),
        ("Browse papers", "browse", "Filter and open any paper in the collection"),
        ("Saved conversations", "conversations", "Open, rename or delete a conversation"),
        ("Export conversation", "export", "Save this conversation as Markdown, and its cited papers as BibTeX"),
        ("Regenerate the last answer", "regenerate", "Write the last answer again"),
        ("Copy the last answer", "copy_answer", "Copy the last answer and its sources to the clipboard"),
        ("Copy the cited papers as BibTeX", "copy_bibtex", "Copy the last answer's cited papers as BibTeX entries"),
        ("Stop asking about one paper", "clear_scope", "Ask the whole collection again"),
        ("Help: keys", "help", "Show every key"),
    ]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_ in self.COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_)

    async def discover(self) -> Hits:
        for name, action, help_ in self.COMMANDS:
            yield Hit(1.0, name, partial(self.app.run_action, action), help=help_)
