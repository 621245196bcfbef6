"""Checks: iceberg (to be written)."""
