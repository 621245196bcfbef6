"""Checks: catalog (to be written)."""
