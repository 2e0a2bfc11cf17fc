"""Shared fixtures: no test ever reads or writes the real user data directory."""

import pytest


@pytest.fixture
def descent_home(tmp_path, monkeypatch):
    """A private data directory (DESCENT_HOME) for progress and user scenarios."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DESCENT_HOME", str(home))
    return home


@pytest.fixture
def missions(request, tmp_path, monkeypatch):
    """A private 'shipped' directory holding the test module's ``MISSION_FILES``
    (copied from tests/missions/), so app tests never depend on the shipped missions.

    App tests also take every step in the foreground: the screen sends a step it
    expects to be slow to a worker, and on a loaded machine that guess would turn
    ``action_step(15)`` into steps still running when the test presses its next key.
    A test of the worker path sets ``STEP_IN_WORKER_S`` itself."""
    from _tui_helpers import install_missions

    monkeypatch.setattr("descent_tui.tui.screens.mission.STEP_IN_WORKER_S", float("inf"))
    return install_missions(tmp_path / "missions", monkeypatch, request.module.MISSION_FILES)
