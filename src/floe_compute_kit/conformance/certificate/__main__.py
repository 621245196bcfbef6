"""Write (or, with ``--check``, compare) the shipped certificate.schema.json from the model.

python -m floe_compute_kit.conformance.certificate          # regenerate
python -m floe_compute_kit.conformance.certificate --check  # exit 1 when stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from floe_compute_kit._atomic import write_atomic
from floe_compute_kit.conformance.certificate._model import json_schema

#: The shipped schema, beside the conformance package's modules.
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "certificate.schema.json"


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m floe_compute_kit.conformance.certificate")
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    wanted = schema_text()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    if args.check:
        if current != wanted:
            print(f"{SCHEMA_FILE} is stale; run: scripts/regenerate-schema", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        write_atomic(SCHEMA_FILE, wanted, lock=False)  # a lock file would land in src/
        print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
