"""Helpers for the app's Pilot and snapshot tests.

The app's tests never read the shipped missions in ``scenarios/`` for what they
draw: they install private copies from ``tests/missions/`` as the "shipped" set,
so that a teacher editing a shipped mission cannot change a test's outcome.
"""

import asyncio
import functools
import shutil
from pathlib import Path

#: the private test missions (TOML files named ``<id>.toml``)
MISSIONS = Path(__file__).resolve().parent / "missions"


def asyncrun(fn):
    """Run an async test with asyncio.run (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def install_missions(directory, monkeypatch, names):
    """Make ``directory`` the shipped mission set, holding the test missions ``names``.

    Each name is a file in ``tests/missions/`` (e.g. ``"tiny-bowl.toml"``).
    """
    from descent_tui.scenario import catalog

    directory.mkdir()
    for name in names:
        shutil.copyfile(MISSIONS / name, directory / name)
    monkeypatch.setattr(catalog, "shipped_dir", lambda: directory)
    return directory


def rendered_text(widget) -> str:
    """What a Static widget shows, as plain text (Rich renderables printed 200 wide)."""
    import io

    from rich.console import Console

    content = widget.render()
    renderable = getattr(content, "_renderable", None)
    if renderable is None:
        return str(content)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def skip_predictions(screen):
    """Lock a mission screen's predictions as they are, so that a step or run starts
    without the "predict first?" prompt (tests about other things than the quiz)."""
    from descent_tui.tui.widgets.quiz_panel import QuizPanel

    screen.query_one(QuizPanel).lock_predictions(announce=False)


async def press_while_busy(pilot, key: str, done, seconds: float = 10.0) -> None:
    """Press the one-character ``key`` while the app trains, then wait until ``done()``.

    ``Pilot.press`` waits after each key for the process to go idle (up to a second,
    twice), which an app training at full speed never does: two seconds a key spent
    waiting for nothing. Here the key goes in as the terminal sends it, and the test
    waits only for what the key should do."""
    from textual import events

    app = pilot.app
    key_event = events.Key(key, key)
    key_event.set_sender(app)
    app.post_message(key_event)
    for _ in range(int(seconds / 0.01)):
        await asyncio.sleep(0.01)
        if done():
            return
    raise AssertionError(f"key {key!r} not answered within {seconds} s")
