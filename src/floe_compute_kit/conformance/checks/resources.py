"""Checks: resources (to be written)."""
