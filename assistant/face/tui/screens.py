"""Screens: a paper, the paper browser, saved conversations, renaming, and help."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant.core import wording as present
from assistant.core.errors import AssistantError
from assistant.core.records import Paper, split_sentences
from assistant.session import Conversation, ConversationStore


def key_name(binding: Binding) -> str:
    """How a key is written in help and the README: "ctrl+n", "escape / f1", "?"."""
    return " / ".join(f"`{k.strip().replace('question_mark', '?')}`" for k in binding.key.split(","))


def keys_table(bindings: Iterable[Binding]) -> str:
    """A Markdown table of bindings with their help text (the tooltip, else the description)."""
    rows = [f"| {key_name(b)} | {b.tooltip or b.description} |" for b in bindings if b.description]
    return "\n".join(["| key | what it does |", "| --- | --- |", *rows])


class HelpScreen(ModalScreen[None]):
    """Every key, built from the live bindings of the chat and its screens, so it cannot
    drift from them."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]], notes: str) -> None:
        super().__init__()
        self.sections = sections
        self.notes = notes

    def compose(self) -> ComposeResult:
        text = "\n\n".join(["# Keys", *(f"## {title}\n\n{keys_table(b)}" for title, b in self.sections), self.notes])
        with VerticalScroll(id="help"):
            yield Markdown(text)
        yield Footer()


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; enter or y confirms, escape or n declines."""

    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes", priority=True),
        Binding("n,escape", "dismiss(False)", "No", priority=True),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(self.question, "\n\n", ("y", "bold"), " / enter: yes    ", ("n", "bold"),
                                   " / escape: no"), id="confirm")


class PaperScreen(ModalScreen[str | None]):
    """One paper; dismisses with "summarise" or "ask" when the user picks an action."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", tooltip="close the paper"),
        Binding("s", "dismiss('summarise')", "Summarise", tooltip="summarise this paper (saved in the conversation)"),
        Binding("a", "dismiss('ask')", "Ask about it", tooltip="ask questions about this paper only"),
    ]

    def __init__(self, paper: Paper, highlight: list[str] | None = None) -> None:
        super().__init__()
        self.paper = paper
        self.highlight = highlight or []

    def abstract(self) -> Text:
        text = Text()
        for sentence in split_sentences(self.paper.abstract):
            cited = any(sentence in h or h in sentence for h in self.highlight)
            text.append(sentence + " ", style="bold black on yellow" if cited else "")
        return text

    def compose(self) -> ComposeResult:
        p = self.paper
        by, ids = present.authors_line(p.to_json()), present.identifiers_line(p.to_json())
        meta = f"{present.meta_line(p.to_json())} · id {p.id}" + "".join(f"\n{line}" for line in (by, ids) if line)
        with VerticalScroll(id="paper"):
            yield Static(Text(p.title, style="bold"), id="paper-title")
            yield Static(Text(meta), id="paper-meta")
            if p.url:
                yield Static(Text(f"link: {p.url}"), classes="paper-link")
            for link in p.links:
                yield Static(Text(f"{link['kind']}: {link['url']}"), classes="paper-link")
            if p.aliases:
                yield Static(Text("also listed as: " + "; ".join(p.aliases)), classes="paper-link")
            yield Static(self.abstract(), id="paper-abstract")
            with Horizontal(id="paper-actions"):
                yield Button("Summarise this paper (s)", id="summarise", variant="primary")
                yield Button("Ask about this paper (a)", id="ask")
                yield Button("Close (esc)", id="close")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "close" else event.button.id)


class BrowserScreen(Screen[None]):
    """Every paper in a table; type to filter by title; sort by date (ctrl+d) or by clicking a
    column's header; enter opens one over the browser, so that closing the paper comes back
    here with the filter as it was."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back to chat", tooltip="back to the chat"),
        # priority: the filter box would take ctrl+d as "delete right"
        Binding("ctrl+d", "sort_date", "Sort by date", priority=True,
                tooltip="newest or oldest first (a click on a column's header sorts by it)"),
    ]
    # Upvotes (Hugging Face pages) get a column only where enough papers have them to compare.
    UPVOTED_SHARE = 0.25

    def __init__(self, papers: list[Paper], open_paper: Callable[[str], None]) -> None:
        super().__init__()
        self.papers = papers
        self.open_paper = open_paper
        self.sort_key = "date"
        self.descending = True
        upvoted = sum(p.upvotes is not None for p in papers)
        self.fixed: tuple[tuple[str, str, int], ...] = (("Date", "date", 10), ("Authors", "authors", 7))
        if papers and upvoted >= self.UPVOTED_SHARE * len(papers):
            self.fixed += (("Upvotes", "upvotes", 7),)
        self.title_width = 20

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter papers by title…", id="filter")
        yield DataTable(id="papers", cursor_type="row", zebra_stripes=True)
        yield Static("", id="count")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.columns(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self.columns(event.size.width)

    def columns(self, width: int) -> None:
        """The title takes whatever the fixed columns leave (each cell has 2 columns of padding,
        and the scroll bar and borders take 6), so no column is cut at 80 columns or wasted at 160."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        fixed = sum(w + 2 for _, _, w in self.fixed)
        self.title_width = max(20, width - fixed - 6)
        table.add_column("Title", key="title", width=self.title_width)
        for label, key, column_width in self.fixed:
            table.add_column(label, key=key, width=column_width)
        self.refill(self.query_one(Input).value)

    def visible(self, text: str) -> list[Paper]:
        """The papers whose title has every word typed, in the order chosen; papers without the
        value sorted on come last either way."""
        words = text.casefold().split()
        shown = [p for p in self.papers if all(w in p.title.casefold() for w in words)]
        value = {"date": lambda p: p.date, "title": lambda p: p.title.casefold(),
                 "authors": lambda p: p.authors, "upvotes": lambda p: p.upvotes}[self.sort_key]
        known = sorted((p for p in shown if value(p) is not None), key=value,  # type: ignore[arg-type, return-value]
                       reverse=self.descending)
        return known + [p for p in shown if value(p) is None]

    def refill(self, text: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = self.visible(text)
        upvotes = any(key == "upvotes" for _, key, _ in self.fixed)
        for p in rows:
            # Text cells: a plain string would be read as markup, and titles come from web pages
            title = Text(p.title)
            title.truncate(self.title_width, overflow="ellipsis")
            cells: list[object] = [title, Text(p.date or p.date_raw or ""), "" if p.authors is None else str(p.authors)]
            if upvotes:
                cells.append("" if p.upvotes is None else str(p.upvotes))
            table.add_row(*cells, key=p.id)
        order = {"date": ("newest", "oldest"), "title": ("Z–A", "A–Z"), "authors": ("most authors", "fewest authors"),
                 "upvotes": ("most upvoted", "least upvoted")}[self.sort_key][0 if self.descending else 1]
        self.query_one("#count", Static).update(f"{len(rows)} of {len(self.papers)} papers · {order} first")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_sort_date(self) -> None:
        self.descending = not self.descending if self.sort_key == "date" else True
        self.sort_key = "date"
        self.refill(self.query_one(Input).value)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by that column; a second click turns the order round."""
        key = str(event.column_key.value)
        self.descending = not self.descending if key == self.sort_key else key != "title"
        self.sort_key = key
        self.refill(self.query_one(Input).value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_paper(event.row_key.value)


class RenameScreen(ModalScreen[str | None]):
    """A labelled box holding the current name, wide enough to show it whole."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.current = title

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-box"):
            yield Static("Rename the conversation (enter saves, escape cancels):", id="rename-label")
            yield Input(value=self.current, id="rename")
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_position = 0  # the start of the name in view; end moves to its end
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class ConversationsScreen(ModalScreen[int | None]):
    """Saved conversations: type to find one by its title or any word of its questions and
    answers; enter opens, r renames, delete removes. The highlight stays on the row acted on."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", tooltip="back to the chat"),
        Binding("ctrl+r", "rename", "Rename", priority=True, tooltip="rename the highlighted conversation"),
        Binding("ctrl+d", "delete", "Delete", priority=True, tooltip="delete the highlighted conversation (asks first)"),
        Binding("down", "move(1)", "Next", show=False, priority=True,
                tooltip="highlight the next conversation (typing goes to the find box)"),
        Binding("up", "move(-1)", "Previous", show=False, priority=True, tooltip="highlight the one before"),
    ]

    def __init__(self, conversations: ConversationStore, deleted: Callable[[int], None]) -> None:
        super().__init__()
        self.conversations = conversations
        self.deleted = deleted  # told which conversation went, so the chat can let go of it

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations-box"):
            yield Static("Saved conversations", id="conversations-title")
            yield Input(placeholder="Find: a word of the title, a question or an answer…", id="find")
            yield OptionList(id="conversations")
        yield Footer()

    def on_mount(self) -> None:
        self.refill()
        self.query_one("#find", Input).focus()

    def refill(self, keep: int | None = None, at: int = 0) -> None:
        """List the conversations the find box matches; highlight `keep` if listed, else the
        row at `at` (where a deleted one was)."""
        listing = self.query_one(OptionList)
        listing.clear_options()
        words = self.query_one("#find", Input).value
        items: list[Conversation] = self.conversations.list(words)
        listing.add_options([Option(Text(f"{c.title}  ({present.plural(c.turns, 'turn')}, "
                                         f"{c.updated[:16].replace('T', ' ')})"), id=str(c.id)) for c in items])
        if not items:
            listing.add_option(Option("No conversation has these words." if words.strip()
                                      else "No saved conversations yet.", disabled=True))
            return
        ids = [c.id for c in items]
        listing.highlighted = ids.index(keep) if keep in ids else min(at, len(ids) - 1)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "find":
            self.refill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "find":
            chosen = self._selected()
            if chosen is not None:
                self.dismiss(chosen)

    def action_move(self, step: int) -> None:
        listing = self.query_one(OptionList)
        if not listing.option_count:
            return
        if step > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    def _selected(self) -> int | None:
        listing = self.query_one(OptionList)
        if listing.highlighted is None:
            return None
        option = listing.get_option_at_index(listing.highlighted)
        return int(option.id) if option.id else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(int(event.option.id))

    def action_rename(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return

        def done(title: str | None) -> None:
            if title:
                try:
                    self.conversations.rename(chosen, title)
                except AssistantError as exc:  # a full or read-only disk
                    self.notify(f"Not renamed: {exc}", severity="error")
            self.refill(keep=chosen)

        self.app.push_screen(RenameScreen(self.conversations.title(chosen)), done)

    def action_delete(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return
        position = self.query_one(OptionList).highlighted or 0

        def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    self.conversations.delete(chosen)
                except AssistantError as exc:  # a full or read-only disk
                    self.notify(f"Not deleted: {exc}", severity="error")
                    return
                self.deleted(chosen)
                self.notify("Conversation deleted.")
                self.refill(at=position)

        self.app.push_screen(ConfirmScreen(f"Delete “{self.conversations.title(chosen)}” and all its answers?"),
                             confirmed)


class ModelScreen(ModalScreen[str | None]):
    """Pick another GGUF model: the .gguf files of a folder (at first the folder of the model in
    use; type another and press enter); enter on a file dismisses with its path."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="keep the model in use")]

    def __init__(self, folder: Path, current: str) -> None:
        super().__init__()
        self.folder = folder
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="model-box"):
            yield Static(Text(f"Model in use: {self.current}\nFolder (enter lists its .gguf files):"), id="model-label")
            yield Input(value=str(self.folder), id="model-folder")
            yield OptionList(id="models")
        yield Footer()

    def on_mount(self) -> None:
        self.refill()

    def refill(self) -> None:
        listing = self.query_one(OptionList)
        listing.clear_options()
        folder = Path(self.query_one(Input).value).expanduser()
        try:
            files = sorted(folder.glob("*.gguf")) if folder.is_dir() else []
        except OSError:
            files = []
        listing.add_options([Option(Text(f"{f.name}  ({f.stat().st_size / 1e6:,.0f} MB)"), id=str(f)) for f in files])
        if files:
            listing.highlighted = 0
            listing.focus()
        else:
            listing.add_option(Option(f"No .gguf file in {folder}.", disabled=True))
            self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.refill()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(event.option.id)


class SourcesScreen(ModalScreen[None]):
    """The files the collection was built from: each one's layout, papers and when it was read."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", tooltip="back to the chat")]

    def __init__(self, sources: list[dict[str, object]]) -> None:
        super().__init__()
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical(id="sources-box"):
            yield Static(f"The collection's sources ({len(self.sources)})", id="sources-title")
            yield DataTable(id="sources-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("File", "Read as", "Papers", "Indexed")
        for source in self.sources:
            table.add_row(Text(str(source["name"])), Text(str(source["layout"])), str(source["papers"]),
                          str(source["ingested_at"])[:16].replace("T", " "))
        table.focus()
