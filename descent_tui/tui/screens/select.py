"""Mission select: every scenario (shipped, user, command line) and every broken file.

Each row names a mission and its one-line goal (:func:`mission_goal`); the
status column shows the best quiz score, coloured by how good it is.  The
preview is the start of the briefing, cut at a sentence (:func:`first_sentences`)
to fit, with the open hint pinned below it, never scrolled away.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from descent_tui.tui.safe_text import clean, content, text
from descent_tui.tui.theme import ENGINEER, OUTPOST, markdown_options
from descent_tui.tui.widgets.banner import Banner
from descent_tui.tui.widgets.key_footer import KeyFooter
from descent_tui.tui.widgets.score import score_style

#: below this many columns the board drops its "Type" column (the preview says it)
WIDE = 110
_SENTENCE_END = re.compile(r"[.!?:][*_`)\"'”’]*(?=\s)|\n\s*\n")


def mission_goal(spec: Any) -> str:
    """One line saying what the mission is about: the title's part after the colon
    (``The Bowl: Choosing a Step Size``), else its first watch-for note."""
    _head, colon, rest = spec.title.partition(":")
    if colon and rest.strip():
        return rest.strip()
    return spec.watch_for[0] if spec.watch_for else ""


def first_sentences(body: str, budget: int) -> str:
    """The longest start of ``body`` of at most ``budget`` characters that ends at the
    end of a sentence or a paragraph (the whole body when it fits; at least one sentence)."""
    body = body.strip()
    if len(body) <= budget:
        return body
    ends = [m.end() for m in _SENTENCE_END.finditer(body)]
    fitting = [e for e in ends if e <= budget]
    cut = fitting[-1] if fitting else (ends[0] if ends else len(body))
    return body[:cut].rstrip()


class SelectScreen(Screen[None]):
    """The mission board."""

    BINDINGS = [
        # priority: the table's own (hidden) enter binding would hide it from the footer
        Binding("enter", "open", "Open mission", key_display="enter",
                tooltip="Open the highlighted mission", priority=True),
        Binding("f5", "rescan", "Rescan", tooltip="Look for new or fixed scenario files"),
        Binding("L", "lab", "Lab", key_display="L",
                tooltip="Free play: open the highlighted network mission in the Lab"
                        " (any other: the Lab's default setup)"),
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
            with Vertical(id="preview-box") as box:
                box.border_title = "BRIEFING"
                with VerticalScroll(id="preview-scroll"):
                    yield Static("Scanning the mission archive…", id="preview")
                yield Static("", id="preview-hint")
        yield KeyFooter(whole_keys=True)

    DEFAULT_CSS = """
    SelectScreen #preview-scroll { height: 1fr; }
    SelectScreen #preview-hint { height: auto; text-style: bold; color: $accent; }
    """

    def on_mount(self) -> None:
        self._columns()
        self._compact()
        self.call_after_refresh(self.scan)  # paint the board first, then read the archive

    def _wide(self) -> bool:
        return self.app.size.width >= WIDE

    def _columns(self) -> None:
        """Ch, Mission (title and goal), Type (wide screens only), Status."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("Ch", key="ch", width=3)
        table.add_column("Mission", key="title", width=40)
        if self._wide():
            table.add_column("Type", key="kind", width=9)
        table.add_column("Status", key="status", width=11)

    def on_resize(self) -> None:
        if ("kind" in self.query_one(DataTable).columns) != self._wide():
            self._columns()
            if self.entries:
                self._fill()
        self._compact()
        self.app.call_later(self.app._check_size)  # type: ignore[attr-defined]

    def _compact(self) -> None:
        self.query_one(Banner).set_class(self.app.size.height < 34, "-compact")
        table = self.query_one(DataTable)
        col = table.columns.get("title")  # type: ignore[call-overload]
        if col is not None:
            # the mission column takes what the fixed columns leave
            # (the board is 3/5 of the width; 2 border + 8 cell padding + 2 scrollbar)
            cells = 3 + 11 + (9 if self._wide() else 0)
            pads = 2 * (4 if self._wide() else 3)
            width = max(12, self.app.size.width * 3 // 5 - 2 - 2 - pads - cells)
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
        """new / in progress / done, or the best quiz score in its colour."""
        if not hasattr(entry, "spec"):
            return Text("BROKEN", style="bold red")
        prog = self.app.progress  # type: ignore[attr-defined]
        best = prog.best_score(entry.spec.id)
        if best is not None:
            return Text(f"quiz {best[0]}/{best[1]}", style=score_style(*best))
        words = prog.status_text(entry.spec.id)
        return Text(words, style={"new": "dim", "in progress": "yellow"}.get(words, "green"))

    def _scores(self, mission_id: str) -> Text:
        """``best 5/7 · last 3/7`` in their colours (empty before a graded quiz)."""
        prog = self.app.progress  # type: ignore[attr-defined]
        best, last = prog.best_score(mission_id), prog.quiz_score(mission_id)
        if best is None:
            return Text("")
        out = Text.assemble("  best ", (f"{best[0]}/{best[1]}", score_style(*best)))
        if last is not None and last != best:
            out.append_text(Text.assemble(" · last ", (f"{last[0]}/{last[1]}",
                                                        score_style(*last))))
        return out

    def _row(self, entry: Any) -> tuple[list[Any], int]:
        """The cells of one mission's row (title over its goal) and the row's height."""
        if not hasattr(entry, "spec"):
            cells = ["!", text(entry.path.name, "red", one_line=True), "-", self._status(entry)]
            height = 1
        else:
            spec = entry.spec
            # the part before a colon names the mission; the goal line has the rest
            title = text(spec.title.split(":")[0].strip() or spec.title, "bold", one_line=True)
            if entry.source != "shipped":
                title.append(f"  [{entry.source}]", style="dim")
            goal = mission_goal(spec)
            if goal:
                title.append_text(text("\n" + clean(goal, one_line=True), "dim"))
            cells = [str(spec.chapter), title, spec.kind, self._status(entry)]
            height = 2 if goal else 1
        if not self._wide():
            del cells[2]
        return cells, height

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for i, entry in enumerate(self.entries):
            cells, height = self._row(entry)
            table.add_row(*cells, key=str(i), height=height)
        if not self.entries:
            self.query_one("#preview", Static).update(
                "No missions found. Put scenario .toml files in the scenarios directory"
                " or pass them on the command line.")
            return
        table.move_cursor(row=min(max(row, 0), len(self.entries) - 1))
        self._preview(table.cursor_row)

    def _budget(self) -> int:
        """About how many characters of briefing the preview box shows without scrolling."""
        box = self.query_one("#preview-scroll")
        width = max(20, box.size.width - 2 or self.app.size.width * 2 // 5 - 4)
        lines = max(4, (box.size.height or self.app.size.height - 10) - 7)
        return max(120, int(width * lines * 0.7))

    def _preview(self, index: int) -> None:
        if not (0 <= index < len(self.entries)):
            return
        entry = self.entries[index]
        preview = self.query_one("#preview", Static)
        box = self.query_one("#preview-box")
        hint = self.query_one("#preview-hint", Static)
        if hasattr(entry, "spec"):
            spec = entry.spec
            box.border_title = content(f"CH {spec.chapter} · {spec.title.upper()}", one_line=True)
            preview.update(self._preview_body(spec))
            hint.update("enter ▸ open mission")
        else:
            box.border_title = "BROKEN SCENARIO FILE"
            lines = [text(entry.path, "bold red"), Text("")]
            lines += [text(f"• {p}") for p in entry.problems[:20]]
            preview.update(Group(*lines))
            hint.update("Fix the file and press F5 to rescan.")
        self.query_one("#preview-scroll").scroll_home(animate=False)

    def _preview_body(self, spec: Any) -> Group:
        """Goal, the briefing's first sentences, kind / steps / runs, status and scores."""
        from rich.markdown import Markdown

        goal = mission_goal(spec)
        body = clean(spec.briefing or "No briefing on file. Trust the gradients.")
        runs = ", ".join(r.label for r in spec.runs)
        status = Text.assemble("status: ", self._status(self.entries_by_id()[spec.id]),
                               self._scores(spec.id))
        return Group(
            Text.assemble(("GOAL ", "bold"), text(goal or spec.title, one_line=True)),
            Text.assemble((f"{ENGINEER} · {OUTPOST} · chapter {spec.chapter}", "dim")),
            Markdown(first_sentences(body, self._budget()),
                     **markdown_options(self.app.current_theme.dark)),
            text(f"{spec.kind} · {spec.steps} steps · runs: {runs}", "dim"),
            status)

    def entries_by_id(self) -> dict[str, Any]:
        """The scenarios on the board by mission id (broken files left out)."""
        return {e.spec.id: e for e in self.entries if hasattr(e, "spec")}

    # ----------------------------------------------------------------- events
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def action_open(self) -> None:
        self._open(self.query_one(DataTable).cursor_row)

    def action_rescan(self) -> None:
        self.scan()

    def action_lab(self) -> None:
        """The Lab, set up as the highlighted mission when it is a network one."""
        index = self.query_one(DataTable).cursor_row
        entry = self.entries[index] if 0 <= index < len(self.entries) else None
        self.app.open_lab(entry if hasattr(entry, "spec") else None)  # type: ignore[attr-defined]

    def _open(self, index: int) -> None:
        if not (0 <= index < len(self.entries)):
            return
        entry = self.entries[index]
        if not hasattr(entry, "spec"):
            self.notify(clean(entry.message), title="This scenario file is broken",
                        severity="error", markup=False)
            return
        self.app.open_mission(entry)  # type: ignore[attr-defined]
