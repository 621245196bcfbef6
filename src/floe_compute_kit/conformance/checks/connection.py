"""Checks: connection (to be written)."""
