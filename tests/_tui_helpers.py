"""Helpers for the app's Pilot tests."""

import asyncio
import functools


def asyncrun(fn):
    """Run an async test with asyncio.run (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
