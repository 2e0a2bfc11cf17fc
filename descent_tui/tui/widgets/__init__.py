"""Widgets of the Descent app. They display simulation records; they never train."""
