"""A zoo of deliberately broken plugins: each breaks one contract clause (see plugins.py)."""
