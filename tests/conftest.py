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
    (copied from tests/missions/), so app tests never depend on the shipped missions."""
    from _tui_helpers import install_missions

    return install_missions(tmp_path / "missions", monkeypatch, request.module.MISSION_FILES)
