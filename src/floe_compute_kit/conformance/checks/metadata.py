"""Checks: metadata (to be written)."""
