"""Gradient clipping (being written)."""
