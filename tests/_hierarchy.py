"""Sample manifest.yaml / floe.yaml texts and a writer, shared by the multi-compute tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

ENTERPRISE = """\
scope: enterprise
name: acme
compute:
  approved: [duckdb, duckdb_alt, spark]
  default: duckdb
"""

DOMAIN = """\
scope: domain
name: sales
parent: ../enterprise/manifest.yaml
compute:
  approved: [duckdb, duckdb_alt]
  default: duckdb
"""

PRODUCT = """\
name: orders
domain: ../sales/manifest.yaml
transforms:
  - {name: a, path: models/a}
  - {name: b, path: models/b, compute: duckdb_alt}
  - {name: c, path: models/c}
  - {name: d, path: models/d}
environments: {dev: {}, staging: {}, prod: {}}
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def tree(
    root: Path, *, enterprise: str = ENTERPRISE, domain: str = DOMAIN, product: str = PRODUCT
) -> Path:
    write(root, "enterprise/manifest.yaml", enterprise)
    write(root, "sales/manifest.yaml", domain)
    return write(root, "orders/floe.yaml", product)
