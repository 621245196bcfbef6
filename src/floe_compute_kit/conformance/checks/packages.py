"""Checks: packages (to be written)."""
