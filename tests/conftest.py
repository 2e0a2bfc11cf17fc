"""Shared fixtures: no test ever reads or writes the real user data directory."""

import pytest


@pytest.fixture
def descent_home(tmp_path, monkeypatch):
    """A private data directory (DESCENT_HOME) for progress and user scenarios."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DESCENT_HOME", str(home))
    return home
