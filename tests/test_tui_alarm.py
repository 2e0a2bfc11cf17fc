"""The divergence alarm: its text follows the diverged runs, and a frame that changes
nothing about them lays nothing out (the alarm is redrawn on every frame)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from descent_tui.tui.widgets.status import Alarm


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield Alarm(id="alarm")


def test_alarm_text_follows_the_runs_and_repeats_lay_nothing_out() -> None:
    async def main() -> None:
        app = _One()
        async with app.run_test(size=(60, 5)) as pilot:
            alarm = app.query_one(Alarm)
            alarm.show(["too large: loss inf"])
            await pilot.pause()
            assert alarm.display and "too large" in str(alarm.render())
            layouts = alarm._layout_updates
            for _ in range(5):  # the same runs, frame after frame
                alarm.show(["too large: loss inf"])
                await pilot.pause()
            assert alarm._layout_updates == layouts
            alarm.show(["too large: loss inf", "on the edge: loss nan"])
            await pilot.pause()
            assert "on the edge" in str(alarm.render())
            alarm.show([])  # a reset: nothing diverged
            await pilot.pause()
            assert not alarm.has_class("-on")
            alarm.show(["too large: loss inf"])  # and again after the reset
            await pilot.pause()
            assert alarm.has_class("-on") and "on the edge" not in str(alarm.render())

    asyncio.run(main())
