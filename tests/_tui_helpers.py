"""Helpers for the app's Pilot tests."""

import asyncio
import functools


def asyncrun(fn):
    """Run an async test with asyncio.run (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def install_missions(directory, monkeypatch, files):
    """Make ``directory`` the shipped mission set, holding ``files`` (name -> TOML text)."""
    from descent_tui.scenario import catalog

    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    monkeypatch.setattr(catalog, "shipped_dir", lambda: directory)
    return directory
