"""Checks: integration (to be written)."""
