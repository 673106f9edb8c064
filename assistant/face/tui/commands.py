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
        ("Regenerate the answer", "regenerate", "Write the selected (else the last) answer again"),
        ("Ask again, edited", "edit_question", "Put the selected (else the last) question in the box to edit"),
        ("Copy the answer", "copy_answer", "Copy the selected (else the last) answer and its sources"),
        ("Copy the cited papers as BibTeX", "copy_bibtex", "Copy the selected answer's cited papers as BibTeX"),
        ("Switch model…", "switch_model", "Answer with another GGUF file from a folder you name"),
        ("Collection sources", "sources", "The files the collection was built from"),
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
