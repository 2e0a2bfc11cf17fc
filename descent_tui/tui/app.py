"""The Descent app: wires screens, themes and global keys — nothing else.

Screens live in :mod:`descent_tui.tui.screens`, widgets in
:mod:`descent_tui.tui.widgets`; heavy modules (numpy, the engine, the
simulation) are imported only when a mission opens.
"""

from __future__ import annotations

import gc
import io
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from descent_tui.tui import textual_fixes
from descent_tui.tui.commands import MissionCommands
from descent_tui.tui.safe_text import clean
from descent_tui.tui.theme import DARK, LIGHT, THEMES

textual_fixes.apply()

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "DescentApp", "run_app"]

MIN_WIDTH = 80
#: while the app runs, a full garbage collection waits for this many collections of the
#: middle generation (Python's default: 10). A full one walks every object alive (the
#: timeline's checkpoints, tens of thousands at full speed): 100–300 ms with the GIL
#: held, which a frame or a key then waits out; at 10 they came every 1.5 s at full
#: speed (3.6 s of 30). Young objects are collected as often as before.
FULL_GC_EVERY = 100
#: while the app runs, the seconds a thread holds the GIL before another waiting one gets
#: it (Python's default: 0.005). Each NumPy call on a few thousand points lets the GIL go;
#: taking it back from the training thread cost the UI thread up to 5 ms, and a loss plot
#: of six runs (a dozen such calls a curve) took 22-50 ms instead of 12 (optimizer-zoo at
#: full speed, 160x50; its draws' maxima 150-680 ms against 30-76). The trainer pays:
#: 40 % of headless steps/s instead of 60 % there.
SWITCH_INTERVAL = 0.0005
MIN_HEIGHT = 24


class DescentApp(App[int]):
    """Vector Prime training deck."""

    CSS_PATH = "descent.tcss"
    TITLE = "DESCENT"
    SUB_TITLE = "Vector Prime · training deck"
    ENABLE_COMMAND_PALETTE = True
    #: ctrl+p also opens any mission by name ("Open mission: The Bowl")
    COMMANDS = App.COMMANDS | {MissionCommands}

    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Show every key of this screen"),
        Binding("t", "toggle_theme", "Light/dark", tooltip="Switch the day/night console theme"),
        Binding("d", "take_home", "Take work home",
                tooltip="Download your progress and the current run's CSV"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Leave Vector Prime", priority=True,
                show=False),
    ]

    def __init__(self, initial: Any = None, extra_paths: Sequence[str | Path] = (),
                 *, theme_name: str | None = None, progress: Any = None,
                 classroom: Any = None) -> None:
        """``classroom``: a :class:`descent_tui.cli.classroom.ClassOptions` (class, call
        sign, mission pack, locked knobs) or None; in a class without a call sign the
        app first asks for one (:class:`~descent_tui.tui.screens.call_sign.CallSignScreen`)."""
        super().__init__()
        self._initial = initial
        # a MissionPack is kept as it is; no need to import the catalog (and NumPy, for
        # its validation rules) before the board paints to know: a pack can only exist
        # once the catalog module is loaded
        catalog = sys.modules.get("descent_tui.scenario.catalog")
        pack = catalog is not None and isinstance(extra_paths, catalog.MissionPack)
        self.extra_paths = extra_paths if pack else [Path(p) for p in extra_paths]
        self._theme_name = theme_name or DARK.name
        self.classroom = classroom
        self.call_sign: str | None = getattr(classroom, "call_sign", None)
        self.progress = progress if progress is not None else self._student_progress()
        self._too_small_shown = False
        self._clock = MissionClock()
        for theme in THEMES:
            self.register_theme(theme)
        self._start_theme(self._theme_name)

    def _start_theme(self, name: str) -> None:
        """Start in theme ``name`` without the theme watcher: it would re-parse every
        stylesheet once the app runs (``refresh_css``, 30-45 ms before the first paint at
        160x50), while nothing is parsed yet. So the reactive is set silently and the
        watcher's other work done here: the CSS variables, the theme classes, the
        ANSI colour filter (a later change, ``t``, goes through the watcher as before)."""
        self.set_reactive(DescentApp.theme, self._validate_theme(name))
        self.stylesheet.set_variables(self.get_css_variables())
        dark = self.current_theme.dark
        self.set_class(True, f"-theme-{name}", update=False)
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    # ----------------------------------------------------------------- lifecycle
    def on_mount(self) -> None:
        self._gc_thresholds = gc.get_threshold()
        gc.set_threshold(*self._gc_thresholds[:2], max(FULL_GC_EVERY, self._gc_thresholds[2]))
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_INTERVAL, self._switch_interval))
        self.set_interval(1.0, self._clock_tick)
        if self.progress is None:  # in a class, before the call sign
            from descent_tui.tui.screens.call_sign import CallSignScreen

            self.push_screen(CallSignScreen(self.classroom.class_name), self._signed_in)
            self._check_size()
            return
        self._open_board()

    def on_unmount(self) -> None:
        # as the process had them (tests run many apps); not set if mounting failed early
        if hasattr(self, "_gc_thresholds"):
            gc.set_threshold(*self._gc_thresholds)
            sys.setswitchinterval(self._switch_interval)

    def _student_progress(self) -> Any:
        """The progress file of this player: the class's file of the call sign, the
        single user file outside a class, None while the call sign is not known."""
        from descent_tui.progress import Progress

        name = getattr(self.classroom, "class_name", None)
        if name is None:
            return Progress.load()
        if self.call_sign is None:
            return None
        from descent_tui.classroom import load_student

        return load_student(name, self.call_sign)

    def _signed_in(self, call_sign: str | None) -> None:
        if not call_sign:
            self.exit()
            return
        self.call_sign = call_sign
        self.progress = self._student_progress()
        self.sub_title = clean(f"Vector Prime · {call_sign}", one_line=True)
        self._open_board()

    def _open_board(self) -> None:
        from descent_tui.tui.screens.select import SelectScreen

        self.push_screen(SelectScreen())
        if self.progress.notice:
            self.notify(clean(self.progress.notice), title="Progress file", severity="warning",
                        timeout=30, markup=False)
        if self._initial is not None:
            self.open_mission(self._initial)
        self._check_size()

    def on_resize(self) -> None:
        self._check_size()

    def _check_size(self) -> None:
        from descent_tui.tui.screens.too_small import TooSmallScreen

        small = self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT
        if small and not isinstance(self.screen, TooSmallScreen):
            self.push_screen(TooSmallScreen(MIN_WIDTH, MIN_HEIGHT))
        elif not small and isinstance(self.screen, TooSmallScreen):
            self.pop_screen()

    # ----------------------------------------------------------------- missions
    def open_mission(self, target: Any) -> None:
        """Open a mission: a LoadedScenario, an id or a file path."""
        from descent_tui.scenario.errors import ScenarioError

        loaded = target
        if isinstance(target, (str, Path)):
            from descent_tui.scenario.catalog import find

            try:
                loaded = find(target, self.extra_paths)
            except ScenarioError as e:
                self.notify(clean("\n".join(e.problems[:5])), title="Cannot open mission",
                            severity="error", timeout=15, markup=False)
                return
        if getattr(self.classroom, "lock_knobs", False):
            from descent_tui.classroom import locked

            loaded = locked(loaded)
        from descent_tui.tui.screens.loading import LoadingScreen

        # the simulation is built off the UI thread; the loading screen then opens it
        self.push_screen(LoadingScreen(loaded))

    def open_mission_from_palette(self, target: Any) -> None:
        """Open a mission from anywhere: back to the board first (a mission being
        flown is left as escape leaves it), then open ``target``."""
        from descent_tui.tui.screens.select import SelectScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, SelectScreen):
            self.screen.workers.cancel_group(self.screen, "train")
            self.pop_screen()
        self.open_mission(target)

    def open_lab(self, mission: Any = None) -> None:
        """Open the Lab: its default setup, or a network ``mission`` (LoadedScenario) to tinker with."""
        from descent_tui.scenario.lab import from_scenario, left_behind
        from descent_tui.tui.screens.lab import LabScreen

        config = base_dir = None
        if mission is not None and mission.spec.network is not None:
            config, base_dir = from_scenario(mission.spec), mission.base_dir
            dropped = left_behind(mission.spec)
            if dropped:
                self.notify(clean(f"The Lab has no controls for: {', '.join(dropped)}."),
                            title=clean(mission.spec.title), timeout=6, markup=False)
        elif mission is not None:
            self.notify("That mission is a landscape; the Lab builds networks. Default setup.",
                        timeout=5)
        self.push_screen(LabScreen(config, base_dir))

    def save_progress(self) -> None:
        if self.progress is None:
            return
        if not self.progress.save() and self.progress.notice:
            self.notify(clean(self.progress.notice), severity="warning", markup=False)

    # ----------------------------------------------------------------- the classroom
    def mission_on_screen(self) -> Any:
        """The mission screen being flown (it may be under the inspector or help), or None."""
        mission = sys.modules.get("descent_tui.tui.screens.mission")
        if mission is None:
            return None
        for screen in reversed(self.screen_stack):
            if isinstance(screen, mission.MissionScreen):
                return screen
        return None

    def _clock_tick(self) -> None:
        """Count the time spent in the open mission; save it now and then."""
        screen = self.mission_on_screen()
        mission_id = None if screen is None or self.progress is None else screen.spec.id
        spent, due = self._clock.tick(mission_id)
        if mission_id is not None and spent:
            self.progress.add_seconds(mission_id, spent)
        if due:
            self.save_progress()

    def action_take_home(self) -> None:
        """Download the student's own progress (JSON) and the current run (CSV)."""
        from descent_tui.tui.take_home import progress_text, run_csv

        if self.progress is None:
            return
        who = self.call_sign or "progress"
        self.deliver_text(io.StringIO(progress_text(self.progress)),
                          save_filename=f"descent-{who}-progress.json", mime_type="application/json")
        screen = self.mission_on_screen()
        what = "your progress"
        if screen is not None:
            with screen._lock:
                table = run_csv(screen.sim)
            self.deliver_text(io.StringIO(table), save_filename=f"descent-{who}-{screen.spec.id}.csv",
                              mime_type="text/csv")
            what += " and this run's CSV"
        self.notify(f"Delivering {what}.", title="Take work home", timeout=4)

    # ----------------------------------------------------------------- actions
    def action_help(self) -> None:
        from descent_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT.name if self.theme == DARK.name else DARK.name

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Toggle light/dark console", "Switch between vector-prime themes",
                            self.action_toggle_theme)
        yield SystemCommand("Help: keys of this screen", "List every key binding",
                            self.action_help)
        yield SystemCommand("Open the Lab", "Free play: build any small network on any data set",
                            self.open_lab)
        # every key of the current screen, so the palette explains them all
        seen: set[str] = set()
        for binding in getattr(screen, "BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.description in seen:
                continue
            seen.add(binding.description)
            keys = binding.key_display or binding.key
            help_text = binding.tooltip or binding.description

            def run(action: str = binding.action) -> None:
                self.call_later(screen.run_action, action)

            yield SystemCommand(f"{binding.description}  [{keys}]", help_text, run)


class MissionClock:
    """Seconds spent in a mission, from the app's one-second ticks.

    :meth:`tick` gets the id of the mission on screen (or None) and returns the
    seconds to count for it since the last tick (capped at :attr:`MAX_GAP`, so a
    suspended laptop does not count its sleep) and whether a save is due (every
    :attr:`SAVE_EVERY` counted seconds, and when the mission is left).
    """

    MAX_GAP = 5.0
    SAVE_EVERY = 30.0

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.mission: str | None = None
        self.unsaved = 0.0

    def tick(self, mission: str | None) -> tuple[float, bool]:
        now = time.monotonic()
        spent = min(now - self.last, self.MAX_GAP) if mission and mission == self.mission else 0.0
        left = self.mission is not None and mission != self.mission and self.unsaved > 0
        self.last, self.mission = now, mission
        self.unsaved += spent
        due = left or self.unsaved >= self.SAVE_EVERY
        if due:
            self.unsaved = 0.0
        return spent, due


def run_app(initial: Any = None, extra_paths: Sequence[str | Path] = (),
            classroom: Any = None) -> int:
    """Run the app (``descent`` / ``descent ID|FILE``); returns an exit status.

    An uncaught error ends the app with Textual's return code 1 (and its traceback
    printed): that is the exit status then, never 0.
    """
    app = DescentApp(initial=initial, extra_paths=extra_paths, classroom=classroom)
    result = app.run()
    if app.progress is not None:
        app.progress.save()
    if app.return_code:
        return int(app.return_code)
    return int(result or 0)
