"""`floe-compute`: compile, health, plugins."""


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("floe-compute: not implemented yet")
