"""`floe-conformance`: list, report, verify, replay, vendor, init."""

def main(argv: list[str] | None = None) -> int:
    raise SystemExit("floe-conformance: not implemented yet")
