"""Screens of the Descent app, one per module."""
