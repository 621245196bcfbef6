"""Run one command against a throwaway PostgreSQL server on loopback.

    python -m floe_compute_kit.conformance.services postgres -- COMMAND [ARGS...]

The server's FLOE_POSTGRES_HOST/PORT/USER/DBNAME/PASSWORD are exported to COMMAND
(what the postgres plugin's live-target hook reads); the server is stopped and deleted
when COMMAND exits, and its exit code is returned.
"""

from __future__ import annotations

import os
import subprocess
import sys

from floe_compute_kit.conformance.services.postgres import postgres_server

_USAGE = "usage: python -m floe_compute_kit.conformance.services postgres -- COMMAND [ARGS...]"


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "postgres" or argv[1] != "--":
        print(_USAGE, file=sys.stderr)
        return 2
    with postgres_server() as pg:
        env = {**os.environ, **pg.env()}
        return subprocess.run(argv[2:], env=env, check=False).returncode  # noqa: S603 - the user's own command


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
