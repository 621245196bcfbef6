"""Checks: profile (to be written)."""
