"""Screens: a paper, the paper browser, saved conversations, renaming, and help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant.conversations import Conversation, ConversationStore
from assistant.papers import Paper, split_sentences

KEYS = """\
# Keys

| key | what it does |
| --- | --- |
| `enter` | ask the question typed at the bottom |
| `escape` | cancel the answer being written (what you typed stays) |
| `ctrl+n` | new chat |
| `ctrl+b` | browse and filter all papers |
| `ctrl+o` | saved conversations: open, rename, delete |
| `ctrl+s` | export this conversation to Markdown, with its sources |
| `ctrl+x` | stop asking about one paper (after "ask about this paper") |
| `tab` | move between the question, answers and their source lists |
| `enter` on a source | open the paper: abstract with the cited sentences highlighted |
| `ctrl+p` | command palette |
| `F1` / `?` | this help |
| `ctrl+q` | quit |

Click a citation such as **[1]** in an answer to open that paper. Sentences that failed
verification are listed, struck through, under "Removed by verification".
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(KEYS)
        yield Footer()


class PaperScreen(ModalScreen[str | None]):
    """One paper; dismisses with "summarise" or "ask" when the user picks an action."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("s", "dismiss('summarise')", "Summarise this paper"),
        Binding("a", "dismiss('ask')", "Ask about this paper"),
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
        meta = " · ".join(x for x in (p.date or p.date_raw or "date unknown",
                                      f"{p.authors} authors" if p.authors is not None else "",
                                      f"{p.upvotes} upvotes" if p.upvotes is not None else "", f"id {p.id}") if x)
        with VerticalScroll(id="paper"):
            yield Static(Text(p.title, style="bold"), id="paper-title")
            yield Static(meta, id="paper-meta")
            for link in p.links:
                yield Static(f"{link['kind']}: {link['url']}", classes="paper-link")
            if p.aliases:
                yield Static("also listed as: " + "; ".join(p.aliases), classes="paper-link")
            yield Static(self.abstract(), id="paper-abstract")
            with Horizontal(id="paper-actions"):
                yield Button("Summarise this paper (s)", id="summarise", variant="primary")
                yield Button("Ask about this paper (a)", id="ask")
                yield Button("Close (esc)", id="close")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "close" else event.button.id)


class BrowserScreen(Screen[str | None]):
    """Every paper in a table; type to filter by title, sort by date; enter opens one."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back to chat"),
        Binding("ctrl+d", "sort_date", "Sort by date"),
    ]

    def __init__(self, papers: list[Paper]) -> None:
        super().__init__()
        self.papers = papers
        self.newest_first = True

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter papers by title…", id="filter")
        yield DataTable(id="papers", cursor_type="row", zebra_stripes=True)
        yield Static("", id="count")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Title", key="title", width=60)
        table.add_column("Date", key="date", width=10)
        table.add_column("Authors", key="authors", width=7)
        table.add_column("Upvotes", key="upvotes", width=7)
        self.refill("")

    def visible(self, text: str) -> list[Paper]:
        words = text.casefold().split()
        shown = [p for p in self.papers if all(w in p.title.casefold() for w in words)]
        dated = sorted((p for p in shown if p.date), key=lambda p: p.date or "", reverse=self.newest_first)
        return dated + [p for p in shown if not p.date]

    def refill(self, text: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = self.visible(text)
        for p in rows:
            table.add_row(p.title, p.date or p.date_raw or "", "" if p.authors is None else str(p.authors),
                          "" if p.upvotes is None else str(p.upvotes), key=p.id)
        self.query_one("#count", Static).update(f"{len(rows)} of {len(self.papers)} papers · "
                                                f"{'newest' if self.newest_first else 'oldest'} first")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_sort_date(self) -> None:
        self.newest_first = not self.newest_first
        self.refill(self.query_one(Input).value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.current = title

    def compose(self) -> ComposeResult:
        yield Input(value=self.current, id="rename")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class ConversationsScreen(ModalScreen[int | None]):
    """Saved conversations: enter opens, r renames, delete removes."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "rename", "Rename"),
        Binding("delete,d", "delete", "Delete"),
    ]

    def __init__(self, conversations: ConversationStore) -> None:
        super().__init__()
        self.conversations = conversations

    def compose(self) -> ComposeResult:
        yield Static("Saved conversations", id="conversations-title")
        yield OptionList(id="conversations")
        yield Footer()

    def on_mount(self) -> None:
        self.refill()

    def refill(self) -> None:
        listing = self.query_one(OptionList)
        listing.clear_options()
        items: list[Conversation] = self.conversations.list()
        listing.add_options([Option(f"{c.title}  ({c.turns} questions, {c.updated[:16].replace('T', ' ')})", id=str(c.id))
                             for c in items])
        if not items:
            listing.add_option(Option("No saved conversations yet.", disabled=True))
        else:
            listing.highlighted = 0
        listing.focus()

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
                self.conversations.rename(chosen, title)
                self.refill()

        self.app.push_screen(RenameScreen(self.conversations.title(chosen)), done)

    def action_delete(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self.conversations.delete(chosen)
            self.notify("Conversation deleted.")
            self.refill()
