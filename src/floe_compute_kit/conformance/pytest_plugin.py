"""pytest11 entry point of the conformance kit (kept thin and lazy)."""
