"""Checks: robustness (to be written)."""
