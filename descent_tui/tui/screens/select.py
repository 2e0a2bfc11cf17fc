"""Mission select: every scenario (shipped, user, command line) and every broken file."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from descent_tui.tui.safe_text import clean, content, text
from descent_tui.tui.widgets.banner import Banner
from descent_tui.tui.widgets.briefing import briefing_renderable


class SelectScreen(Screen[None]):
    """The mission board."""

    BINDINGS = [
        Binding("enter", "open", "Open mission", tooltip="Open the highlighted mission"),
        Binding("f5", "rescan", "Rescan", tooltip="Look for new or fixed scenario files"),
        Binding("q", "app.quit", "Quit", tooltip="Leave Vector Prime"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []  # LoadedScenario | BrokenScenario, in table order

    def compose(self) -> ComposeResult:
        yield Banner(id="banner")
        with Horizontal(id="select-body"):
            table: DataTable[Any] = DataTable(id="missions", cursor_type="row", zebra_stripes=True)
            table.border_title = "MISSIONS"
            yield table
            with VerticalScroll(id="preview-box") as box:
                box.border_title = "BRIEFING"
                yield Static("Scanning the mission archive…", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Ch", key="ch", width=3)
        table.add_column("Mission", key="title", width=40)
        table.add_column("Type", key="kind", width=9)
        table.add_column("Status", key="status", width=11)
        self._compact()
        self.call_after_refresh(self.scan)  # paint the board first, then read the archive

    def on_resize(self) -> None:
        self._compact()
        self.app.call_later(self.app._check_size)  # type: ignore[attr-defined]

    def _compact(self) -> None:
        self.query_one(Banner).set_class(self.app.size.height < 34, "-compact")
        table = self.query_one(DataTable)
        col = table.columns.get("title")  # type: ignore[call-overload]
        if col is not None:
            # the mission column takes what the fixed columns leave
            # (the board is 3/5 of the width; 2 border + 8 cell padding + 2 scrollbar)
            width = max(12, self.app.size.width * 3 // 5 - 12 - 3 - 9 - 11)
            if col.width != width:
                col.width = width
                table._require_update_dimensions = True
                table.refresh()

    def on_screen_resume(self) -> None:
        if self.entries:
            self._fill()  # statuses may have changed

    # ----------------------------------------------------------------- data
    @work(thread=True, exclusive=True, group="scan")
    def scan(self) -> None:
        """Read the archive off the UI thread (the board paints first)."""
        try:
            from descent_tui.scenario.catalog import discover

            good, broken = discover(getattr(self.app, "extra_paths", []))
        except Exception as e:
            good, broken = [], []
            self.app.call_from_thread(
                self.notify, clean(f"{type(e).__name__}: {e}"),
                title="Mission archive unreadable", severity="error", markup=False)
        self.app.call_from_thread(self._scanned, [*good, *broken])

    def _scanned(self, entries: list[Any]) -> None:
        self.entries = entries
        self._fill()

    def _status(self, entry: Any) -> Text:
        if not hasattr(entry, "spec"):
            return Text("BROKEN", style="bold red")
        text = self.app.progress.status_text(entry.spec.id)
        style = {"new": "dim", "in progress": "yellow", "done": "green"}.get(text, "bold green")
        return Text(text, style=style)

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for i, entry in enumerate(self.entries):
            if hasattr(entry, "spec"):
                spec = entry.spec
                # the part before a colon names the mission; the preview has the rest
                title = text(spec.title.split(":")[0].strip() or spec.title, one_line=True)
                if entry.source != "shipped":
                    title.append(f"  [{entry.source}]", style="dim")
                table.add_row(str(spec.chapter), title, spec.kind, self._status(entry),
                              key=str(i))
            else:
                table.add_row("!", text(entry.path.name, "red", one_line=True), "-", self._status(entry),
                              key=str(i))
        if not self.entries:
            self.query_one("#preview", Static).update(
                "No missions found. Put scenario .toml files in the scenarios directory"
                " or pass them on the command line.")
            return
        table.move_cursor(row=min(max(row, 0), len(self.entries) - 1))
        self._preview(table.cursor_row)

    def _preview(self, index: int) -> None:
        if not (0 <= index < len(self.entries)):
            return
        entry = self.entries[index]
        preview = self.query_one("#preview", Static)
        box = self.query_one("#preview-box")
        if hasattr(entry, "spec"):
            spec = entry.spec
            box.border_title = content(f"CH {spec.chapter} · {spec.title.upper()}", one_line=True)
            runs = ", ".join(r.label for r in spec.runs)
            meta = text(f"\n{spec.kind} · {spec.steps} steps · runs: {runs}", "dim")
            status = Text.assemble("status: ", self._status(entry))
            dark = self.app.current_theme.dark
            preview.update(Group(briefing_renderable(spec, preview=True, dark=dark), meta, status,
                                 Text("\nenter ▸ open mission", style="bold")))
        else:
            box.border_title = "BROKEN SCENARIO FILE"
            lines = [text(entry.path, "bold red"), Text("")]
            lines += [text(f"• {p}") for p in entry.problems[:20]]
            lines.append(Text("\nFix the file and press F5 to rescan.", style="dim"))
            preview.update(Group(*lines))

    # ----------------------------------------------------------------- events
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def action_open(self) -> None:
        self._open(self.query_one(DataTable).cursor_row)

    def action_rescan(self) -> None:
        self.scan()

    def _open(self, index: int) -> None:
        if not (0 <= index < len(self.entries)):
            return
        entry = self.entries[index]
        if not hasattr(entry, "spec"):
            self.notify(clean(entry.message), title="This scenario file is broken",
                        severity="error", markup=False)
            return
        self.app.open_mission(entry)  # type: ignore[attr-defined]
